/**
 * Time and issuer claims (SPEC §4). Pure: the clock is an argument.
 * RFC 7519 §4.1.4: the token is valid only *before* `exp`; skew extends every bound by the same leeway.
 */
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
