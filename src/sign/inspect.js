// @ts-check
/**
 * Offline inspection of a playback token: every check the gate makes (SPEC §4), each with its
 * verdict and the gate reason it would answer, for `signet inspect` and for debugging.
 *
 * DUPLICATION, deliberately: these checks mirror src/token/jws.ts (parse), verify.ts (key and
 * signature), claims.ts (time, issuer, lifetime) and binding.ts (asset binding). Those are
 * TypeScript, and Node 20 cannot import .ts without a build step (no --experimental-strip-types
 * before Node 22.6), while the CLI must run unbuilt. test/node/inspect-parity.test.ts runs one table
 * of tokens through both and fails when the reasons differ, so a change to the gate that is not
 * made here is caught.
 *
 * Pure apart from the signature check (WebCrypto via jose): the JWKS and the clock are arguments.
 */
import { compactVerify, importJWK } from 'jose';

/** SPEC §4, LIMITS.maxTokenBytes. */
const MAX_TOKEN_BYTES = 8 * 1024;
const ALGORITHMS = ['RS256', 'ES256', 'EdDSA'];
const BASE64URL = /^[A-Za-z0-9_-]+$/;
const BASE64URL_OR_EMPTY = /^[A-Za-z0-9_-]*$/;
const KID = /^[\x21-\x7e]{1,256}$/;
const CLASS_NAMES = { v: 'video (playlists and segments)', t: 'thumbnail', g: 'animated gif', s: 'storyboard' };
/** What a JWK without `alg` can be used for, as the gate's key import decides (src/keys/algorithms.ts JWK_SHAPE). */
const JWK_ALGORITHM = (/** @type {Record<string, unknown>} */ jwk) =>
  jwk.kty === 'RSA' ? 'RS256' : jwk.kty === 'EC' && jwk.crv === 'P-256' ? 'ES256' : jwk.kty === 'OKP' && jwk.crv === 'Ed25519' ? 'EdDSA' : undefined;

class Refusal extends Error {
  /** @param {string} reason @param {string} detail */
  constructor(reason, detail) {
    super(detail);
    this.reason = reason;
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Unpadded, canonical base64url only (src/token/jws.ts base64UrlDecode). @param {string} segment */
function base64UrlDecode(segment) {
  if (segment.length % 4 === 1 || segment.includes('=')) throw new Refusal('token_malformed', 'not valid base64url');
  const padded = segment + '='.repeat((4 - (segment.length % 4)) % 4);
  const binary = atob(padded.replace(/-/g, '+').replace(/_/g, '/'));
  if (btoa(binary).replace(/\+/g, '-').replace(/\//g, '_') !== padded) throw new Refusal('token_malformed', 'not canonical base64url (padding bits set)');
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

/** Whether a JSON text repeats a member name in one object (src/token/jws.ts hasDuplicateMember). @param {string} json */
function hasDuplicateMember(json) {
  /** @type {Array<Set<string> | null>} */
  const objects = [];
  let expectName = false;
  for (let i = 0; i < json.length; i++) {
    const c = json[i];
    if (c === '"') {
      let end = i + 1;
      while (json[end] !== '"') end += json[end] === '\\' ? 2 : 1;
      if (expectName) {
        const raw = json.slice(i + 1, end);
        const name = raw.includes('\\') ? JSON.parse(`"${raw}"`) : raw;
        const names = /** @type {Set<string>} */ (objects[objects.length - 1]);
        if (names.has(name)) return true;
        names.add(name);
        expectName = false;
      }
      i = end;
    } else if (c === '{') {
      objects.push(new Set());
      expectName = true;
    } else if (c === '[') {
      objects.push(null);
      expectName = false;
    } else if (c === '}' || c === ']') {
      objects.pop();
      expectName = false;
    } else if (c === ',') {
      expectName = objects[objects.length - 1] != null;
    }
  }
  return false;
}

/** @param {string} segment @param {'header' | 'payload'} part @returns {Record<string, unknown>} */
function decodeJsonObject(segment, part) {
  let text;
  let value;
  try {
    text = utf8.decode(base64UrlDecode(segment));
    value = JSON.parse(text);
  } catch {
    throw new Refusal('token_malformed', `the ${part} is not base64url-encoded JSON`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Refusal('token_malformed', `the ${part} is not a JSON object`);
  if (hasDuplicateMember(text)) throw new Refusal('token_malformed', `the ${part} repeats a member name`);
  return value;
}

/** @param {number} seconds */
const iso = (seconds) => (Math.abs(seconds * 1000) <= 8.64e15 ? new Date(seconds * 1000).toISOString().replace('.000Z', 'Z') : String(seconds));

/**
 * @param {Record<string, unknown>} payload
 * @param {'aud' | 'sub'} claim
 * @returns {string[]}
 */
function stringList(payload, claim) {
  const value = payload[claim];
  if (value === undefined) return [];
  if (typeof value === 'string') return [value];
  if (Array.isArray(value) && value.length <= 64 && value.every((item) => typeof item === 'string')) return value;
  throw new Refusal('token_malformed', `"${claim}" must be a string or an array of strings`);
}

/**
 * Checks a token as the gate would, without the gate. Returns every check with its verdict; `reason`
 * is the first failure in the gate's order — the reason the gate would answer.
 *
 * @example
 * const report = await inspectPlaybackToken(token, { jwks, playbackId: 'demo', resourceClass: 'v' });
 * if (!report.ok) console.log(report.reason); // e.g. 'token_expired'
 *
 * @param {string} token
 * @param {import('./inspect').InspectOptions} [options]
 * @returns {Promise<import('./inspect').InspectReport>}
 */
export async function inspectPlaybackToken(token, options = {}) {
  const { jwks, playbackId, resourceClass = 'v', clockSkewSeconds = 30, issuer = '', maxTokenLifetimeSeconds = 0 } = options;
  const now = (options.nowMs ?? Date.now()) / 1000;
  /** @type {import('./inspect').Check[]} */
  const checks = [];
  /** @type {Record<string, unknown>} */
  let header = {};
  /** @type {Record<string, unknown>} */
  let payload = {};
  const pass = (/** @type {string} */ name, /** @type {string} */ detail) => checks.push({ name, status: 'pass', detail });
  const skip = (/** @type {string} */ name, /** @type {string} */ detail) => checks.push({ name, status: 'skip', detail });
  const fail = (/** @type {string} */ name, /** @type {string} */ reason, /** @type {string} */ detail) => checks.push({ name, status: 'fail', reason, detail });
  const report = () => {
    const failed = checks.find((c) => c.status === 'fail');
    return { header, payload, checks, ok: !failed, ...(failed && { reason: failed.reason }) };
  };
  /** Runs one check; a Refusal fails it. @param {string} name @param {() => string} fn */
  const attempt = (name, fn) => {
    try {
      pass(name, fn());
      return true;
    } catch (error) {
      if (!(error instanceof Refusal)) throw error;
      fail(name, error.reason, error.message);
      return false;
    }
  };

  // 1. The JWS layer (jws.ts parseJws): nothing else can be read if this fails.
  let parts = /** @type {string[]} */ ([]);
  const parsed = attempt('format', () => {
    if (typeof token !== 'string') throw new Refusal('token_malformed', 'the token is not a string');
    if (token.length > MAX_TOKEN_BYTES) throw new Refusal('token_too_large', `${token.length} bytes; the gate refuses tokens over ${MAX_TOKEN_BYTES}`);
    parts = token.split('.');
    if (parts.length !== 3) throw new Refusal('token_malformed', `${parts.length} segment(s); a compact JWS has three, separated by dots`);
    if (!BASE64URL.test(parts[0]) || !BASE64URL_OR_EMPTY.test(parts[1]) || !BASE64URL.test(parts[2])) throw new Refusal('token_malformed', 'an empty segment or characters outside base64url');
    header = decodeJsonObject(parts[0], 'header');
    return `compact JWS, ${token.length} bytes`;
  });
  if (!parsed) return report();
  // RFC 8725 §3.1: the algorithm comes from an allowlist, never from the token alone.
  if (!attempt('algorithm', () => {
    if (typeof header.alg !== 'string' || !ALGORITHMS.includes(header.alg)) throw new Refusal('algorithm_not_allowed', `alg ${JSON.stringify(header.alg)} is not one of ${ALGORITHMS.join(', ')}`);
    return `alg ${header.alg} (allowed: ${ALGORITHMS.join(', ')})`;
  })) return report();
  // RFC 7515 §4.1.11: signet understands no extension.
  if (!attempt('critical headers', () => {
    if ('crit' in header || 'b64' in header) throw new Refusal('token_malformed', '"crit" or "b64" header present; the gate refuses them');
    return 'no "crit" or "b64" header';
  })) return report();
  // 2. The signature segment's encoding, the payload and the kid (jws.ts parseJws, parseToken).
  if (!attempt('payload', () => {
    try {
      base64UrlDecode(parts[2]);
    } catch {
      throw new Refusal('token_malformed', 'the signature segment is not canonical base64url');
    }
    payload = decodeJsonObject(parts[1], 'payload');
    return 'a JSON object';
  })) return report();
  let kid = '';
  if (!attempt('kid', () => {
    const headerKid = header.kid;
    const payloadKid = payload.kid;
    if (headerKid !== undefined && typeof headerKid !== 'string') throw new Refusal('token_malformed', 'the header "kid" is not a string');
    if (payloadKid !== undefined && typeof payloadKid !== 'string') throw new Refusal('token_malformed', 'the payload "kid" is not a string');
    if (headerKid !== undefined && payloadKid !== undefined && headerKid !== payloadKid) throw new Refusal('token_malformed', 'the header and payload carry different "kid" values');
    const found = headerKid ?? payloadKid;
    if (found === undefined) throw new Refusal('token_malformed', 'no "kid" in the header or the payload');
    if (!KID.test(found)) throw new Refusal('key_unknown', 'the "kid" is not a valid key id');
    kid = found;
    return `${kid} (in the ${headerKid !== undefined && payloadKid !== undefined ? 'header and payload' : headerKid !== undefined ? 'header' : 'payload'})`;
  })) return report();

  // 3. Key and signature (verify.ts). Offline, a JWKS stands in for the gate's key store.
  if (!jwks) {
    skip('key', 'not checked: no JWKS given');
    skip('signature', 'not checked: no JWKS given');
  } else {
    const keys = Array.isArray(jwks.keys) ? jwks.keys : [];
    const jwk = keys.find((k) => k && k.kid === kid);
    if (!jwk) fail('key', 'key_unknown', `no key with kid ${kid} in the JWKS (deleted, expired, never created, or another deployment)`);
    else {
      const keyAlg = typeof jwk.alg === 'string' ? jwk.alg : JWK_ALGORITHM(jwk);
      // RFC 8725 §3.1: the key decides the algorithm.
      if (keyAlg !== header.alg) fail('key', 'algorithm_not_allowed', `the token says ${header.alg} but key ${kid} is ${keyAlg ?? 'not a usable key'}`);
      else {
        pass('key', `${kid}: ${jwk.kty}${jwk.crv ? ` ${jwk.crv}` : ''}, ${keyAlg} (the JWKS carries no key expiry: key_expired is not checked offline)`);
        try {
          const { d: _private, ...publicJwk } = jwk;
          await compactVerify(token, await importJWK({ ...publicJwk, alg: keyAlg }, keyAlg), { algorithms: [keyAlg] });
          pass('signature', `verifies with ${kid}`);
        } catch {
          fail('signature', 'signature_invalid', `does not verify with ${kid}: the token was altered, or signed with another key`);
        }
      }
    }
  }

  // 4. Time, issuer and lifetime (claims.ts checkClaims), in the gate's order.
  /** @param {'exp' | 'nbf' | 'iat'} claim @returns {number | undefined} */
  const numericDate = (claim) => {
    const value = payload[claim];
    if (value === undefined) return undefined;
    if (typeof value !== 'number' || !Number.isFinite(value)) throw new Refusal('token_malformed', `"${claim}" must be a number of seconds since the epoch`);
    return value;
  };
  const skew = clockSkewSeconds;
  // The gate reads all three before comparing any: a malformed one is token_malformed, whatever the others say.
  if (!attempt('claim types', () => {
    for (const claim of /** @type {const} */ (['exp', 'nbf', 'iat'])) numericDate(claim);
    return 'exp, nbf, iat are numbers where present';
  })) return report();
  attempt('exp', () => {
    const exp = numericDate('exp');
    if (exp === undefined) throw new Refusal('token_malformed', 'no "exp": playback tokens must expire');
    if (now >= exp + skew) throw new Refusal('token_expired', `expired at ${iso(exp)} (${Math.round(now - exp)} s ago; skew ${skew} s)`);
    return `valid until ${iso(exp)} (in ${Math.round(exp - now)} s; skew ${skew} s)`;
  });
  if (payload.nbf !== undefined) {
    attempt('nbf', () => {
      const nbf = /** @type {number} */ (numericDate('nbf'));
      if (now < nbf - skew) throw new Refusal('token_not_yet_valid', `not valid before ${iso(nbf)} (in ${Math.round(nbf - now)} s; skew ${skew} s)`);
      return `valid since ${iso(nbf)}`;
    });
  }
  if (payload.iat !== undefined) {
    attempt('iat', () => {
      const iat = /** @type {number} */ (numericDate('iat'));
      if (iat > now + skew) throw new Refusal('token_not_yet_valid', `issued in the future (${iso(iat)}): the signer's clock is ahead by more than ${skew} s`);
      return `issued ${iso(iat)}`;
    });
  }
  if (issuer) {
    attempt('iss', () => {
      if (payload.iss !== issuer) throw new Refusal('issuer_mismatch', `iss ${JSON.stringify(payload.iss)}, expected ${JSON.stringify(issuer)}`);
      return `iss ${issuer}`;
    });
  }
  if (maxTokenLifetimeSeconds > 0 && typeof payload.exp === 'number') {
    attempt('lifetime', () => {
      const iat = typeof payload.iat === 'number' ? payload.iat : now;
      const lifetime = /** @type {number} */ (payload.exp) - iat;
      if (lifetime > maxTokenLifetimeSeconds) throw new Refusal('token_lifetime_exceeded', `lives ${Math.ceil(lifetime)} s; at most ${maxTokenLifetimeSeconds} s allowed`);
      return `lives ${Math.ceil(lifetime)} s (≤ ${maxTokenLifetimeSeconds} s)`;
    });
  }

  // 5. Asset binding (binding.ts checkAssetBinding).
  if (playbackId === undefined) skip('asset binding', `not checked: no playback ID given (token: ${describeBinding(payload)})`);
  else {
    attempt('asset binding', () => {
      const audiences = stringList(payload, 'aud');
      const subjects = stringList(payload, 'sub');
      if (audiences.includes(`media:${playbackId}`)) return `FastPix dialect: aud "media:${playbackId}" opens every resource of ${playbackId}`;
      if (subjects.includes(playbackId)) {
        if (audiences.includes(resourceClass)) return `Mux dialect: sub "${playbackId}", aud "${resourceClass}" opens its ${CLASS_NAMES[resourceClass]}`;
        throw new Refusal('audience_mismatch', `for ${playbackId}, but aud ${JSON.stringify(payload.aud)} does not open its ${CLASS_NAMES[resourceClass]} (needs "${resourceClass}")`);
      }
      if (audiences.some((aud) => aud.startsWith('media:')) || subjects.length > 0) throw new Refusal('playback_id_mismatch', `issued for ${describeBinding(payload)}, not ${playbackId}`);
      throw new Refusal('audience_mismatch', `names no playback ID: needs aud "media:${playbackId}" (FastPix) or sub "${playbackId}" with aud "${resourceClass}" (Mux)`);
    });
  }
  return report();
}

/** @param {Record<string, unknown>} payload */
function describeBinding(payload) {
  const aud = JSON.stringify(payload.aud);
  return payload.sub !== undefined ? `sub ${JSON.stringify(payload.sub)}, aud ${aud}` : `aud ${aud}`;
}
