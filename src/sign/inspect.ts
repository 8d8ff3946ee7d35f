/**
 * Offline token inspection, exported as `signet/sign/inspect` and run by `signet inspect|verify`:
 * the gate's own token checks (src/token/checks.ts, mode 'all'), with a JWKS standing in for the
 * gate's key store. Every check is reported with its verdict; `reason` is the first failure in the
 * gate's order, the reason the gate would answer.
 *
 * What offline cannot see: key expiry (a JWKS carries none, so `key_expired` is never reported),
 * revocations and playback policies (they live in the deployment's KV).
 */
import { DEFAULTS } from '../config';
import { statusOf } from '../errors';
import { ALGORITHMS, isAlgorithm, JWK_SHAPE, type Algorithm } from '../keys/algorithms';
import { importVerifyKey, KeyImportError, validatePublicJwk } from '../keys/material';
import type { ResourceClass } from '../token/binding';
import { runTokenChecks, type TokenCheckName } from '../token/checks';
import { base64UrlDecode } from '../token/jws';
import { TokenRefusal, type TokenReason } from '../token/refusal';
import type { TokenKey } from '../token/verify';

export interface InspectOptions {
  /** A JWKS (`{ keys: [...] }`), e.g. the worker's /.well-known/jwks.json. Without it the key and signature are not checked. */
  jwks?: { keys?: unknown[] };
  /** Check the asset binding for this playback ID. */
  playbackId?: string;
  /** The class of the resource requested. Default 'v'. */
  resourceClass?: ResourceClass;
  /** CLOCK_SKEW_SECONDS. Default: the gate's (30). */
  clockSkewSeconds?: number;
  /** ISSUER; empty: not checked. */
  issuer?: string;
  /** MAX_TOKEN_LIFETIME_SECONDS; 0: no limit. */
  maxTokenLifetimeSeconds?: number;
  /** The clock, epoch ms. Default Date.now(). */
  nowMs?: number;
}

export interface Check {
  name: TokenCheckName;
  status: 'pass' | 'fail' | 'skip';
  /** The gate reason (SPEC §2) when status is 'fail'. */
  reason?: TokenReason;
  /** Why it passed, failed or was skipped, in words. */
  detail: string;
}

export interface InspectReport {
  /** The decoded header and payload, where they decode (shown even when a check refuses them). */
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
  checks: Check[];
  ok: boolean;
  /** The first failing check's reason: what the gate would answer. */
  reason?: TokenReason;
  /** The HTTP status the gate answers with that reason (src/errors.ts). */
  status?: number;
  /** Whether a key was found and the signature checked (false without a JWKS). */
  signatureChecked: boolean;
}

/** The algorithm a JWK is for: its `alg`, or what its key type implies (as remote JWKS sources are read). */
function algorithmOf(jwk: Record<string, unknown>): Algorithm | undefined {
  if (jwk.alg !== undefined) return isAlgorithm(jwk.alg) ? jwk.alg : undefined;
  return ALGORITHMS.find((alg) => JWK_SHAPE[alg].kty === jwk.kty && (JWK_SHAPE[alg].crv === undefined || JWK_SHAPE[alg].crv === jwk.crv));
}

/** A key lookup over a JWKS, importing keys as the gate does (key hygiene, then a verify-only CryptoKey). */
function jwksLookup(jwks: { keys?: unknown[] }) {
  const keys = (Array.isArray(jwks.keys) ? jwks.keys : []).filter((k): k is Record<string, unknown> => k !== null && typeof k === 'object' && !Array.isArray(k));
  return async (kid: string): Promise<TokenKey | null> => {
    const matching = keys.filter((k) => k.kid === kid);
    if (matching.length === 0) {
      throw new TokenRefusal('key_unknown', `no key with kid ${kid} in the JWKS (deleted, expired, never created, or another deployment)`);
    }
    // RFC 7517 §4.5: kids within a set should be distinct; the gate refuses a kid its source publishes twice.
    if (matching.length > 1) throw new TokenRefusal('key_unknown', `the JWKS publishes kid ${kid} ${matching.length} times; the gate trusts neither`);
    const jwk = matching[0]!;
    const algorithm = algorithmOf(jwk);
    if (!algorithm) throw new TokenRefusal('key_unknown', `key ${kid} in the JWKS is not a ${ALGORITHMS.join(', ')} key`);
    try {
      return { algorithm, key: await importVerifyKey(algorithm, validatePublicJwk(algorithm, jwk)), expiresAtMs: undefined };
    } catch (error) {
      const why = error instanceof KeyImportError ? error.message : 'WebCrypto cannot import it';
      throw new TokenRefusal('key_unknown', `key ${kid} in the JWKS cannot be trusted (${why}); the gate drops such keys`);
    }
  };
}

/** Best-effort decoding of a segment for display only; the checks decide, this only shows. */
function decodeForDisplay(segment: string | undefined): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(new TextDecoder().decode(base64UrlDecode(segment ?? '')));
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/**
 * Checks a token as the gate would, without the gate, and reports every check with its verdict.
 *
 * @example
 * const report = await inspectPlaybackToken(token, { jwks, playbackId: 'demo', resourceClass: 'v' });
 * if (!report.ok) console.log(report.reason); // e.g. 'token_expired'
 */
export async function inspectPlaybackToken(token: string, options: InspectOptions = {}): Promise<InspectReport> {
  const {
    jwks,
    playbackId,
    resourceClass = 'v',
    clockSkewSeconds = DEFAULTS.CLOCK_SKEW_SECONDS,
    issuer = DEFAULTS.ISSUER,
    maxTokenLifetimeSeconds = DEFAULTS.MAX_TOKEN_LIFETIME_SECONDS,
  } = options;
  if (typeof token !== 'string') throw new TypeError('inspectPlaybackToken takes the token as a string.');
  const report = await runTokenChecks(
    token,
    {
      lookup: jwks ? jwksLookup(jwks) : undefined,
      policy: { clockSkewSeconds, issuer, maxTokenLifetimeSeconds },
      nowMs: options.nowMs ?? Date.now(),
      target: playbackId === undefined ? undefined : { playbackId, resourceClass },
    },
    { mode: 'all' },
  );
  const checks = report.results.map((result): Check => {
    if (result.status === 'fail') return { name: result.name, status: 'fail', reason: result.refusal.reason, detail: result.refusal.description };
    const detail = result.name === 'key' && result.status === 'pass' ? `${result.detail} (a JWKS carries no expiry: key_expired is not checked offline)` : result.detail;
    return { name: result.name, status: result.status, detail };
  });
  const [h, p] = token.split('.');
  const reason = report.refusal?.reason;
  return {
    header: report.jws?.header ?? decodeForDisplay(h),
    payload: report.token?.payload ?? decodeForDisplay(p),
    checks,
    ok: reason === undefined,
    ...(reason !== undefined && { reason, status: statusOf(reason) }),
    signatureChecked: checks.some((check) => check.name === 'signature' && check.status !== 'skip'),
  };
}
