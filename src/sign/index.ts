/**
 * Signing playback tokens for signet, for customer backends (Node ≥ 20, Workers, Deno, Bun),
 * exported as `signet/sign` (built by scripts/build-node.mjs; types generated from this file).
 * Only runtime dependency: jose.
 *
 * The tokens are exactly what the gate verifies (SPEC §4, src/token/), and the limits are the
 * gate's own (src/config.ts, src/keys/algorithms.ts, src/token/binding.ts):
 * - FastPix dialect: payload {kid, aud: "media:P", iat, exp} — every resource class of P.
 * - Mux dialect:     payload {kid, sub: P, aud: "v" | "t" | "g" | "s", exp} — one class of P.
 * - Concurrent-stream limits (issue 16): `climit` / `climitPolicy`, checked by the gate's own
 *   src/sessions/claims.ts, so a limited token the gate would refuse for naming no viewer fails here.
 * Every token made here is parsed by the gate's own parser before it is returned, so a token the
 * gate would refuse as malformed (too large, a kid it cannot read) fails here, where the caller sees why.
 */
import { importPKCS8, SignJWT } from 'jose';
import { ConfigError, DEFAULTS, LIMITS, parseConfig, PLAYBACK_ID, PLAYBACK_ID_GRAMMAR, type Env } from '../config';
import { ALGORITHMS, isAlgorithm, type Algorithm } from '../keys/algorithms';
import { CLIMIT_POLICIES, streamLimitOf, type ClimitPolicy } from '../sessions/claims';
import { RESOURCE_CLASSES, type ResourceClass } from '../token/binding';
import { revocableClaims } from '../token/claims';
import { parsePlaybackPath } from '../gate/path';
import { parseToken } from '../token/jws';
import { TokenRefusal } from '../token/refusal';

export { ALGORITHMS, CLIMIT_POLICIES, RESOURCE_CLASSES };
export type { Algorithm, ClimitPolicy, ResourceClass };

export const DIALECTS = ['fastpix', 'mux'] as const;
export type Dialect = (typeof DIALECTS)[number];
export const KID_LOCATIONS = ['payload', 'header', 'both'] as const;
export type KidLocation = (typeof KID_LOCATIONS)[number];

/**
 * The claims that make the binding, the lifetime and the stream limit: set from the options, never
 * from `claims`. `sub` is the playback ID in the Mux dialect only; a FastPix token opens its asset
 * by `aud` alone, so there `sub` is the caller's (the viewer of a `climit` token, a revocable subject).
 */
const RESERVED_CLAIMS: Record<Dialect, readonly string[]> = {
  fastpix: ['exp', 'kid', 'aud', 'iat', 'climit', 'climitPolicy'],
  mux: ['exp', 'kid', 'aud', 'sub', 'iat', 'climit', 'climitPolicy'],
};
const OPTION_OF_CLAIM: Record<string, string> = { climit: 'climit', climitPolicy: 'climitPolicy' };

/** Stable codes of SigningError. */
export type SigningErrorCode =
  | 'ERR_SIGN_OPTIONS'
  | 'ERR_SIGN_PRIVATE_KEY'
  | 'ERR_SIGN_ALGORITHM'
  | 'ERR_SIGN_KEY_ID'
  | 'ERR_SIGN_PLAYBACK_ID'
  | 'ERR_SIGN_DIALECT'
  | 'ERR_SIGN_RESOURCE_CLASS'
  | 'ERR_SIGN_EXPIRES_IN'
  | 'ERR_SIGN_KID_LOCATION'
  | 'ERR_SIGN_CLAIMS'
  | 'ERR_SIGN_RESERVED_CLAIM'
  | 'ERR_SIGN_CLIMIT'
  | 'ERR_SIGN_TOKEN_TOO_LARGE'
  | 'ERR_SIGN_BASE_URL'
  | 'ERR_SIGN_TOKEN'
  | 'ERR_SIGN_TOKEN_PARAM'
  | 'ERR_SIGN_RESOURCE';

/**
 * Every signing or URL-building failure. Switch on `code` (stable), never on `message`.
 *
 * @example
 * try { await signPlaybackToken(options) } catch (e) {
 *   if (e instanceof SigningError && e.code === 'ERR_SIGN_PRIVATE_KEY') … // wrong secret configured
 * }
 */
export class SigningError extends Error {
  override readonly name = 'SigningError';
  constructor(
    readonly code: SigningErrorCode,
    message: string,
    /** The option at fault, when one is. */
    readonly option?: string,
  ) {
    super(message);
  }
}

export interface SignOptions {
  /** base64 of a PKCS#8 PEM (what the admin API returns), a PKCS#8 PEM, a private CryptoKey, or what importSigningKey returned. */
  privateKey: string | CryptoKey | SigningKey;
  /** The signing key id (`kid`) the admin API returned. */
  keyId: string;
  /** The asset: `[A-Za-z0-9_-]{1,128}`. */
  playbackId: string;
  /** Detected from the key when omitted; when given it must match the key. */
  algorithm?: Algorithm;
  /** 'fastpix' (default): `aud: "media:P"`, opens every resource of P. 'mux': `sub: P`, `aud: resourceClass`. */
  dialect?: Dialect;
  /** Mux dialect only: the class the token opens. Default 'v'. */
  resourceClass?: ResourceClass;
  /** Lifetime in seconds, > 0. Default 3600. */
  expiresIn?: number;
  /**
   * Extra claims (jti, nbf, iss, groups, accessRules, signed image params, the viewer…); exp, kid,
   * aud, iat, climit and climitPolicy are refused (they come from the options), and so is sub in
   * the Mux dialect, where it is the playback ID. In the FastPix dialect `sub` is yours: the viewer.
   */
  claims?: Record<string, unknown>;
  /**
   * Concurrent-stream limit (issue 16): the most playback sessions the token's viewer may have at
   * once, a whole number within the gate's SESSION_LIMITS (src/config.ts). The viewer is the claim
   * the gate's VIEWER_CLAIM names (`sub` by default), which you set in `claims`: a limited token
   * without it is refused here (ERR_SIGN_CLIMIT), as the gate would refuse it (token_malformed).
   * Each token is one session (its `jti`, or a digest of the token): give each player its own token.
   *
   * In the Mux dialect `sub` is the playback ID, which would count every viewer of the asset as one:
   * name the viewer in another claim and say which, e.g. `viewerClaim: 'uid', claims: { uid }`, with
   * the gate deployed with VIEWER_CLAIM = "uid".
   */
  climit?: number;
  /** With `climit`: "refuse" (default) refuses a session beyond the limit; "evict-oldest" admits it and ends the viewer's oldest. */
  climitPolicy?: ClimitPolicy;
  /** The gate's VIEWER_CLAIM (default "sub"): the claim of `claims` that names a `climit` token's viewer. Used only for that check. */
  viewerClaim?: string;
  /** Where `kid` goes. Default 'payload' (what FastPix and Mux do); the gate reads either. */
  kidLocation?: KidLocation;
  /** The signing time, epoch ms. Default Date.now(); for tests. */
  now?: number;
}

export interface PlaybackUrlOptions {
  /** The gate's public base URL, e.g. 'https://play.example.com'; a path in it is kept. */
  baseUrl: string;
  playbackId: string;
  token: string;
  /** 'hls' (/{P}.m3u8, default), 'dash' (/{P}.mpd), or a path under the asset: 'thumbnail.jpg', 'animated.gif', 'storyboard.vtt'… */
  resource?: 'hls' | 'dash' | (string & {});
  /** The gate's TOKEN_QUERY_PARAM. Default 'token'. */
  tokenParam?: string;
}

/** A private key imported once by importSigningKey, with its algorithm. */
export interface SigningKey {
  key: CryptoKey;
  algorithm: Algorithm;
}

// ---------------------------------------------------------------------------------------------
// Keys

/** DER prefixes of the PKCS#8 AlgorithmIdentifier OIDs (RFC 5958 §2): enough to name the key type. */
const OIDS: ReadonlyArray<{ hex: string; kind: string; algorithm: Algorithm | undefined }> = [
  { hex: '06092a864886f70d010101', kind: 'RSA', algorithm: 'RS256' }, // rsaEncryption
  { hex: '06072a8648ce3d0201', kind: 'EC', algorithm: 'ES256' }, // id-ecPublicKey (curve checked below)
  { hex: '06032b6570', kind: 'Ed25519', algorithm: 'EdDSA' }, // id-Ed25519 (RFC 8410)
  { hex: '06032b6571', kind: 'Ed448', algorithm: undefined },
  { hex: '06092a864886f70d01010a', kind: 'RSA-PSS', algorithm: undefined },
];
const P256_OID = '06082a8648ce3d030107';

const toHex = (bytes: Uint8Array) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');

/**
 * A PEM from what a customer has: the admin API's base64-of-PEM, or a PEM (env vars often turn
 * newlines into "\n" literally, which is repaired). Errors never echo the key material.
 */
function pemOf(text: string): { pem: string; der: Uint8Array } {
  let trimmed = text.trim().replace(/\\n/g, '\n');
  if (!trimmed.startsWith('-----BEGIN')) {
    try {
      trimmed = atob(trimmed.replace(/\s+/g, '')).trim();
    } catch {
      // not base64 either: refused below
    }
  }
  if (trimmed.includes('-----BEGIN RSA PRIVATE KEY-----') || trimmed.includes('-----BEGIN EC PRIVATE KEY-----')) {
    throw new SigningError('ERR_SIGN_PRIVATE_KEY', 'The private key is PKCS#1/SEC1; convert it to PKCS#8: openssl pkcs8 -topk8 -nocrypt -in key.pem', 'privateKey');
  }
  if (trimmed.includes('-----BEGIN ENCRYPTED PRIVATE KEY-----')) {
    throw new SigningError('ERR_SIGN_PRIVATE_KEY', 'The private key is encrypted; decrypt it to a plain PKCS#8 PEM first.', 'privateKey');
  }
  if (trimmed.includes('-----BEGIN PUBLIC KEY-----')) {
    throw new SigningError('ERR_SIGN_PRIVATE_KEY', 'This is a public key; signing needs the private key the admin API returned at creation.', 'privateKey');
  }
  const match = /^-----BEGIN PRIVATE KEY-----([A-Za-z0-9+/=\s]+)-----END PRIVATE KEY-----$/.exec(trimmed);
  if (!match) {
    throw new SigningError('ERR_SIGN_PRIVATE_KEY', 'privateKey must be a PKCS#8 PEM ("-----BEGIN PRIVATE KEY-----"), base64 of one (what the admin API returns), or a CryptoKey.', 'privateKey');
  }
  let der: Uint8Array;
  try {
    der = Uint8Array.from(atob(match[1]!.replace(/\s+/g, '')), (c) => c.charCodeAt(0));
  } catch {
    throw new SigningError('ERR_SIGN_PRIVATE_KEY', 'The private key PEM body is not valid base64.', 'privateKey');
  }
  return { pem: trimmed, der };
}

/** The signet algorithm of a PKCS#8 key, read from its AlgorithmIdentifier. */
function algorithmOfPkcs8(der: Uint8Array): Algorithm {
  const head = toHex(der.subarray(0, 40));
  const found = OIDS.find((oid) => head.includes(oid.hex));
  if (!found) throw new SigningError('ERR_SIGN_PRIVATE_KEY', 'The private key is not an RSA, EC P-256 or Ed25519 PKCS#8 key.', 'privateKey');
  if (found.kind === 'EC' && !head.includes(P256_OID)) {
    throw new SigningError('ERR_SIGN_PRIVATE_KEY', 'The EC private key is not on P-256; signet accepts ES256 (P-256) only.', 'privateKey');
  }
  if (!found.algorithm) throw new SigningError('ERR_SIGN_PRIVATE_KEY', `${found.kind} keys are not supported; signet accepts ${ALGORITHMS.join(', ')} (Ed25519).`, 'privateKey');
  return found.algorithm;
}

/** The signet algorithm of a private CryptoKey. */
function algorithmOfCryptoKey(key: CryptoKey): Algorithm {
  if (key.type !== 'private' || !key.usages.includes('sign')) {
    throw new SigningError('ERR_SIGN_PRIVATE_KEY', 'The CryptoKey must be a private key with the "sign" usage.', 'privateKey');
  }
  const params = key.algorithm as { name: string; hash?: { name: string }; namedCurve?: string };
  if (params.name === 'RSASSA-PKCS1-v1_5' && params.hash?.name === 'SHA-256') return 'RS256';
  if (params.name === 'ECDSA' && params.namedCurve === 'P-256') return 'ES256';
  if (params.name === 'Ed25519' || (params.name === 'EdDSA' && params.namedCurve === 'Ed25519')) return 'EdDSA';
  throw new SigningError('ERR_SIGN_PRIVATE_KEY', `A ${params.name} CryptoKey cannot sign ${ALGORITHMS.join(', ')} tokens.`, 'privateKey');
}

/** Whether `value` is what importSigningKey returns (`{ key, algorithm }`), which signPlaybackToken also takes. */
function isImportedKey(value: unknown): value is { key: CryptoKey; algorithm: string } {
  return Boolean(value) && typeof value === 'object' && 'key' in (value as object) && 'algorithm' in (value as object) && !('type' in (value as object));
}

/**
 * Imports a private signing key once, detecting its algorithm. Call it at startup and pass the
 * result (or its `key`) to {@link signPlaybackToken} so each request skips the import.
 *
 * @param privateKey base64 of a PKCS#8 PEM (as the admin API returns it), a PEM, a CryptoKey, or what this function returned
 * @param algorithm when given, must match the key
 * @example
 * const signingKey = await importSigningKey(process.env.SIGNET_PRIVATE_KEY!);
 * const token = await signPlaybackToken({ privateKey: signingKey, keyId, playbackId: 'demo' });
 */
export async function importSigningKey(privateKey: string | CryptoKey | SigningKey, algorithm?: Algorithm): Promise<SigningKey> {
  if (algorithm !== undefined && !isAlgorithm(algorithm)) {
    throw new SigningError('ERR_SIGN_ALGORITHM', `algorithm must be one of ${ALGORITHMS.join(', ')}.`, 'algorithm');
  }
  if (isImportedKey(privateKey)) return importSigningKey(privateKey.key, algorithm ?? (privateKey.algorithm as Algorithm)); // what this function returned
  if (typeof privateKey !== 'string') {
    if (!privateKey || typeof privateKey !== 'object' || !('algorithm' in privateKey) || !('type' in privateKey)) {
      throw new SigningError('ERR_SIGN_PRIVATE_KEY', 'privateKey must be a string (PEM or base64 of one) or a CryptoKey.', 'privateKey');
    }
    const detected = algorithmOfCryptoKey(privateKey);
    if (algorithm && algorithm !== detected) throw new SigningError('ERR_SIGN_ALGORITHM', `algorithm is ${algorithm} but the key is a ${detected} key.`, 'algorithm');
    return { key: privateKey, algorithm: detected };
  }
  const { pem, der } = pemOf(privateKey);
  const detected = algorithmOfPkcs8(der);
  // RFC 8725 §3.1: a key is used with one algorithm; a mismatch is a configuration error, said at once.
  if (algorithm && algorithm !== detected) throw new SigningError('ERR_SIGN_ALGORITHM', `algorithm is ${algorithm} but the key is a ${detected} key.`, 'algorithm');
  try {
    return { key: (await importPKCS8(pem, detected)) as CryptoKey, algorithm: detected };
  } catch {
    throw new SigningError('ERR_SIGN_PRIVATE_KEY', `The private key is not a valid ${detected} PKCS#8 key.`, 'privateKey');
  }
}

// ---------------------------------------------------------------------------------------------
// Tokens

const includes = <T extends string>(list: readonly T[], value: unknown): value is T => typeof value === 'string' && (list as readonly string[]).includes(value);

/**
 * The gate's own parser (src/token/jws.ts) and revocation selectors (claims.ts) on the token just
 * made: what the gate would refuse before looking at the key is refused here, with the option at fault.
 */
function assertGateParses(token: string): void {
  try {
    revocableClaims(parseToken(token).payload);
  } catch (error) {
    if (!(error instanceof TokenRefusal)) throw error;
    if (error.reason === 'token_too_large') {
      throw new SigningError('ERR_SIGN_TOKEN_TOO_LARGE', `The token is ${token.length} bytes; the gate refuses tokens over ${LIMITS.maxTokenBytes} (fewer or smaller claims).`, 'claims');
    }
    if (error.reason === 'key_unknown') {
      throw new SigningError('ERR_SIGN_KEY_ID', `keyId is not a key id the gate reads: ${error.description}`, 'keyId');
    }
    // Only the extra claims can make the gate's parser refuse what the options above allowed (a jti too long to revoke).
    throw new SigningError('ERR_SIGN_CLAIMS', `The gate would refuse this token as ${error.reason}: ${error.description}`, 'claims');
  }
}

/**
 * The gate's own stream-limit rule (src/sessions/claims.ts `streamLimitOf`) on the payload about to
 * be signed: a `climit` out of SESSION_LIMITS, an unknown policy, a policy without a limit, or no
 * viewer in `viewerClaim` is refused here (the gate would answer token_malformed). The gate's rule is
 * also run on parts of the payload, to name the option at fault without restating the rule.
 */
function assertStreamLimit(payload: Record<string, unknown>, viewerClaim: string, dialect: Dialect): void {
  const { climit, climitPolicy } = payload;
  if (climit === undefined && climitPolicy === undefined) return;
  const problem = configProblem('VIEWER_CLAIM', viewerClaim);
  if (problem !== undefined) throw new SigningError('ERR_SIGN_CLIMIT', `viewerClaim is the gate's VIEWER_CLAIM, which ${problem}.`, 'viewerClaim');
  // A viewer set from the options (the Mux `sub` is the playback ID, `aud`, `kid`…) is the same for
  // every viewer of the asset: the limit would count them all as one, which no caller means.
  if (RESERVED_CLAIMS[dialect].includes(viewerClaim)) {
    const what =
      dialect === 'mux' && viewerClaim === 'sub'
        ? 'viewerClaim "sub" is the playback ID in the mux dialect'
        : `viewerClaim "${viewerClaim}" is set from the options, not by you`;
    throw new SigningError(
      'ERR_SIGN_CLIMIT',
      `${what}, the same for every viewer, so the limit would count them all as one: name the viewer in a claim of claims (viewerClaim: 'uid', claims: { uid }) and deploy the gate with VIEWER_CLAIM = that claim.`,
      'viewerClaim',
    );
  }
  const refusal = (part: Record<string, unknown>, claim: string) => {
    try {
      streamLimitOf(part, claim);
      return undefined;
    } catch (error) {
      if (error instanceof TokenRefusal) return error;
      throw error;
    }
  };
  const found = refusal(payload, viewerClaim);
  if (!found) return;
  // With a viewer supplied, what is left to refuse is the limit or its policy; without the policy, the limit.
  const option = !refusal({ climit, climitPolicy, viewer: 'v' }, 'viewer') ? 'claims' : refusal({ climit, viewer: 'v' }, 'viewer') ? 'climit' : 'climitPolicy';
  throw new SigningError('ERR_SIGN_CLIMIT', `The gate would refuse this token as ${found.reason}: ${found.description}`, option);
}

/**
 * Signs a playback token that signet's gate accepts (SPEC §4).
 *
 * @returns a compact JWS
 * @throws {SigningError}
 * @example
 * // FastPix dialect (default): opens every resource of the asset for an hour.
 * const token = await signPlaybackToken({
 *   privateKey: process.env.SIGNET_PRIVATE_KEY!, // base64 PKCS#8 PEM from `POST /v1/iam/signing-keys`
 *   keyId: process.env.SIGNET_KEY_ID!,
 *   playbackId: 'demo',
 * });
 * @example
 * // Mux dialect: a thumbnail-only token, five minutes.
 * const thumb = await signPlaybackToken({ privateKey, keyId, playbackId: 'demo', dialect: 'mux', resourceClass: 't', expiresIn: 300 });
 * @example
 * // At most two screens at once for viewer "ada" (FastPix dialect: the viewer is `sub`).
 * const limited = await signPlaybackToken({ privateKey, keyId, playbackId: 'demo', climit: 2, claims: { sub: 'ada', jti: crypto.randomUUID() } });
 * // Mux dialect (sub is the playback ID): the viewer in another claim, the gate's VIEWER_CLAIM.
 * const mux = await signPlaybackToken({ privateKey, keyId, playbackId: 'demo', dialect: 'mux', climit: 2, viewerClaim: 'uid', claims: { uid: 'ada' } });
 */
export async function signPlaybackToken(options: SignOptions): Promise<string> {
  if (!options || typeof options !== 'object') throw new SigningError('ERR_SIGN_OPTIONS', 'signPlaybackToken takes an options object.');
  const { keyId, playbackId, dialect = 'fastpix', resourceClass = 'v', expiresIn = 3600, claims = {}, kidLocation = 'payload' } = options;
  if (typeof keyId !== 'string' || keyId === '') throw new SigningError('ERR_SIGN_KEY_ID', 'keyId is required: the signing key id the admin API returned.', 'keyId');
  if (typeof playbackId !== 'string' || !PLAYBACK_ID.test(playbackId)) throw new SigningError('ERR_SIGN_PLAYBACK_ID', `playbackId must match ${PLAYBACK_ID_GRAMMAR}.`, 'playbackId');
  if (!includes(DIALECTS, dialect)) throw new SigningError('ERR_SIGN_DIALECT', `dialect must be ${DIALECTS.map((d) => `"${d}"`).join(' or ')}.`, 'dialect');
  if (!includes(RESOURCE_CLASSES, resourceClass)) throw new SigningError('ERR_SIGN_RESOURCE_CLASS', `resourceClass must be ${RESOURCE_CLASSES.map((c) => `"${c}"`).join(', ')}.`, 'resourceClass');
  if (dialect === 'fastpix' && options.resourceClass !== undefined && options.resourceClass !== 'v') {
    // A FastPix token opens every class: a class here would be a silent no-op the caller did not mean.
    throw new SigningError('ERR_SIGN_RESOURCE_CLASS', 'resourceClass applies to the mux dialect; a fastpix token opens every resource of the asset.', 'resourceClass');
  }
  if (typeof expiresIn !== 'number' || !Number.isFinite(expiresIn) || expiresIn <= 0) throw new SigningError('ERR_SIGN_EXPIRES_IN', 'expiresIn must be a positive number of seconds.', 'expiresIn');
  if (!includes(KID_LOCATIONS, kidLocation)) throw new SigningError('ERR_SIGN_KID_LOCATION', `kidLocation must be ${KID_LOCATIONS.map((l) => `"${l}"`).join(', ')}.`, 'kidLocation');
  if (claims === null || typeof claims !== 'object' || Array.isArray(claims)) throw new SigningError('ERR_SIGN_CLAIMS', 'claims must be a plain object.', 'claims');
  for (const name of Object.keys(claims)) {
    if (!RESERVED_CLAIMS[dialect].includes(name)) continue;
    const from = Object.hasOwn(OPTION_OF_CLAIM, name)
      ? `the ${OPTION_OF_CLAIM[name]} option`
      : name === 'sub'
        ? 'playbackId (in the mux dialect "sub" is the playback ID; name a viewer in another claim, with viewerClaim)'
        : 'keyId, playbackId, dialect, resourceClass and expiresIn';
    throw new SigningError('ERR_SIGN_RESERVED_CLAIM', `claims must not set "${name}": it is set from ${from}.`, 'claims');
  }
  const { key, algorithm } = await importSigningKey(options.privateKey, options.algorithm);
  const nowMs = options.now ?? Date.now();
  if (typeof nowMs !== 'number' || !Number.isFinite(nowMs)) throw new SigningError('ERR_SIGN_OPTIONS', 'now must be epoch milliseconds.', 'now');
  const now = Math.floor(nowMs / 1000);

  const payload: Record<string, unknown> = { ...claims };
  if (kidLocation !== 'header') payload.kid = keyId;
  if (dialect === 'fastpix') {
    payload.aud = `media:${playbackId}`;
    payload.iat = now;
  } else {
    payload.sub = playbackId;
    payload.aud = resourceClass;
  }
  payload.exp = now + Math.ceil(expiresIn);
  if (options.climit !== undefined) payload.climit = options.climit;
  if (options.climitPolicy !== undefined) payload.climitPolicy = options.climitPolicy;
  assertStreamLimit(payload, options.viewerClaim ?? DEFAULTS.VIEWER_CLAIM, dialect);
  const header: { alg: Algorithm; typ: string; kid?: string } = { alg: algorithm, typ: 'JWT' };
  if (kidLocation !== 'payload') header.kid = keyId;
  const token = await new SignJWT(payload).setProtectedHeader(header).sign(key);
  assertGateParses(token);
  return token;
}

// ---------------------------------------------------------------------------------------------
// URLs

/** Resource shorthands → the path under the base URL (SPEC §5). */
const MANIFESTS = { hls: '.m3u8', dash: '.mpd' } as const;
const manifestOf = (resource: string) => (Object.hasOwn(MANIFESTS, resource) ? MANIFESTS[resource as keyof typeof MANIFESTS] : undefined);

/**
 * The resource class the gate assigns to a resource (SPEC §5, src/gate/path.ts): what a Mux-dialect
 * token needs in `aud` to open it.
 *
 * @param resource 'hls', 'dash' or a path under the playback ID
 * @example
 * resourceClassFor('thumbnail.jpg') // 't'
 * resourceClassFor('hls')           // 'v'
 */
export function resourceClassFor(resource: string): ResourceClass {
  const manifest = manifestOf(String(resource));
  const parsed = parsePlaybackPath(manifest ? `/P${manifest}` : `/P/${String(resource).replace(/^\/+/, '')}`);
  return parsed.ok ? parsed.path.resourceClass : 'v';
}

/**
 * Whether the gate can be configured with this value of a variable (TOKEN_QUERY_PARAM,
 * VIEWER_CLAIM): the gate's own parser (src/config.ts) decides, so the rule is written once.
 */
function configProblem(variable: 'TOKEN_QUERY_PARAM' | 'VIEWER_CLAIM', value: unknown): string | undefined {
  if (typeof value !== 'string' || value === '') return 'must be a non-empty string';
  try {
    parseConfig({ [variable]: value } as Partial<Env> as Env);
    return undefined;
  } catch (error) {
    if (error instanceof ConfigError) return error.problem;
    throw error;
  }
}

/**
 * The playback URL for a token: `${baseUrl}/${playbackId}.m3u8?token=…` (or `.mpd`, or a resource
 * under the asset such as `thumbnail.jpg`). A path in `baseUrl` is kept (`https://cdn.example.com/video`).
 *
 * @throws {SigningError}
 * @example
 * playbackUrl({ baseUrl: 'https://play.example.com', playbackId: 'demo', token })
 * // → 'https://play.example.com/demo.m3u8?token=eyJ…'
 * playbackUrl({ baseUrl, playbackId: 'demo', token, resource: 'thumbnail.jpg' })
 * // → 'https://play.example.com/demo/thumbnail.jpg?token=eyJ…'
 */
export function playbackUrl({ baseUrl, playbackId, token, resource = 'hls', tokenParam = 'token' }: PlaybackUrlOptions): string {
  let base: URL;
  try {
    base = new URL(String(baseUrl));
  } catch {
    throw new SigningError('ERR_SIGN_BASE_URL', 'baseUrl must be an absolute http(s) URL.', 'baseUrl');
  }
  if (base.protocol !== 'https:' && base.protocol !== 'http:') throw new SigningError('ERR_SIGN_BASE_URL', 'baseUrl must be an absolute http(s) URL.', 'baseUrl');
  if (typeof playbackId !== 'string' || !PLAYBACK_ID.test(playbackId)) throw new SigningError('ERR_SIGN_PLAYBACK_ID', `playbackId must match ${PLAYBACK_ID_GRAMMAR}.`, 'playbackId');
  if (typeof token !== 'string' || token === '') throw new SigningError('ERR_SIGN_TOKEN', 'token is required.', 'token');
  const problem = configProblem('TOKEN_QUERY_PARAM', tokenParam);
  if (problem !== undefined) throw new SigningError('ERR_SIGN_TOKEN_PARAM', `tokenParam is the gate's TOKEN_QUERY_PARAM, which ${problem}.`, 'tokenParam');
  const manifest = manifestOf(String(resource));
  const path = manifest ? `${playbackId}${manifest}` : `${playbackId}/${String(resource).replace(/^\/+/, '')}`;
  // The gate's own path parser: what it would refuse (bad_path) is refused here, where the caller sees why.
  if (!parsePlaybackPath(`/${path}`).ok) {
    throw new SigningError('ERR_SIGN_RESOURCE', 'resource must be "hls", "dash" or a relative path under the playback ID (e.g. "thumbnail.jpg").', 'resource');
  }
  base.pathname = `${base.pathname.replace(/\/+$/, '')}/${path}`;
  base.searchParams.set(tokenParam, token);
  return base.href;
}
