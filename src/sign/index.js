// @ts-check
/**
 * Signing playback tokens for signet, for customer backends (Node ≥ 20 and Workers). Plain ESM
 * JavaScript with types in index.d.ts, so Node runs it without a build step; only dependency: jose.
 *
 * The tokens are exactly what the gate verifies (SPEC §4):
 * - FastPix dialect: payload {kid, aud: "media:P", iat, exp}
 * - Mux dialect:     payload {kid, sub: P, aud: "v" | "t" | "g" | "s", exp}
 */
import { importPKCS8, SignJWT } from 'jose';

export const ALGORITHMS = /** @type {const} */ (['RS256', 'ES256', 'EdDSA']);
export const RESOURCE_CLASSES = /** @type {const} */ (['v', 't', 'g', 's']);
const PLAYBACK_ID = /^[A-Za-z0-9_-]{1,128}$/;
const RESERVED_CLAIMS = ['exp', 'kid', 'aud', 'sub', 'iat'];

/** A signing failure with a stable `code` to switch on. */
export class SigningError extends Error {
  /** @param {string} code @param {string} message */
  constructor(code, message) {
    super(message);
    this.name = 'SigningError';
    this.code = code;
  }
}

/** @param {string} text */
function pemOf(text) {
  const trimmed = text.trim();
  if (trimmed.startsWith('-----BEGIN')) return trimmed;
  try {
    const decoded = atob(trimmed);
    if (decoded.startsWith('-----BEGIN')) return decoded.trim();
  } catch {
    // not base64
  }
  throw new SigningError('ERR_PRIVATE_KEY_FORMAT', 'privateKey must be a PKCS#8 PEM or base64 of one (what the admin API returns).');
}

/**
 * Imports a private key, finding its algorithm when not given.
 * @param {string | CryptoKey} privateKey
 * @param {string | undefined} algorithm
 * @returns {Promise<{ key: CryptoKey, algorithm: 'RS256' | 'ES256' | 'EdDSA' }>}
 */
export async function importSigningKey(privateKey, algorithm) {
  if (algorithm !== undefined && !ALGORITHMS.includes(/** @type {never} */ (algorithm))) {
    throw new SigningError('ERR_ALGORITHM', `algorithm must be one of ${ALGORITHMS.join(', ')}.`);
  }
  if (typeof privateKey !== 'string') {
    const name = privateKey.algorithm.name;
    const detected = name === 'RSASSA-PKCS1-v1_5' ? 'RS256' : name === 'ECDSA' ? 'ES256' : name === 'Ed25519' ? 'EdDSA' : undefined;
    if (!detected || (algorithm && algorithm !== detected)) throw new SigningError('ERR_ALGORITHM', 'The CryptoKey does not match a supported algorithm.');
    return { key: privateKey, algorithm: detected };
  }
  const pem = pemOf(privateKey);
  if (pem.includes('BEGIN RSA PRIVATE KEY')) throw new SigningError('ERR_PRIVATE_KEY_FORMAT', 'PKCS#1 RSA keys are not supported; convert to PKCS#8 (openssl pkcs8 -topk8 -nocrypt).');
  for (const candidate of algorithm ? [algorithm] : ALGORITHMS) {
    try {
      return { key: /** @type {CryptoKey} */ (await importPKCS8(pem, candidate)), algorithm: /** @type {never} */ (candidate) };
    } catch {
      // try the next algorithm
    }
  }
  throw new SigningError('ERR_PRIVATE_KEY_FORMAT', `The private key is not a valid ${algorithm ?? 'RS256, ES256 or EdDSA'} PKCS#8 key.`);
}

/**
 * Signs a playback token that signet's gate accepts.
 *
 * @example
 * const token = await signPlaybackToken({ privateKey: process.env.SIGNET_PRIVATE_KEY, keyId: 'KEY_ID', playbackId: 'demo', expiresIn: 3600 });
 * const url = playbackUrl({ baseUrl: 'https://play.example.com', playbackId: 'demo', token });
 *
 * @param {import('./index').SignOptions} options
 * @returns {Promise<string>}
 */
export async function signPlaybackToken(options) {
  const { keyId, playbackId, dialect = 'fastpix', resourceClass = 'v', expiresIn = 3600, claims = {}, kidLocation = 'payload' } = options;
  if (typeof keyId !== 'string' || keyId === '') throw new SigningError('ERR_KEY_ID', 'keyId is required (the id the admin API returned).');
  if (typeof playbackId !== 'string' || !PLAYBACK_ID.test(playbackId)) throw new SigningError('ERR_PLAYBACK_ID', 'playbackId must match [A-Za-z0-9_-]{1,128}.');
  if (dialect !== 'fastpix' && dialect !== 'mux') throw new SigningError('ERR_DIALECT', 'dialect must be "fastpix" or "mux".');
  if (!RESOURCE_CLASSES.includes(/** @type {never} */ (resourceClass))) throw new SigningError('ERR_RESOURCE_CLASS', 'resourceClass must be v, t, g or s.');
  if (!Number.isFinite(expiresIn) || expiresIn <= 0) throw new SigningError('ERR_EXPIRES_IN', 'expiresIn must be a positive number of seconds.');
  if (!['payload', 'header', 'both'].includes(kidLocation)) throw new SigningError('ERR_KID_LOCATION', 'kidLocation must be payload, header or both.');
  for (const name of Object.keys(claims)) {
    if (RESERVED_CLAIMS.includes(name)) throw new SigningError('ERR_RESERVED_CLAIM', `claims must not set "${name}"; use the options instead.`);
  }
  const { key, algorithm } = await importSigningKey(options.privateKey, options.algorithm);
  const now = Math.floor((options.now ?? Date.now()) / 1000);
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
  payload.exp = now + Math.floor(expiresIn);
  /** @type {{ alg: string, typ: string, kid?: string }} */
  const header = { alg: algorithm, typ: 'JWT' };
  if (kidLocation !== 'payload') header.kid = keyId;
  return new SignJWT(payload).setProtectedHeader(header).sign(key);
}

const RESOURCES = {
  hls: '.m3u8',
  dash: '.mpd',
};

/**
 * The playback URL for a token: `${baseUrl}/${playbackId}.m3u8?token=…` (or .mpd, or a child
 * resource such as "thumbnail.jpg").
 * @param {import('./index').PlaybackUrlOptions} options
 * @returns {string}
 */
export function playbackUrl({ baseUrl, playbackId, token, resource = 'hls', tokenParam = 'token' }) {
  if (!PLAYBACK_ID.test(playbackId)) throw new SigningError('ERR_PLAYBACK_ID', 'playbackId must match [A-Za-z0-9_-]{1,128}.');
  const base = String(baseUrl).replace(/\/+$/, '');
  const path = resource in RESOURCES ? `/${playbackId}${RESOURCES[/** @type {'hls'} */ (resource)]}` : `/${playbackId}/${String(resource).replace(/^\/+/, '')}`;
  return `${base}${path}?${encodeURIComponent(tokenParam)}=${encodeURIComponent(token)}`;
}
