/**
 * The JWK Set document of a remote source (RFC 7517 §5) and what signet accepts from it: public
 * signing keys only, one algorithm per key, key hygiene (SPEC §6, src/keys/hygiene.ts through
 * validatePublicJwk). Pure: no I/O beyond one bounded log line per document.
 */
import { REMOTE_JWKS_LIMITS } from '../../config';
import { isAlgorithm, PRIVATE_JWK_MEMBERS, type Algorithm } from '../algorithms';
import { KeyImportError, validatePublicJwk, type PublicJwk } from '../material';
import { RemoteJwksFetchError } from './errors';
import { logSource } from './log';

/** A validated key as kept in memory and in the KV copy. */
export interface SourceKey {
  kid: string;
  alg: Algorithm;
  jwk: PublicJwk;
}

/** One source's validated set, as fetched and as kept in KV (`jwks:{sha256(url)}`); times in epoch ms. */
export interface JwksCopy {
  url: string;
  fetchedAt: number;
  expiresAt: number;
  keys: SourceKey[];
}

/** RFC 7518 §6: the algorithm a JWK without `alg` can only mean, or undefined when it is not unique. */
function derivedAlgorithm(jwk: Record<string, unknown>): Algorithm | undefined {
  if (jwk.kty === 'RSA') return 'RS256';
  if (jwk.kty === 'EC' && jwk.crv === 'P-256') return 'ES256';
  if (jwk.kty === 'OKP' && jwk.crv === 'Ed25519') return 'EdDSA';
  return undefined;
}

/**
 * Validates a JWK Set document. Keys that signet cannot use for playback tokens are skipped (no
 * kid, `use` other than "sig", another algorithm, duplicate kid); keys that fail key hygiene
 * (SPEC §6, hygiene.ts: weak RSA, EC off the curve, Ed25519 of small order…) are dropped from the
 * set and logged — one line per document, kids and rules only — and never trusted; private
 * material anywhere refuses the whole document: a source that publishes a private key has
 * handed its signing power to everybody.
 */
export function validateJwks(source: string, document: unknown): SourceKey[] {
  if (document === null || typeof document !== 'object' || Array.isArray(document) || !Array.isArray((document as { keys?: unknown }).keys)) {
    throw new RemoteJwksFetchError(source, 'invalid_jwks', 'the document is not a JWK Set ({"keys": [...]})');
  }
  const entries = (document as { keys: unknown[] }).keys;
  const valid = new Map<string, SourceKey>();
  const duplicated = new Set<string>();
  const untrusted: string[] = [];
  for (const entry of entries) {
    if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) continue;
    const jwk = entry as Record<string, unknown>;
    if (PRIVATE_JWK_MEMBERS.some((member) => member in jwk)) {
      throw new RemoteJwksFetchError(source, 'private_key', 'the JWK Set contains private or symmetric key material');
    }
    const kid = jwk.kid;
    if (typeof kid !== 'string' || !/^[\x21-\x7e]+$/.test(kid) || kid.length > REMOTE_JWKS_LIMITS.maxKidLength) continue;
    if (jwk.use !== undefined && jwk.use !== 'sig') continue;
    if (jwk.key_ops !== undefined && !(Array.isArray(jwk.key_ops) && jwk.key_ops.includes('verify'))) continue;
    const alg = jwk.alg === undefined ? derivedAlgorithm(jwk) : isAlgorithm(jwk.alg) ? jwk.alg : undefined;
    if (!alg) continue;
    let publicJwk: PublicJwk;
    try {
      publicJwk = validatePublicJwk(alg, jwk);
    } catch (error) {
      if (!(error instanceof KeyImportError)) throw error;
      untrusted.push(`kid ${JSON.stringify(kid)}: ${error.message}`);
      continue;
    }
    // RFC 7517 §4.5: kids within a set should be distinct; when they are not, refuse both.
    if (valid.has(kid) || duplicated.has(kid)) {
      valid.delete(kid);
      duplicated.add(kid);
      continue;
    }
    valid.set(kid, { kid, alg, jwk: publicJwk });
    if (valid.size > REMOTE_JWKS_LIMITS.maxKeysPerSource) {
      throw new RemoteJwksFetchError(source, 'invalid_jwks', `more than ${REMOTE_JWKS_LIMITS.maxKeysPerSource} usable keys`);
    }
  }
  // Bounded: a hostile document of many bad keys costs one log line, not one per key.
  if (untrusted.length > 0) {
    const shown = untrusted.slice(0, 5).join('; ');
    logSource('jwks_key_dropped', source, untrusted.length > 5 ? `${shown}; and ${untrusted.length - 5} more` : shown);
  }
  return [...valid.values()];
}
