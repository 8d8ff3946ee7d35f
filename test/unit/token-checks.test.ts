/**
 * The gate's token checks as a list (src/token/checks.ts): a table of tokens → which checks fail
 * with which reason when all are run (what `signet verify` reports), and, for every row, the
 * first-failure result against what the gate's own path answers — verifyPlaybackToken, then
 * revocableClaims, as src/gate/index.ts calls them. Both are built from the same functions, so
 * this is evidence of the order and the dependencies, not a parity test between two copies.
 */
import { CompactSign, exportJWK, generateKeyPair, importJWK } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ResourceClass } from '../../src/token/binding';
import { TOKEN_CHECKS, runTokenChecks, type TokenCheckContext, type TokenCheckName } from '../../src/token/checks';
import { revocableClaims, type ClaimPolicy } from '../../src/token/claims';
import { TokenRefusal, type TokenReason } from '../../src/token/refusal';
import { verifyPlaybackToken, type TokenKey } from '../../src/token/verify';

const NOW = Date.UTC(2026, 10, 28, 12, 0, 0); // calendar-safe: the clock is an argument of every check; nothing here meets the real clock
const now = NOW / 1000;
const b64 = (value: unknown) => btoa(typeof value === 'string' ? value : JSON.stringify(value)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');

let es: { privateKey: CryptoKey; gate: TokenKey };
let rs: { privateKey: CryptoKey; gate: TokenKey };
let other: CryptoKey;
beforeAll(async () => {
  const make = async (alg: 'ES256' | 'RS256') => {
    const pair = await generateKeyPair(alg, { extractable: true });
    const key = (await importJWK({ ...(await exportJWK(pair.publicKey)), alg }, alg)) as CryptoKey;
    return { privateKey: pair.privateKey, gate: { algorithm: alg, key, expiresAtMs: undefined } };
  };
  es = await make('ES256');
  rs = await make('RS256');
  other = (await generateKeyPair('ES256')).privateKey;
});

/** Signs any header and payload (raw JSON text allowed), bypassing every library check. */
function signed(header: Record<string, unknown>, payload: Record<string, unknown> | string, key?: CryptoKey) {
  const bytes = new TextEncoder().encode(typeof payload === 'string' ? payload : JSON.stringify(payload));
  return new CompactSign(bytes).setProtectedHeader(header as never).sign(key ?? es.privateKey);
}
const fastpix = (extra: Record<string, unknown> = {}) => ({ kid: 'es', aud: 'media:demo', iat: now, exp: now + 600, ...extra });

interface Row {
  name: string;
  token: () => Promise<string> | string;
  target?: { playbackId: string; resourceClass: ResourceClass };
  policy?: Partial<ClaimPolicy>;
  /** The keys the lookup knows. Default: es and rs, neither expiring. */
  keys?: () => Record<string, TokenKey>;
  /** Mode 'all': each failing check and its reason, in order. Empty: accepted. */
  fails: Array<[TokenCheckName, TokenReason]>;
  /** Mode 'all': checks reported as skipped (beyond `binding` when no target is given). */
  skipped?: TokenCheckName[];
}

const DEMO = { playbackId: 'demo', resourceClass: 'v' } as const;
const ROWS: Row[] = [
  { name: 'a valid FastPix token', token: () => signed({ alg: 'ES256' }, fastpix({ jti: 'session-1' })), target: DEMO, fails: [] },
  { name: 'a FastPix token opens a thumbnail', token: () => signed({ alg: 'ES256' }, fastpix()), target: { playbackId: 'demo', resourceClass: 't' }, fails: [] },
  { name: 'kid in the header only, RS256', token: () => signed({ alg: 'RS256', kid: 'rs' }, { aud: 'media:demo', exp: now + 60 }, rs.privateKey), target: DEMO, fails: [] },
  { name: 'a Mux token for its class', token: () => signed({ alg: 'ES256' }, { kid: 'es', sub: 'demo', aud: 't', exp: now + 60 }), target: { playbackId: 'demo', resourceClass: 't' }, fails: [] },
  { name: 'no target: binding skipped, nothing fails', token: () => signed({ alg: 'ES256' }, fastpix()), fails: [], skipped: ['binding'] },

  // jws (parseJws): nothing after it can run
  { name: 'over 8 KiB', token: () => signed({ alg: 'ES256' }, fastpix({ padding: 'x'.repeat(8200) })), fails: [['jws', 'token_too_large']], skipped: ['payload', 'key', 'signature', 'claims', 'binding', 'revocable'] },
  { name: 'two segments', token: () => `${b64({ alg: 'ES256' })}.${b64(fastpix())}`, fails: [['jws', 'token_malformed']], skipped: ['payload', 'key', 'signature', 'claims', 'binding', 'revocable'] },
  { name: 'padding in a segment', token: async () => `${await signed({ alg: 'ES256' }, fastpix())}=`, fails: [['jws', 'token_malformed']] },
  { name: 'alg none', token: () => `${b64({ alg: 'none' })}.${b64(fastpix())}.${b64('x')}`, fails: [['jws', 'algorithm_not_allowed']] },
  { name: 'HS256', token: () => `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(fastpix())}.${b64('sig')}`, fails: [['jws', 'algorithm_not_allowed']] },
  { name: 'a crit header', token: () => `${b64({ alg: 'ES256', crit: ['x'] })}.${b64(fastpix())}.${b64('s')}`, fails: [['jws', 'token_malformed']] },
  { name: 'a header repeating "alg"', token: () => `${b64('{"alg":"none","alg":"ES256"}')}.${b64(fastpix())}.${b64('s')}`, fails: [['jws', 'token_malformed']] },

  // payload (parseToken): key, signature, claims, binding and revocable read it
  { name: 'a payload that is not an object', token: () => signed({ alg: 'ES256', kid: 'es' }, '[1,2]'), target: DEMO, fails: [['payload', 'token_malformed']], skipped: ['key', 'signature', 'claims', 'binding', 'revocable'] },
  { name: 'a repeated aud member', token: () => signed({ alg: 'ES256' }, `{"kid":"es","aud":"media:other","aud":"media:demo","exp":${now + 60}}`), target: DEMO, fails: [['payload', 'token_malformed']] },
  { name: 'kids that disagree', token: () => signed({ alg: 'ES256', kid: 'rs' }, fastpix()), fails: [['payload', 'token_malformed']] },
  { name: 'no kid', token: () => signed({ alg: 'ES256' }, { aud: 'media:demo', exp: now + 60 }), fails: [['payload', 'token_malformed']] },
  { name: 'a kid with a space', token: () => signed({ alg: 'ES256' }, fastpix({ kid: 'a b' })), fails: [['payload', 'key_unknown']] },

  // key and signature (the lookup, verifyJwsSignature): the payload's own checks still run
  { name: 'an unknown kid', token: () => signed({ alg: 'ES256' }, fastpix({ kid: 'deleted' })), target: DEMO, fails: [['key', 'key_unknown']], skipped: ['signature'] },
  { name: 'an unknown kid, expired too: both reported, the key first', token: () => signed({ alg: 'ES256' }, fastpix({ kid: 'deleted', exp: now - 600, iat: now - 1200 })), target: DEMO, fails: [['key', 'key_unknown'], ['claims', 'token_expired']] },
  { name: 'an expired key', token: () => signed({ alg: 'ES256' }, fastpix()), keys: () => ({ es: { ...es.gate, expiresAtMs: NOW - 1 } }), target: DEMO, fails: [['signature', 'key_expired']] },
  { name: 'an ES256 token naming an RS256 key', token: () => signed({ alg: 'ES256' }, fastpix({ kid: 'rs' })), target: DEMO, fails: [['signature', 'algorithm_not_allowed']] },
  { name: 'signed by another key under the same kid', token: () => signed({ alg: 'ES256' }, fastpix(), other), target: DEMO, fails: [['signature', 'signature_invalid']] },
  {
    name: 'a tampered payload for another asset: the signature and the binding both fail',
    token: async () => {
      const [h, , s] = (await signed({ alg: 'ES256' }, fastpix())).split('.');
      return `${h}.${b64(fastpix({ aud: 'media:premium' }))}.${s}`;
    },
    target: DEMO,
    fails: [['signature', 'signature_invalid'], ['binding', 'playback_id_mismatch']],
  },

  // claims (checkClaims)
  { name: 'expired beyond the skew', token: () => signed({ alg: 'ES256' }, fastpix({ exp: now - 31 })), target: DEMO, fails: [['claims', 'token_expired']] },
  { name: 'expired within the skew', token: () => signed({ alg: 'ES256' }, fastpix({ exp: now - 29 })), target: DEMO, fails: [] },
  { name: 'a skew of 0 makes the same token expired', token: () => signed({ alg: 'ES256' }, fastpix({ exp: now - 29 })), policy: { clockSkewSeconds: 0 }, target: DEMO, fails: [['claims', 'token_expired']] },
  { name: 'nbf in the future', token: () => signed({ alg: 'ES256' }, fastpix({ nbf: now + 120 })), target: DEMO, fails: [['claims', 'token_not_yet_valid']] },
  { name: 'iat in the future', token: () => signed({ alg: 'ES256' }, fastpix({ iat: now + 120 })), target: DEMO, fails: [['claims', 'token_not_yet_valid']] },
  { name: 'no exp', token: () => signed({ alg: 'ES256' }, { kid: 'es', aud: 'media:demo' }), target: DEMO, fails: [['claims', 'token_malformed']] },
  { name: 'a malformed nbf beats an expired exp', token: () => signed({ alg: 'ES256' }, fastpix({ exp: now - 600, nbf: 'soon' })), target: DEMO, fails: [['claims', 'token_malformed']] },
  { name: 'the wrong issuer', token: () => signed({ alg: 'ES256' }, fastpix({ iss: 'evil' })), policy: { issuer: 'https://backend.example' }, target: DEMO, fails: [['claims', 'issuer_mismatch']] },
  { name: 'the right issuer', token: () => signed({ alg: 'ES256' }, fastpix({ iss: 'https://backend.example' })), policy: { issuer: 'https://backend.example' }, target: DEMO, fails: [] },
  { name: 'a lifetime over the limit', token: () => signed({ alg: 'ES256' }, fastpix({ exp: now + 7200 })), policy: { maxTokenLifetimeSeconds: 3600 }, target: DEMO, fails: [['claims', 'token_lifetime_exceeded']] },

  // binding (checkAssetBinding)
  { name: 'another playback ID', token: () => signed({ alg: 'ES256' }, fastpix()), target: { playbackId: 'other', resourceClass: 'v' }, fails: [['binding', 'playback_id_mismatch']] },
  { name: 'a Mux thumbnail token on video', token: () => signed({ alg: 'ES256' }, { kid: 'es', sub: 'demo', aud: 't', exp: now + 60 }), target: DEMO, fails: [['binding', 'audience_mismatch']] },
  { name: 'no playback ID at all', token: () => signed({ alg: 'ES256' }, { kid: 'es', exp: now + 60 }), target: DEMO, fails: [['binding', 'audience_mismatch']] },
  { name: 'aud of the wrong type', token: () => signed({ alg: 'ES256' }, fastpix({ aud: 42 })), target: DEMO, fails: [['binding', 'token_malformed']] },
  { name: 'expired and for another asset: both reported, claims first', token: () => signed({ alg: 'ES256' }, fastpix({ exp: now - 600, iat: now - 1200 })), target: { playbackId: 'other', resourceClass: 'v' }, fails: [['claims', 'token_expired'], ['binding', 'playback_id_mismatch']] },

  // revocable (revocableClaims, which the gate runs after verifyPlaybackToken)
  { name: 'a numeric jti', token: () => signed({ alg: 'ES256' }, fastpix({ jti: 4242 })), target: DEMO, fails: [['revocable', 'token_malformed']] },
  { name: 'a jti too long to revoke', token: () => signed({ alg: 'ES256' }, fastpix({ jti: 'j'.repeat(201) })), target: DEMO, fails: [['revocable', 'token_malformed']] },
];

function contextOf(row: Row): TokenCheckContext & { policy: ClaimPolicy } {
  const keys = row.keys?.() ?? { es: es.gate, rs: rs.gate };
  return {
    lookup: async (kid) => keys[kid] ?? null,
    policy: { clockSkewSeconds: 30, issuer: '', maxTokenLifetimeSeconds: 0, ...row.policy },
    nowMs: NOW,
    target: row.target,
  };
}

/** The gate's path (src/gate/index.ts authorizeToken): verifyPlaybackToken, then the revocation selectors. */
async function gateRefusal(token: string, ctx: ReturnType<typeof contextOf>): Promise<TokenRefusal | undefined> {
  const target = ctx.target ?? { playbackId: 'demo', resourceClass: 'v' as const };
  try {
    const verified = await verifyPlaybackToken(token, ctx.lookup!, ctx.policy, ctx.nowMs, target.playbackId, target.resourceClass);
    revocableClaims(verified.payload);
    return undefined;
  } catch (error) {
    if (error instanceof TokenRefusal) return error;
    throw error;
  }
}

describe('runTokenChecks', () => {
  it.each(ROWS.map((row) => [row.name, row] as const))('%s', async (_name, row) => {
    const token = await row.token();
    const ctx = contextOf(row);

    const all = await runTokenChecks(token, ctx, { mode: 'all' });
    expect(all.results.map((result) => result.name), 'every check is reported, in order').toEqual([...TOKEN_CHECKS]);
    const fails = all.results.flatMap((result) => (result.status === 'fail' ? [[result.name, result.refusal.reason]] : []));
    expect(fails).toEqual(row.fails);
    const skipped = all.results.filter((result) => result.status === 'skip').map((result) => result.name);
    const expectedSkips = row.skipped ?? (row.target ? [] : ['binding']);
    for (const name of expectedSkips) expect(skipped, `${name} is skipped`).toContain(name);
    if (row.skipped) expect(skipped).toEqual(row.skipped);
    expect(all.refusal?.reason).toBe(row.fails[0]?.[1]);

    // The gate's mode: the same first refusal as the gate's own path, and nothing run after it.
    const first = await runTokenChecks(token, ctx, { mode: 'first-failure' });
    if (row.target) {
      const gate = await gateRefusal(token, ctx);
      expect(first.refusal?.reason, 'reason').toBe(gate?.reason);
      expect(first.refusal?.description, 'description').toBe(gate?.description);
    }
    expect(first.refusal).toEqual(all.refusal);
    const stoppedAt = first.results.findIndex((result) => result.status === 'fail');
    expect(first.results.length).toBe(stoppedAt === -1 ? TOKEN_CHECKS.length : stoppedAt + 1);
  });

  it('asks for the key only once the payload names it, and not at all after a parse failure', async () => {
    const asked: string[] = [];
    const ctx: TokenCheckContext = { lookup: async (kid) => (asked.push(kid), es.gate), policy: { clockSkewSeconds: 30, issuer: '', maxTokenLifetimeSeconds: 0 }, nowMs: NOW };
    await runTokenChecks(`${b64({ alg: 'none' })}.${b64(fastpix())}.${b64('x')}`, ctx, { mode: 'all' });
    expect(asked).toEqual([]);
    await runTokenChecks(await signed({ alg: 'ES256' }, fastpix()), ctx, { mode: 'all' });
    expect(asked).toEqual(['es']);
  });

  it('skips key and signature without a lookup, saying why, and still checks the rest', async () => {
    const report = await runTokenChecks(await signed({ alg: 'ES256' }, fastpix({ exp: now - 600, iat: now - 1200 })), { policy: { clockSkewSeconds: 30, issuer: '', maxTokenLifetimeSeconds: 0 }, nowMs: NOW, target: DEMO }, { mode: 'all' });
    expect(report.results.map((result) => [result.name, result.status])).toEqual([
      ['jws', 'pass'],
      ['payload', 'pass'],
      ['key', 'skip'],
      ['signature', 'skip'],
      ['claims', 'fail'],
      ['binding', 'pass'],
      ['revocable', 'pass'],
    ]);
    expect(report.results[2]).toMatchObject({ detail: 'not checked: no key source given' });
    expect(report.results[3]).toMatchObject({ detail: 'not checked: key was not checked' });
  });

  it('lets a failing key store fail closed: its error propagates, it is not a refusal', async () => {
    const down = new Error('KV unavailable');
    const ctx: TokenCheckContext = { lookup: async () => Promise.reject(down), policy: { clockSkewSeconds: 30, issuer: '', maxTokenLifetimeSeconds: 0 }, nowMs: NOW, target: DEMO };
    await expect(runTokenChecks(await signed({ alg: 'ES256' }, fastpix()), ctx, { mode: 'all' })).rejects.toBe(down);
  });

  it('never puts the token into a refusal or a detail', async () => {
    const token = await signed({ alg: 'ES256' }, fastpix({ exp: now - 600 }));
    const report = await runTokenChecks(token, { ...contextOf({ name: '', token: () => token, fails: [] }), target: { playbackId: 'other', resourceClass: 'v' } }, { mode: 'all' });
    const text = JSON.stringify(report.results.map((result) => (result.status === 'fail' ? result.refusal.description : result.detail)));
    for (const segment of token.split('.')) expect(text).not.toContain(segment.slice(0, 24));
  });
});
