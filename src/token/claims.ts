/**
 * Time and issuer claims (SPEC §4). Pure: the clock is an argument.
 * RFC 7519 §4.1.4: the token is valid only *before* `exp`; skew extends every bound by the same leeway.
 */
import { LIMITS } from '../config';
import { TokenRefusal } from './refusal';

export interface ClaimPolicy {
  clockSkewSeconds: number;
  /** Empty: `iss` is not checked. */
  issuer: string;
  /** 0: no limit. */
  maxTokenLifetimeSeconds: number;
}

function numericDate(payload: Record<string, unknown>, claim: 'exp' | 'nbf' | 'iat'): number | undefined {
  const value = payload[claim];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new TokenRefusal('token_malformed', `The "${claim}" claim must be a number of seconds since the epoch.`);
  }
  return value;
}

const iso = (seconds: number) => {
  const ms = seconds * 1000;
  return Math.abs(ms) <= 8.64e15 ? new Date(ms).toISOString().replace('.000Z', 'Z') : String(seconds);
};

/** Checks exp, nbf, iat, iss and the lifetime bound. Throws TokenRefusal; returns `exp` on success. */
export function checkClaims(payload: Record<string, unknown>, policy: ClaimPolicy, nowSeconds: number): number {
  const exp = numericDate(payload, 'exp');
  const nbf = numericDate(payload, 'nbf');
  const iat = numericDate(payload, 'iat');
  const skew = policy.clockSkewSeconds;
  if (exp === undefined) throw new TokenRefusal('token_malformed', 'The token has no "exp" claim; playback tokens must expire.');
  if (nowSeconds >= exp + skew) throw new TokenRefusal('token_expired', `The token expired at ${iso(exp)}.`);
  if (nbf !== undefined && nowSeconds < nbf - skew) throw new TokenRefusal('token_not_yet_valid', `The token is not valid before ${iso(nbf)}.`);
  if (iat !== undefined && iat > nowSeconds + skew) throw new TokenRefusal('token_not_yet_valid', `The token was issued in the future (${iso(iat)}).`);
  if (policy.issuer) {
    if (payload.iss !== policy.issuer) throw new TokenRefusal('issuer_mismatch', 'The token "iss" claim does not name this deployment\'s issuer.');
  }
  if (policy.maxTokenLifetimeSeconds > 0) {
    const lifetime = exp - (iat ?? nowSeconds);
    if (lifetime > policy.maxTokenLifetimeSeconds) {
      throw new TokenRefusal('token_lifetime_exceeded', `Tokens may live at most ${policy.maxTokenLifetimeSeconds} s; this one lives ${Math.ceil(lifetime)} s.`);
    }
  }
  return exp;
}

/** What revocations select a token by (SPEC §4 `jti`, issue 11): carried into every grant minted from it. */
export interface RevocableClaims {
  jti?: string;
  sub?: string | string[];
  iat?: number;
}

/**
 * The token's revocation selectors, or a refusal when one could never be matched by a revocation:
 * RFC 7519 §4.1.7 makes `jti` a string, and a numeric `jti` (4242) must not play unrevocably beside
 * the string "4242" a revocation names; a `sub` is a string or an array of strings (Mux dialect),
 * bounded so that it can ride in the grants. Each selector is at most the length a revocation holds.
 */
export function revocableClaims(payload: Record<string, unknown>): RevocableClaims {
  const out: RevocableClaims = {};
  const selector = (claim: 'jti' | 'sub', value: unknown): string => {
    if (typeof value !== 'string') throw new TokenRefusal('token_malformed', `The "${claim}" claim must be a string${claim === 'sub' ? ' or an array of strings' : ''} (RFC 7519 §4.1).`);
    if (value.length > LIMITS.maxRevocationSelectorLength) {
      throw new TokenRefusal('token_malformed', `The "${claim}" claim is longer than ${LIMITS.maxRevocationSelectorLength} characters.`);
    }
    return value;
  };
  if (payload.jti !== undefined) out.jti = selector('jti', payload.jti);
  if (Array.isArray(payload.sub)) {
    out.sub = payload.sub.map((sub) => selector('sub', sub));
    if (JSON.stringify(out.sub).length > LIMITS.maxGrantSubjectBytes) {
      throw new TokenRefusal('token_malformed', `The "sub" array is larger than ${LIMITS.maxGrantSubjectBytes} bytes.`);
    }
  } else if (payload.sub !== undefined) {
    out.sub = selector('sub', payload.sub);
  }
  if (typeof payload.iat === 'number') out.iat = payload.iat;
  return out;
}
