/**
 * Verifying a playback token: parse (jws.ts) → key lookup (passed in: token/ does no I/O) →
 * signature (jose, with the algorithm allowlist bound to the key's own algorithm) → claims →
 * asset binding. Each failure is a TokenRefusal with its SPEC reason.
 */
import { compactVerify, errors as joseErrors } from 'jose';
import type { Algorithm } from '../keys/algorithms';
import { checkAssetBinding, type ResourceClass } from './binding';
import { checkClaims, type ClaimPolicy } from './claims';
import { parseToken } from './jws';
import { TokenRefusal } from './refusal';

/** What the token layer needs of a key; the gate's key cache provides it. */
export interface TokenKey {
  algorithm: Algorithm;
  key: CryptoKey;
  /** Epoch ms at which the key stops verifying, if any. */
  expiresAtMs: number | undefined;
}

export type KeyLookup = (kid: string) => Promise<TokenKey | null>;

export interface VerifiedToken {
  kid: string;
  alg: Algorithm;
  /** Seconds since the epoch. */
  exp: number;
  payload: Record<string, unknown>;
}

/**
 * Verifies the signature and time/issuer claims of a compact JWS playback token.
 * The key lookup may throw (KV unavailable): that error propagates untouched so the gate can fail closed.
 *
 * @example
 * const verified = await verifySignedToken(token, (kid) => keyCache.lookup(env.KEYS, kid, now, ttl), policy, now);
 */
export async function verifySignedToken(token: string, lookup: KeyLookup, policy: ClaimPolicy, nowMs: number): Promise<VerifiedToken> {
  const parsed = parseToken(token);
  const key = await lookup(parsed.kid);
  if (!key) throw new TokenRefusal('key_unknown', 'No signing key with the token\'s "kid" exists (deleted, never created, or from another deployment).');
  if (key.expiresAtMs !== undefined && nowMs >= key.expiresAtMs) {
    throw new TokenRefusal('key_expired', `The signing key expired at ${new Date(key.expiresAtMs).toISOString()}.`);
  }
  // RFC 8725 §3.1: the key decides the algorithm; a token claiming another one is refused before crypto.
  if (parsed.alg !== key.algorithm) {
    throw new TokenRefusal('algorithm_not_allowed', `The token says ${parsed.alg} but its key is ${key.algorithm}.`);
  }
  try {
    await compactVerify(token, key.key, { algorithms: [key.algorithm] });
  } catch (error) {
    if (error instanceof joseErrors.JWSSignatureVerificationFailed) {
      throw new TokenRefusal('signature_invalid', 'The token signature does not verify with its key.');
    }
    throw new TokenRefusal('token_malformed', 'The token could not be verified as a JWS.');
  }
  const exp = checkClaims(parsed.payload, policy, nowMs / 1000);
  return { kid: parsed.kid, alg: parsed.alg, exp, payload: parsed.payload };
}

/** Full playback check: signature, claims, then the asset binding for this request. */
export async function verifyPlaybackToken(
  token: string,
  lookup: KeyLookup,
  policy: ClaimPolicy,
  nowMs: number,
  playbackId: string,
  resourceClass: ResourceClass,
): Promise<VerifiedToken> {
  const verified = await verifySignedToken(token, lookup, policy, nowMs);
  checkAssetBinding(verified.payload, playbackId, resourceClass);
  return verified;
}
