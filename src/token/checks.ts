/**
 * The gate's token checks as one ordered list of named checks, each a step of the functions the
 * gate itself runs (jws.ts, verify.ts, claims.ts, binding.ts), in the gate's order. Pure: the key
 * lookup and the clock are passed in (token/ does no I/O).
 *
 * Two ways to run them:
 * - `first-failure`: stop at the first refusal, as the gate does (verifyPlaybackToken then
 *   revocableClaims: same checks, same order, same TokenRefusal);
 * - `all`: run every check whose inputs exist and report each, so a person sees everything wrong
 *   with a token at once (`signet verify`); a check whose input comes from a failed check is
 *   reported as skipped, never guessed.
 *
 * The granularity is that of the functions: `jws` is parseJws (size, the three base64url segments,
 * the header JSON, the algorithm allowlist, no `crit`), `claims` is checkClaims (exp, nbf, iat with
 * skew, issuer, lifetime). Splitting them further would mean restating their rules here.
 */
import { ALGORITHMS } from '../keys/algorithms';
import { checkAssetBinding, RESOURCE_CLASS_NAMES, type ResourceClass } from './binding';
import { checkClaims, revocableClaims, type ClaimPolicy, type RevocableClaims } from './claims';
import { parseJws, parseToken, type ParsedJws, type ParsedToken } from './jws';
import { TokenRefusal } from './refusal';
import { verifyJwsSignature, type KeyLookup, type TokenKey } from './verify';

/** The checks, in the order the gate meets them. */
export const TOKEN_CHECKS = ['jws', 'payload', 'key', 'signature', 'claims', 'binding', 'revocable'] as const;
export type TokenCheckName = (typeof TOKEN_CHECKS)[number];

export type TokenCheckResult =
  | { name: TokenCheckName; status: 'pass'; detail: string }
  | { name: TokenCheckName; status: 'fail'; refusal: TokenRefusal }
  /** Not run: its input came from a failed check, or was not given (no key lookup, no playback ID). */
  | { name: TokenCheckName; status: 'skip'; detail: string };

export interface TokenCheckContext {
  /** Where keys come from (the gate's key cache; a JWKS offline). Absent: key and signature are skipped. */
  lookup?: KeyLookup;
  policy: ClaimPolicy;
  nowMs: number;
  /** The resource asked for. Absent: the asset binding is skipped. */
  target?: { playbackId: string; resourceClass: ResourceClass };
}

export interface TokenChecksReport {
  results: TokenCheckResult[];
  /** The first refusal in the gate's order: what the gate answers. Undefined: no check failed. */
  refusal: TokenRefusal | undefined;
  /** What the checks read, where they got that far. */
  jws?: ParsedJws;
  token?: ParsedToken;
  key?: TokenKey;
  exp?: number;
  revocable?: RevocableClaims;
}

/** What one check reads: the outputs of the checks before it. */
interface State {
  token: string;
  ctx: TokenCheckContext;
  report: TokenChecksReport;
}

interface Check {
  name: TokenCheckName;
  /** Checks whose output this one reads: if one of them did not pass, this one is skipped. */
  needs: readonly TokenCheckName[];
  /** Why it cannot run without an input the caller did not give; undefined: it can run. */
  missing?(ctx: TokenCheckContext): string | undefined;
  /** Throws TokenRefusal to fail; returns what it established, in words. */
  run(state: State): Promise<string> | string;
}

const iso = (seconds: number) => {
  const ms = seconds * 1000;
  return Math.abs(ms) <= 8.64e15 ? new Date(ms).toISOString().replace('.000Z', 'Z') : String(seconds);
};
const inSeconds = (seconds: number) => (seconds >= 0 ? `in ${Math.round(seconds)} s` : `${Math.round(-seconds)} s ago`);

const CHECKS: readonly Check[] = [
  {
    name: 'jws',
    needs: [],
    run({ token, report }) {
      report.jws = parseJws(token);
      return `compact JWS, ${token.length} bytes, alg ${report.jws.alg} (allowed: ${ALGORITHMS.join(', ')}), no "crit"`;
    },
  },
  {
    name: 'payload',
    needs: ['jws'],
    run({ token, report }) {
      // parseToken runs parseJws again (passed above): what it adds is the payload and the kid.
      const parsed = (report.token = parseToken(token));
      const where = [parsed.header.kid !== undefined && 'header', parsed.payload.kid !== undefined && 'payload'].filter(Boolean).join(' and ');
      return `a JSON object; kid ${parsed.kid} (in the ${where})`;
    },
  },
  {
    name: 'key',
    needs: ['payload'],
    missing: (ctx) => (ctx.lookup ? undefined : 'not checked: no key source given'),
    async run({ ctx, report }) {
      const { kid } = report.token!;
      // The lookup may throw (KV unavailable): that error propagates untouched, as in verifySignedToken.
      const key = await ctx.lookup!(kid);
      if (!key) throw new TokenRefusal('key_unknown', 'No signing key with the token\'s "kid" exists (deleted, never created, or from another deployment).');
      report.key = key;
      const expiry = key.expiresAtMs === undefined ? 'no expiry' : `verifies until ${new Date(key.expiresAtMs).toISOString()}`;
      return `${kid}: ${key.algorithm}, ${expiry}`;
    },
  },
  {
    name: 'signature',
    needs: ['jws', 'payload', 'key'],
    async run({ ctx, report }) {
      await verifyJwsSignature(report.jws!, report.key!, ctx.nowMs);
      return `verifies with ${report.token!.kid} (${report.key!.algorithm})`;
    },
  },
  {
    name: 'claims',
    needs: ['payload'],
    run({ ctx, report }) {
      const { payload } = report.token!;
      const { policy } = ctx;
      const now = ctx.nowMs / 1000;
      report.exp = checkClaims(payload, policy, now);
      // Passed: exp is a number, nbf and iat are numbers where present.
      const parts = [`valid until ${iso(report.exp)} (${inSeconds(report.exp - now)}; skew ${policy.clockSkewSeconds} s)`];
      if (typeof payload.nbf === 'number') parts.push(`not before ${iso(payload.nbf)}`);
      if (typeof payload.iat === 'number') parts.push(`issued ${iso(payload.iat)}`);
      parts.push(policy.issuer ? `iss ${policy.issuer}` : 'iss not required');
      parts.push(policy.maxTokenLifetimeSeconds > 0 ? `lifetime ≤ ${policy.maxTokenLifetimeSeconds} s` : 'lifetime not bounded');
      return parts.join('; ');
    },
  },
  {
    name: 'binding',
    needs: ['payload'],
    missing: (ctx) => (ctx.target ? undefined : 'not checked: no playback ID given'),
    run({ ctx, report }) {
      const { playbackId, resourceClass } = ctx.target!;
      const { payload } = report.token!;
      checkAssetBinding(payload, playbackId, resourceClass);
      const fastpix = payload.aud === `media:${playbackId}` || (Array.isArray(payload.aud) && payload.aud.includes(`media:${playbackId}`));
      return fastpix
        ? `FastPix dialect: aud "media:${playbackId}" opens every resource of ${playbackId}`
        : `Mux dialect: sub "${playbackId}", aud "${resourceClass}" opens its ${RESOURCE_CLASS_NAMES[resourceClass]}`;
    },
  },
  {
    name: 'revocable',
    needs: ['payload'],
    run({ report }) {
      const revocable = (report.revocable = revocableClaims(report.token!.payload));
      const named = (['jti', 'sub'] as const).filter((claim) => revocable[claim] !== undefined);
      return named.length ? `a revocation can name its ${named.join(' and ')}` : 'no jti or sub: revocable by its key or by playback ID and time';
    },
  },
];

/**
 * Runs the gate's token checks in the gate's order.
 *
 * @example
 * // As the gate: the first refusal, or none.
 * const { refusal } = await runTokenChecks(token, { lookup, policy, nowMs, target: { playbackId, resourceClass } }, { mode: 'first-failure' });
 * // As `signet verify`: every check, each with its verdict.
 * const { results } = await runTokenChecks(token, { lookup: fromJwks, policy, nowMs }, { mode: 'all' });
 */
export async function runTokenChecks(token: string, ctx: TokenCheckContext, options: { mode: 'first-failure' | 'all' }): Promise<TokenChecksReport> {
  const report: TokenChecksReport = { results: [], refusal: undefined };
  const passed = new Set<TokenCheckName>();
  for (const check of CHECKS) {
    const failedInput = check.needs.find((name) => !passed.has(name));
    const missing = check.missing?.(ctx);
    if (failedInput !== undefined || missing !== undefined) {
      const input = report.results.find((result) => result.name === failedInput);
      const detail = failedInput !== undefined ? `not checked: ${failedInput} ${input?.status === 'fail' ? 'failed' : 'was not checked'}` : missing!;
      report.results.push({ name: check.name, status: 'skip', detail });
      continue;
    }
    try {
      report.results.push({ name: check.name, status: 'pass', detail: await check.run({ token, ctx, report }) });
      passed.add(check.name);
    } catch (error) {
      if (!(error instanceof TokenRefusal)) throw error;
      report.results.push({ name: check.name, status: 'fail', refusal: error });
      report.refusal ??= error;
      if (options.mode === 'first-failure') break;
    }
  }
  return report;
}

