// @ts-check
/**
 * Signing playback tokens for signet, for customer backends (Node ≥ 20, Workers, Deno, Bun).
 *
 * Plain ESM JavaScript with hand-written types in index.d.ts, so Node runs it (and the CLI in
 * bin/) without a build step and TypeScript code imports it typed. Only dependency: jose.
 *
 * The tokens are exactly what the gate verifies (SPEC §4, src/token/):
 * - FastPix dialect: payload {kid, aud: "media:P", iat, exp} — every resource class of P.
 * - Mux dialect:     payload {kid, sub: P, aud: "v" | "t" | "g" | "s", exp} — one class of P.
 */
import { importPKCS8, SignJWT } from 'jose';

/** SPEC §4: the algorithms the gate accepts (src/keys/algorithms.ts). */
export const ALGORITHMS = /** @type {const} */ (['RS256', 'ES256', 'EdDSA']);
/** SPEC §4: Mux resource classes — v video, t thumbnail, g animated gif, s storyboard. */
export const RESOURCE_CLASSES = /** @type {const} */ (['v', 't', 'g', 's']);
export const DIALECTS = /** @type {const} */ (['fastpix', 'mux']);
export const KID_LOCATIONS = /** @type {const} */ (['payload', 'header', 'both']);

/** SPEC §5: the playback ID grammar (src/config.ts PLAYBACK_ID). */
const PLAYBACK_ID = /^[A-Za-z0-9_-]{1,128}$/;
/** SPEC §4: the gate refuses longer tokens (LIMITS.maxTokenBytes) — fail here, not at playback. */
const MAX_TOKEN_BYTES = 8 * 1024;
/** Printable ASCII without spaces: what the gate accepts as a kid (src/token/jws.ts). */
const KID = /^[\x21-\x7e]{1,256}$/;
/** The claims that make the binding and the lifetime: set from the options, never from `claims`. */
const RESERVED_CLAIMS = ['exp', 'kid', 'aud', 'sub', 'iat'];
/** A query parameter name the gate can be configured with (src/config.ts PARAM_NAME). */
const PARAM_NAME = /^[A-Za-z0-9_.-]{1,64}$/;

/**
 * Every signing or URL-building failure. Switch on `code` (stable), never on `message`.
 *
 * @example
 * try { await signPlaybackToken(options) } catch (e) {
 *   if (e instanceof SigningError && e.code === 'ERR_SIGN_PRIVATE_KEY') … // wrong secret configured
 * }
 */
export class SigningError extends Error {
  /**
   * @param {import('./index').SigningErrorCode} code
   * @param {string} message
   * @param {string} [option] the option at fault
   */
  constructor(code, message, option) {
    super(message);
    this.name = 'SigningError';
    this.code = code;
    this.option = option;
  }
}

// ---------------------------------------------------------------------------------------------
// Keys

/** DER prefixes of the PKCS#8 AlgorithmIdentifier OIDs (RFC 5958 §2): enough to name the key type. */
const OIDS = /** @type {const} */ ([
  { hex: '06092a864886f70d010101', kind: 'RSA', algorithm: 'RS256' }, // rsaEncryption
  { hex: '06072a8648ce3d0201', kind: 'EC', algorithm: 'ES256' }, // id-ecPublicKey (curve checked below)
  { hex: '06032b6570', kind: 'Ed25519', algorithm: 'EdDSA' }, // id-Ed25519 (RFC 8410)
  { hex: '06032b6571', kind: 'Ed448', algorithm: undefined },
  { hex: '06092a864886f70d01010a', kind: 'RSA-PSS', algorithm: undefined },
]);
const P256_OID = '06082a8648ce3d030107';

/** @param {Uint8Array} bytes */
const toHex = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');

/**
 * A PEM from what a customer has: the admin API's base64-of-PEM, or a PEM (env vars often turn
 * newlines into "\n" literally, which is repaired).
 * @param {string} text
 */
function pemOf(text) {
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
  let der;
  try {
    der = Uint8Array.from(atob(match[1].replace(/\s+/g, '')), (c) => c.charCodeAt(0));
  } catch {
    throw new SigningError('ERR_SIGN_PRIVATE_KEY', 'The private key PEM body is not valid base64.', 'privateKey');
  }
  return { pem: trimmed, der };
}

/**
 * The signet algorithm of a PKCS#8 key, read from its AlgorithmIdentifier.
 * @param {Uint8Array} der
 * @returns {'RS256' | 'ES256' | 'EdDSA'}
 */
function algorithmOfPkcs8(der) {
  const head = toHex(der.subarray(0, 40));
  const found = OIDS.find((oid) => head.includes(oid.hex));
  if (!found) throw new SigningError('ERR_SIGN_PRIVATE_KEY', 'The private key is not an RSA, EC P-256 or Ed25519 PKCS#8 key.', 'privateKey');
  if (found.kind === 'EC' && !head.includes(P256_OID)) {
    throw new SigningError('ERR_SIGN_PRIVATE_KEY', 'The EC private key is not on P-256; signet accepts ES256 (P-256) only.', 'privateKey');
  }
  if (!found.algorithm) throw new SigningError('ERR_SIGN_PRIVATE_KEY', `${found.kind} keys are not supported; signet accepts RS256, ES256 and EdDSA (Ed25519).`, 'privateKey');
  return found.algorithm;
}

/**
 * The signet algorithm of a private CryptoKey.
 * @param {CryptoKey} key
 * @returns {'RS256' | 'ES256' | 'EdDSA'}
 */
function algorithmOfCryptoKey(key) {
  if (key.type !== 'private' || !key.usages.includes('sign')) {
    throw new SigningError('ERR_SIGN_PRIVATE_KEY', 'The CryptoKey must be a private key with the "sign" usage.', 'privateKey');
  }
  const params = /** @type {{ name: string, hash?: { name: string }, namedCurve?: string }} */ (key.algorithm);
  if (params.name === 'RSASSA-PKCS1-v1_5' && params.hash?.name === 'SHA-256') return 'RS256';
  if (params.name === 'ECDSA' && params.namedCurve === 'P-256') return 'ES256';
  if (params.name === 'Ed25519' || (params.name === 'EdDSA' && params.namedCurve === 'Ed25519')) return 'EdDSA';
  throw new SigningError('ERR_SIGN_PRIVATE_KEY', `A ${params.name} CryptoKey cannot sign RS256, ES256 or EdDSA tokens.`, 'privateKey');
}

/**
 * Whether `value` is what importSigningKey returns (`{ key, algorithm }`), which signPlaybackToken
 * also takes as its privateKey.
 * @param {unknown} value
 * @returns {value is { key: CryptoKey, algorithm: string }}
 */
function isImportedKey(value) {
  return Boolean(value) && typeof value === 'object' && 'key' in /** @type {object} */ (value) && 'algorithm' in /** @type {object} */ (value) && !('type' in /** @type {object} */ (value));
}

/**
 * Imports a private signing key once, detecting its algorithm. Call it at startup and pass the
 * result (or its `key`) to {@link signPlaybackToken} so each request skips the import.
 *
 * @example
 * const signingKey = await importSigningKey(process.env.SIGNET_PRIVATE_KEY);
 * const token = await signPlaybackToken({ privateKey: signingKey, keyId, playbackId });
 *
 * @param {string | CryptoKey | { key: CryptoKey, algorithm: string }} privateKey base64 of a PKCS#8 PEM (as the admin API returns it), a PEM, or a CryptoKey
 * @param {string} [algorithm] when given, must match the key
 * @returns {Promise<{ key: CryptoKey, algorithm: 'RS256' | 'ES256' | 'EdDSA' }>}
 */
export async function importSigningKey(privateKey, algorithm) {
  if (algorithm !== undefined && !ALGORITHMS.includes(/** @type {never} */ (algorithm))) {
    throw new SigningError('ERR_SIGN_ALGORITHM', `algorithm must be one of ${ALGORITHMS.join(', ')}.`, 'algorithm');
  }
  if (isImportedKey(privateKey)) return importSigningKey(privateKey.key, algorithm ?? privateKey.algorithm); // what this function returned
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
    return { key: /** @type {CryptoKey} */ (await importPKCS8(pem, detected)), algorithm: detected };
  } catch {
    throw new SigningError('ERR_SIGN_PRIVATE_KEY', `The private key is not a valid ${detected} PKCS#8 key.`, 'privateKey');
  }
}

// ---------------------------------------------------------------------------------------------
// Tokens

/**
 * Signs a playback token that signet's gate accepts (SPEC §4).
 *
 * @example
 * // FastPix dialect (default): opens every resource of the asset for an hour.
 * const token = await signPlaybackToken({
 *   privateKey: process.env.SIGNET_PRIVATE_KEY, // base64 PKCS#8 PEM from `POST /v1/iam/signing-keys`
 *   keyId: process.env.SIGNET_KEY_ID,
 *   playbackId: 'demo',
 * });
 *
 * @example
 * // Mux dialect: a thumbnail-only token, five minutes.
 * const thumb = await signPlaybackToken({ privateKey, keyId, playbackId: 'demo', dialect: 'mux', resourceClass: 't', expiresIn: 300 });
 *
 * @param {import('./index').SignOptions} options
 * @returns {Promise<string>} a compact JWS
 * @throws {SigningError}
 */
export async function signPlaybackToken(options) {
  if (!options || typeof options !== 'object') throw new SigningError('ERR_SIGN_OPTIONS', 'signPlaybackToken takes an options object.');
  const { keyId, playbackId, dialect = 'fastpix', resourceClass = 'v', expiresIn = 3600, claims = {}, kidLocation = 'payload' } = options;
  if (typeof keyId !== 'string' || !KID.test(keyId)) throw new SigningError('ERR_SIGN_KEY_ID', 'keyId is required: the signing key id the admin API returned.', 'keyId');
  if (typeof playbackId !== 'string' || !PLAYBACK_ID.test(playbackId)) throw new SigningError('ERR_SIGN_PLAYBACK_ID', 'playbackId must match [A-Za-z0-9_-]{1,128}.', 'playbackId');
  if (!DIALECTS.includes(/** @type {never} */ (dialect))) throw new SigningError('ERR_SIGN_DIALECT', 'dialect must be "fastpix" or "mux".', 'dialect');
  if (!RESOURCE_CLASSES.includes(/** @type {never} */ (resourceClass))) throw new SigningError('ERR_SIGN_RESOURCE_CLASS', 'resourceClass must be "v", "t", "g" or "s".', 'resourceClass');
  if (dialect === 'fastpix' && options.resourceClass !== undefined && options.resourceClass !== 'v') {
    // A FastPix token opens every class: a class here would be a silent no-op the caller did not mean.
    throw new SigningError('ERR_SIGN_RESOURCE_CLASS', 'resourceClass applies to the mux dialect; a fastpix token opens every resource of the asset.', 'resourceClass');
  }
  if (typeof expiresIn !== 'number' || !Number.isFinite(expiresIn) || expiresIn <= 0) throw new SigningError('ERR_SIGN_EXPIRES_IN', 'expiresIn must be a positive number of seconds.', 'expiresIn');
  if (!KID_LOCATIONS.includes(/** @type {never} */ (kidLocation))) throw new SigningError('ERR_SIGN_KID_LOCATION', 'kidLocation must be "payload", "header" or "both".', 'kidLocation');
  if (claims === null || typeof claims !== 'object' || Array.isArray(claims)) throw new SigningError('ERR_SIGN_CLAIMS', 'claims must be a plain object.', 'claims');
  for (const name of Object.keys(claims)) {
    if (RESERVED_CLAIMS.includes(name)) throw new SigningError('ERR_SIGN_RESERVED_CLAIM', `claims must not set "${name}": it is set from keyId, playbackId, dialect, resourceClass and expiresIn.`, 'claims');
  }
  const { key, algorithm } = await importSigningKey(options.privateKey, options.algorithm);
  const nowMs = options.now ?? Date.now();
  if (typeof nowMs !== 'number' || !Number.isFinite(nowMs)) throw new SigningError('ERR_SIGN_OPTIONS', 'now must be epoch milliseconds.', 'now');
  const now = Math.floor(nowMs / 1000);

  /** @type {Record<string, unknown>} */
  const payload = { ...claims };
  if (kidLocation !== 'header') payload.kid = keyId;
  if (dialect === 'fastpix') {
    payload.aud = `media:${playbackId}`;
    payload.iat = now;
  } else {
    payload.sub = playbackId;
    payload.aud = resourceClass;
  }
  payload.exp = now + Math.ceil(expiresIn);
  /** @type {{ alg: string, typ: string, kid?: string }} */
  const header = { alg: algorithm, typ: 'JWT' };
  if (kidLocation !== 'payload') header.kid = keyId;
  const token = await new SignJWT(payload).setProtectedHeader(header).sign(key);
  if (token.length > MAX_TOKEN_BYTES) {
    throw new SigningError('ERR_SIGN_TOKEN_TOO_LARGE', `The token is ${token.length} bytes; the gate refuses tokens over ${MAX_TOKEN_BYTES} (fewer or smaller claims).`, 'claims');
  }
  return token;
}

// ---------------------------------------------------------------------------------------------
// URLs

/** Resource shorthands → the path under the base URL (SPEC §5). */
const MANIFESTS = { hls: '.m3u8', dash: '.mpd' };

/**
 * The resource class the gate assigns to a resource (SPEC §5, src/gate/path.ts): what a Mux-dialect
 * token needs in `aud` to open it.
 *
 * @example
 * resourceClassFor('thumbnail.jpg') // 't'
 * resourceClassFor('hls')           // 'v'
 *
 * @param {string} resource 'hls', 'dash' or a path under the playback ID
 * @returns {'v' | 't' | 'g' | 's'}
 */
export function resourceClassFor(resource) {
  if (/^thumbnail\.(jpg|png|webp)$/.test(resource)) return 't';
  if (/^animated\.(gif|webp)$/.test(resource)) return 'g';
  if (/^(spritesheet\.(jpg|png|webp)|storyboard\.(vtt|json))$/.test(resource)) return 's';
  return 'v';
}

/**
 * The playback URL for a token: `${baseUrl}/${playbackId}.m3u8?token=…` (or `.mpd`, or a resource
 * under the asset such as `thumbnail.jpg`). A path in `baseUrl` is kept (`https://cdn.example.com/video`).
 *
 * @example
 * playbackUrl({ baseUrl: 'https://play.example.com', playbackId: 'demo', token })
 * // → 'https://play.example.com/demo.m3u8?token=eyJ…'
 * playbackUrl({ baseUrl, playbackId: 'demo', token, resource: 'thumbnail.jpg' })
 * // → 'https://play.example.com/demo/thumbnail.jpg?token=eyJ…'
 *
 * @param {import('./index').PlaybackUrlOptions} options
 * @returns {string}
 * @throws {SigningError}
 */
export function playbackUrl({ baseUrl, playbackId, token, resource = 'hls', tokenParam = 'token' }) {
  let base;
  try {
    base = new URL(String(baseUrl));
  } catch {
    throw new SigningError('ERR_SIGN_BASE_URL', 'baseUrl must be an absolute http(s) URL.', 'baseUrl');
  }
  if (base.protocol !== 'https:' && base.protocol !== 'http:') throw new SigningError('ERR_SIGN_BASE_URL', 'baseUrl must be an absolute http(s) URL.', 'baseUrl');
  if (typeof playbackId !== 'string' || !PLAYBACK_ID.test(playbackId)) throw new SigningError('ERR_SIGN_PLAYBACK_ID', 'playbackId must match [A-Za-z0-9_-]{1,128}.', 'playbackId');
  if (typeof token !== 'string' || token === '') throw new SigningError('ERR_SIGN_TOKEN', 'token is required.', 'token');
  if (typeof tokenParam !== 'string' || !PARAM_NAME.test(tokenParam)) throw new SigningError('ERR_SIGN_TOKEN_PARAM', 'tokenParam must match [A-Za-z0-9_.-]{1,64}.', 'tokenParam');
  let path;
  if (resource === 'hls' || resource === 'dash') path = `${playbackId}${MANIFESTS[resource]}`;
  else {
    const segments = String(resource).replace(/^\/+/, '').split('/');
    // The gate refuses these (bad_path); refuse them here where the caller can see why.
    if (segments.some((s) => s === '' || s === '.' || s === '..' || !/^[A-Za-z0-9\-._~!$&'()*+,;=:@]+$/.test(s))) {
      throw new SigningError('ERR_SIGN_RESOURCE', 'resource must be "hls", "dash" or a relative path under the playback ID (e.g. "thumbnail.jpg").', 'resource');
    }
    path = `${playbackId}/${segments.join('/')}`;
  }
  base.pathname = `${base.pathname.replace(/\/+$/, '')}/${path}`;
  base.searchParams.set(tokenParam, token);
  return base.href;
}
