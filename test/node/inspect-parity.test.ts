/**
 * src/sign/inspect.js re-implements the gate's token checks for the CLI (Node 20 cannot import the
 * gate's TypeScript unbuilt). This table runs every token through both — the gate's own
 * verifyPlaybackToken (src/token/, in Node) and inspectPlaybackToken — and requires the same
 * verdict and reason, so the copy cannot drift silently.
 */
import { CompactSign, exportJWK, generateKeyPair, importJWK } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { inspectPlaybackToken } from '../../src/sign/inspect.js';
import { loadGate, type TokenKey } from './gate';

const { verifyPlaybackToken, isRefusal } = await loadGate();

const NOW = Date.UTC(2026, 10, 28, 12, 0, 0); // calendar-safe: both checkers take `now` as an argument; nothing here meets the real clock
const now = NOW / 1000;
const b64 = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

interface Case {
  name: string;
  token: () => Promise<string> | string;
  playbackId?: string;
  resourceClass?: 'v' | 't' | 'g' | 's';
  issuer?: string;
  maxTokenLifetimeSeconds?: number;
  /** null: accepted. */
  reason: string | null;
}

let es: { privateKey: CryptoKey; jwk: Record<string, unknown>; gate: TokenKey };
let rs: { privateKey: CryptoKey; jwk: Record<string, unknown>; gate: TokenKey };

async function makeKey(alg: 'ES256' | 'RS256', kid: string) {
  const pair = await generateKeyPair(alg, { extractable: true });
  const jwk = { ...(await exportJWK(pair.publicKey)), kid, alg, use: 'sig' };
  return { privateKey: pair.privateKey, jwk, gate: { algorithm: alg, key: (await importJWK(jwk, alg)) as CryptoKey, expiresAtMs: undefined } };
}

/** Signs any header and payload (raw JSON text allowed), bypassing every library check. */
async function signed(header: Record<string, unknown>, payload: Record<string, unknown> | string, key = es.privateKey) {
  const bytes = new TextEncoder().encode(typeof payload === 'string' ? payload : JSON.stringify(payload));
  return new CompactSign(bytes).setProtectedHeader(header as never).sign(key);
}
const fastpix = (extra: Record<string, unknown> = {}) => ({ kid: 'es', aud: 'media:demo', iat: now, exp: now + 600, ...extra });

const CASES: Case[] = [
  { name: 'a valid FastPix token', token: () => signed({ alg: 'ES256' }, fastpix()), playbackId: 'demo', reason: null },
  { name: 'FastPix opens a thumbnail', token: () => signed({ alg: 'ES256' }, fastpix()), playbackId: 'demo', resourceClass: 't', reason: null },
  { name: 'kid in the header only', token: () => signed({ alg: 'ES256', kid: 'es' }, { aud: 'media:demo', exp: now + 60 }), playbackId: 'demo', reason: null },
  { name: 'a valid Mux token for its class', token: () => signed({ alg: 'ES256' }, { kid: 'es', sub: 'demo', aud: 't', exp: now + 60 }), playbackId: 'demo', resourceClass: 't', reason: null },
  { name: 'a Mux thumbnail token on video', token: () => signed({ alg: 'ES256' }, { kid: 'es', sub: 'demo', aud: 't', exp: now + 60 }), playbackId: 'demo', resourceClass: 'v', reason: 'audience_mismatch' },
  { name: 'another playback ID', token: () => signed({ alg: 'ES256' }, fastpix()), playbackId: 'other', reason: 'playback_id_mismatch' },
  { name: 'no playback ID at all', token: () => signed({ alg: 'ES256' }, { kid: 'es', exp: now + 60 }), playbackId: 'demo', reason: 'audience_mismatch' },
  { name: 'aud of the wrong type', token: () => signed({ alg: 'ES256' }, fastpix({ aud: 42 })), playbackId: 'demo', reason: 'token_malformed' },
  { name: 'expired beyond the skew', token: () => signed({ alg: 'ES256' }, fastpix({ exp: now - 31 })), playbackId: 'demo', reason: 'token_expired' },
  { name: 'expired within the skew', token: () => signed({ alg: 'ES256' }, fastpix({ exp: now - 29 })), playbackId: 'demo', reason: null },
  { name: 'nbf in the future', token: () => signed({ alg: 'ES256' }, fastpix({ nbf: now + 120 })), playbackId: 'demo', reason: 'token_not_yet_valid' },
  { name: 'iat in the future', token: () => signed({ alg: 'ES256' }, fastpix({ iat: now + 120 })), playbackId: 'demo', reason: 'token_not_yet_valid' },
  { name: 'no exp', token: () => signed({ alg: 'ES256' }, { kid: 'es', aud: 'media:demo' }), playbackId: 'demo', reason: 'token_malformed' },
  { name: 'exp as a string', token: () => signed({ alg: 'ES256' }, fastpix({ exp: String(now + 60) })), reason: 'token_malformed' },
  { name: 'a malformed nbf beats an expired exp', token: () => signed({ alg: 'ES256' }, fastpix({ exp: now - 600, nbf: 'soon' })), reason: 'token_malformed' },
  { name: 'the wrong issuer', token: () => signed({ alg: 'ES256' }, fastpix({ iss: 'evil' })), issuer: 'https://backend.example', reason: 'issuer_mismatch' },
  { name: 'the right issuer', token: () => signed({ alg: 'ES256' }, fastpix({ iss: 'https://backend.example' })), issuer: 'https://backend.example', reason: null },
  { name: 'a lifetime over the limit', token: () => signed({ alg: 'ES256' }, fastpix({ exp: now + 7200 })), maxTokenLifetimeSeconds: 3600, reason: 'token_lifetime_exceeded' },
  { name: 'HS256', token: () => `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(fastpix())}.${b64('sig')}`, reason: 'algorithm_not_allowed' },
  { name: 'alg none', token: () => `${b64({ alg: 'none' })}.${b64(fastpix())}.${b64('x')}`, reason: 'algorithm_not_allowed' },
  { name: 'a crit header', token: () => signed({ alg: 'ES256', crit: ['exp'] } as never, fastpix()).catch(() => `${b64({ alg: 'ES256', crit: ['x'] })}.${b64(fastpix())}.${b64('s')}`), reason: 'token_malformed' },
  { name: 'kids that disagree', token: () => signed({ alg: 'ES256', kid: 'rs' }, fastpix()), reason: 'token_malformed' },
  { name: 'no kid', token: () => signed({ alg: 'ES256' }, { aud: 'media:demo', exp: now + 60 }), reason: 'token_malformed' },
  { name: 'an unknown kid', token: () => signed({ alg: 'ES256' }, fastpix({ kid: 'deleted' })), reason: 'key_unknown' },
  { name: 'a kid with a space', token: () => signed({ alg: 'ES256' }, fastpix({ kid: 'a b' })), reason: 'key_unknown' },
  { name: 'an ES256 token naming an RS256 key', token: () => signed({ alg: 'ES256' }, fastpix({ kid: 'rs' })), reason: 'algorithm_not_allowed' },
  { name: 'a tampered payload', token: async () => { const [h, , s] = (await signed({ alg: 'ES256' }, fastpix())).split('.'); return `${h}.${b64(fastpix({ aud: 'media:other' }))}.${s}`; }, playbackId: 'other', reason: 'signature_invalid' },
  { name: 'signed by another key of the same kid', token: async () => signed({ alg: 'ES256' }, fastpix(), (await generateKeyPair('ES256')).privateKey), reason: 'signature_invalid' },
  { name: 'a repeated aud member', token: () => signed({ alg: 'ES256' }, `{"kid":"es","aud":"media:other","aud":"media:demo","exp":${now + 60}}`), playbackId: 'demo', reason: 'token_malformed' },
  { name: 'a payload that is not an object', token: () => signed({ alg: 'ES256' }, '[1,2]'), reason: 'token_malformed' },
  { name: 'two segments', token: () => `${b64({ alg: 'ES256' })}.${b64(fastpix())}`, reason: 'token_malformed' },
  { name: 'padding in a segment', token: async () => `${(await signed({ alg: 'ES256' }, fastpix()))}=`, reason: 'token_malformed' },
  { name: 'non-canonical base64url', token: async () => { const [h, p, s] = (await signed({ alg: 'ES256' }, fastpix())).split('.'); const last = s!.at(-1)!; const bumped = 'AEIMQUYcgkosw048'.includes(last) ? String.fromCharCode(last.charCodeAt(0) + 1) : last; return `${h}.${p}.${s!.slice(0, -1)}${bumped}`; }, reason: 'token_malformed' },
  { name: 'over 8 KiB', token: () => signed({ alg: 'ES256' }, fastpix({ padding: 'x'.repeat(8200) })), reason: 'token_too_large' },
];

async function gateReason(token: string, c: Case): Promise<string | null> {
  const keys: Record<string, TokenKey> = { es: es.gate, rs: rs.gate };
  try {
    // The binding check needs a playback ID; without one, check it for the token's own (any passes).
    await verifyPlaybackToken(token, async (kid) => keys[kid] ?? null, { clockSkewSeconds: 30, issuer: c.issuer ?? '', maxTokenLifetimeSeconds: c.maxTokenLifetimeSeconds ?? 0 }, NOW, c.playbackId ?? 'demo', c.resourceClass ?? 'v');
    return null;
  } catch (error) {
    if (isRefusal(error)) return error.reason;
    throw error;
  }
}

beforeAll(async () => {
  es = await makeKey('ES256', 'es');
  rs = await makeKey('RS256', 'rs');
});

describe('signet inspect agrees with the gate', () => {
  for (const c of CASES) {
    it(`${c.name}: ${c.reason ?? 'accepted'}`, async () => {
      const token = await c.token();
      const gate = await gateReason(token, c);
      const report = await inspectPlaybackToken(token, {
        jwks: { keys: [es.jwk, rs.jwk] },
        playbackId: c.playbackId ?? 'demo',
        resourceClass: c.resourceClass ?? 'v',
        issuer: c.issuer ?? '',
        maxTokenLifetimeSeconds: c.maxTokenLifetimeSeconds ?? 0,
        nowMs: NOW,
      });
      expect(gate, 'the gate').toBe(c.reason);
      expect(report.reason ?? null, 'signet inspect').toBe(c.reason);
      expect(report.ok).toBe(c.reason === null);
      // Every failing check explains itself.
      for (const check of report.checks.filter((x) => x.status === 'fail')) expect(check.detail.length).toBeGreaterThan(10);
    });
  }
});
