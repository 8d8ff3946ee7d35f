/**
 * Verifying a playback token: parse (jws.ts) → key lookup (passed in: token/ does no I/O) →
 * signature (WebCrypto, with the algorithm allowlist bound to the key's own algorithm) → claims →
 * asset binding. Each failure is a TokenRefusal with its SPEC reason.
 *
 * The signature is checked with crypto.subtle.verify on the segments jws.ts already parsed and
 * checked, rather than with jose's compactVerify, which parses the token a second time: on the
 * gate's hot path that second parse cost ~60 % over the bare RS256 verify (bench/). jose still
 * generates and imports every key (keys/material.ts), and the Wycheproof vectors run through this
 * function (test/security).
 */
import { WEBCRYPTO, type Algorithm } from '../keys/algorithms';
import { checkAssetBinding, type ResourceClass } from './binding';
import { checkClaims, type ClaimPolicy } from './claims';
import { LIMITS } from '../config';
import { IsolateCache } from '../isolate-cache';
import { parseToken, type ParsedJws, type ParsedToken } from './jws';
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
export async function verifySignedToken(token: string, lookup: KeyLookup, policy: ClaimPolicy, nowMs: number, memo?: SignatureMemo): Promise<VerifiedToken> {
  const remembered = memo?.recall(token, nowMs);
  const parsed = remembered?.parsed ?? parseToken(token);
  const key = await lookup(parsed.kid);
  if (!key) throw new TokenRefusal('key_unknown', 'No signing key with the token\'s "kid" exists (deleted, never created, or from another deployment).');
  if (remembered?.key === key.key) {
    assertKeyFits(parsed, key, nowMs);
  } else {
    await verifyJwsSignature(parsed, key, nowMs);
    memo?.remember(token, parsed, key.key, nowMs);
  }
  const exp = checkClaims(parsed.payload, policy, nowMs / 1000);
  return { kid: parsed.kid, alg: parsed.alg, exp, payload: parsed.payload };
}

/**
 * The signature layer of the gate, payload-agnostic: the key is still valid, the token's `alg` is
 * the key's own algorithm, and the signature verifies over the segments as sent. verifySignedToken
 * calls it after the key lookup; the Wycheproof JWS vectors (test/security) call it directly, so
 * they exercise exactly the gate's crypto path.
 */
export async function verifyJwsSignature(jws: Pick<ParsedJws, 'alg' | 'signature' | 'signingInput'>, key: TokenKey, nowMs: number): Promise<void> {
  assertKeyFits(jws, key, nowMs);
  await verifySignature(jws.alg, key.key, jws.signature, jws.signingInput);
}

/** The key may still verify (not expired) and is of the token's algorithm: what a signature check needs besides the crypto. */
function assertKeyFits(jws: Pick<ParsedJws, 'alg'>, key: TokenKey, nowMs: number): void {
  if (key.expiresAtMs !== undefined && nowMs >= key.expiresAtMs) {
    throw new TokenRefusal('key_expired', `The signing key expired at ${new Date(key.expiresAtMs).toISOString()}.`);
  }
  // RFC 8725 §3.1: the key decides the algorithm; a token claiming another one is refused before crypto.
  if (jws.alg !== key.algorithm) {
    throw new TokenRefusal('algorithm_not_allowed', `The token says ${jws.alg} but its key is ${key.algorithm}.`);
  }
}

/**
 * Signatures verified in this isolate: token → the parsed token and the CryptoKey it verified
 * under. A signature is a pure function of the token's bytes and the key material, so while the
 * key lookup still returns that same key instance (the key cache replaces the instance when it
 * reloads a key, and drops it when the key is deleted), the token need not be parsed and verified
 * again. Everything else — key expiry and algorithm, claims against the clock, asset binding,
 * revocations — is still checked on every request. Only verified tokens are remembered (a forged
 * token cannot fill the memo); bounded by LIMITS.credentialMemo*.
 */
export class SignatureMemo {
  private readonly memo = new IsolateCache<{ parsed: ParsedToken; key: CryptoKey }>(LIMITS.credentialMemoMaxEntries);

  recall(token: string, nowMs: number): { parsed: ParsedToken; key: CryptoKey } | undefined {
    return this.memo.peek(token, nowMs, LIMITS.credentialMemoTtlMs);
  }

  remember(token: string, parsed: ParsedToken, key: CryptoKey, nowMs: number): void {
    if (token.length > LIMITS.credentialMemoMaxChars) return;
    Object.freeze(parsed.payload); // shared by the requests that recall it
    this.memo.set(token, { parsed, key }, nowMs);
  }

  /** Tokens remembered (tests prove the warm path with it). */
  get remembered(): number {
    return this.memo.size;
  }
}

/** RFC 7518 §3.4 / RFC 8037 §3.1: ES256 and EdDSA signatures are exactly 64 raw bytes (no DER). */
const FIXED_SIGNATURE_BYTES: Partial<Record<Algorithm, number>> = { ES256: 64, EdDSA: 64 };

/**
 * Checks a JWS signature with WebCrypto. The key's algorithm was matched to `alg` before; a
 * signature of the wrong size or one that does not verify is `signature_invalid`.
 */
export async function verifySignature(alg: Algorithm, key: CryptoKey, signature: Uint8Array, signingInput: Uint8Array): Promise<void> {
  const expected = FIXED_SIGNATURE_BYTES[alg];
  if (expected !== undefined && signature.byteLength !== expected) {
    throw new TokenRefusal('signature_invalid', `A ${alg} signature is ${expected} bytes.`);
  }
  let valid: boolean;
  try {
    valid = await crypto.subtle.verify(WEBCRYPTO[alg].verify, key, signature, signingInput);
  } catch {
    valid = false;
  }
  if (!valid) throw new TokenRefusal('signature_invalid', 'The token signature does not verify with its key.');
}

/** Full playback check: signature, claims, then the asset binding for this request. */
export async function verifyPlaybackToken(
  token: string,
  lookup: KeyLookup,
  policy: ClaimPolicy,
  nowMs: number,
  playbackId: string,
  resourceClass: ResourceClass,
  memo?: SignatureMemo,
): Promise<VerifiedToken> {
  const verified = await verifySignedToken(token, lookup, policy, nowMs, memo);
  checkAssetBinding(verified.payload, playbackId, resourceClass);
  return verified;
}
