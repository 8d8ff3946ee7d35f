/**
 * The gate's memos of verified credentials (LIMITS.credentialMemo*): a grant's MAC and a token's
 * signature are checked once per interval per isolate, and everything that depends on the request
 * or the clock is still judged every time. Each test counts the crypto.subtle.verify calls made,
 * and compares the memo's answers with the memo-free functions on the same inputs.
 */
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi, type MockInstance } from 'vitest';
import { LIMITS } from '../../src/config';
import { checkGrant, Grants, mintGrant } from '../../src/gate/grant';
import type { ResourceClass } from '../../src/token/binding';
import { SignatureMemo, verifyPlaybackToken, type TokenKey } from '../../src/token/verify';

const SECRET = 'unit-test-grant-secret-0123456789abcdef';
const NOW_MS = Date.now();
const NOW = Math.floor(NOW_MS / 1000);

let verifies: MockInstance;
beforeEach(() => {
  verifies = vi.spyOn(crypto.subtle, 'verify');
});
afterEach(() => verifies.mockRestore());

describe('Grants', () => {
  it('verifies a grant once, then answers from the memo', async () => {
    const grant = await mintGrant(SECRET, 'P1', { exp: NOW + 600, resourceClass: 'v', kid: 'k1', jti: 'j1' });
    const checker = new Grants([SECRET]);
    for (let i = 0; i < 5; i++) expect(await checker.check(grant, 'P1', 'v', NOW_MS + i * 1000)).toMatchObject({ ok: true, claims: { kid: 'k1', jti: 'j1' } });
    expect(verifies).toHaveBeenCalledTimes(1);
    expect(checker.remembered).toBe(1);
  });

  it.each([
    ['another class', 'P1', 't', 0, 'grant_invalid'],
    ['the expiry instant', 'P1', 'v', 600_000, 'grant_expired'],
    ['after expiry', 'P1', 'v', 3_600_000, 'grant_expired'],
    ['another playback ID (not remembered for it)', 'P2', 'v', 0, 'grant_invalid'],
    ['a playback ID sharing a prefix', 'P', 'v', 0, 'grant_invalid'],
  ] as const)('still refuses a remembered grant for %s, as checkGrant does', async (_name, playbackId, resourceClass, laterMs, reason) => {
    const grant = await mintGrant(SECRET, 'P1', { exp: NOW + 600, resourceClass: 'v', kid: 'k1' });
    const checker = new Grants([SECRET]);
    await checker.check(grant, 'P1', 'v', NOW_MS); // remembered
    const memo = await checker.check(grant, playbackId, resourceClass, NOW_MS + laterMs);
    expect(memo).toMatchObject({ ok: false, reason });
    expect(memo).toEqual(await checkGrant(grant, [SECRET], playbackId, resourceClass, Math.floor((NOW_MS + laterMs) / 1000)));
  });

  it('never remembers a forged or tampered grant: each try is verified again and refused', async () => {
    const grant = await mintGrant(SECRET, 'P1', { exp: NOW + 600, resourceClass: 'v', kid: 'k1' });
    const forged = await mintGrant('another-secret-0123456789abcdef0123', 'P1', { exp: NOW + 600, resourceClass: 'v', kid: 'k1' });
    const tampered = grant.replace(/^./, (c) => (c === 'e' ? 'f' : 'e'));
    const checker = new Grants([SECRET]);
    for (const bad of [forged, tampered, forged, tampered]) expect(await checker.check(bad, 'P1', 'v', NOW_MS)).toMatchObject({ ok: false, reason: 'grant_invalid' });
    expect(checker.remembered).toBe(0);
    expect(verifies).toHaveBeenCalledTimes(4);
  });

  it('verifies again once an entry is older than the memo interval', async () => {
    const grant = await mintGrant(SECRET, 'P1', { exp: NOW + 3600, resourceClass: 'v', kid: 'k1' });
    const checker = new Grants([SECRET]);
    await checker.check(grant, 'P1', 'v', NOW_MS);
    await checker.check(grant, 'P1', 'v', NOW_MS + LIMITS.credentialMemoTtlMs - 1);
    expect(verifies).toHaveBeenCalledTimes(1);
    await checker.check(grant, 'P1', 'v', NOW_MS + LIMITS.credentialMemoTtlMs);
    expect(verifies).toHaveBeenCalledTimes(2);
  });

  it('is bounded: entries, and the length of a grant it remembers', async () => {
    const checker = new Grants([SECRET]);
    for (let i = 0; i < LIMITS.credentialMemoMaxEntries + 20; i++) {
      await checker.check(await mintGrant(SECRET, `P${i}`, { exp: NOW + 600, resourceClass: 'v', kid: 'k1' }), `P${i}`, 'v', NOW_MS);
    }
    expect(checker.remembered).toBe(LIMITS.credentialMemoMaxEntries);
    const long = new Grants([SECRET]);
    const big = await mintGrant(SECRET, 'P1', { exp: NOW + 600, resourceClass: 'v', kid: 'k1', sub: 'x'.repeat(LIMITS.credentialMemoMaxChars) });
    expect(await long.check(big, 'P1', 'v', NOW_MS)).toMatchObject({ ok: true });
    expect(long.remembered).toBe(0);
  });

  it('answers exactly as checkGrant, cold or warm, for any playback ID, class and instant (property)', async () => {
    const grants = await Promise.all(
      (['v', 't'] as const).map((c) => mintGrant(SECRET, 'P1', { exp: NOW + 600, resourceClass: c, kid: 'k1', sub: ['a', 'b'] })),
    );
    const checker = new Grants([SECRET]);
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...grants),
        fc.constantFrom('P1', 'P2', 'P'),
        fc.constantFrom<ResourceClass>('v', 't', 'g', 's'),
        fc.integer({ min: -10_000, max: 1_000_000 }),
        async (grant, playbackId, resourceClass, offsetMs) => {
          const atMs = NOW_MS + offsetMs;
          expect(await checker.check(grant, playbackId, resourceClass, atMs)).toEqual(await checkGrant(grant, [SECRET], playbackId, resourceClass, Math.floor(atMs / 1000)));
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('SignatureMemo', () => {
  const policy = { clockSkewSeconds: 30, issuer: '', maxTokenLifetimeSeconds: 0 };
  const encoder = new TextEncoder();
  const b64url = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  const json = (value: unknown) => b64url(encoder.encode(JSON.stringify(value)));

  async function keyPair(): Promise<{ sign: (payload: object) => Promise<string>; key: TokenKey; reimported: () => Promise<TokenKey> }> {
    const pair = (await crypto.subtle.generateKey({ name: 'Ed25519' }, true, ['sign', 'verify'])) as CryptoKeyPair;
    return {
      key: { algorithm: 'EdDSA', key: pair.publicKey, expiresAtMs: undefined },
      reimported: async () => {
        const jwk = await crypto.subtle.exportKey('jwk', pair.publicKey);
        return { algorithm: 'EdDSA', key: await crypto.subtle.importKey('jwk', jwk, { name: 'Ed25519' }, false, ['verify']), expiresAtMs: undefined };
      },
      sign: async (payload) => {
        const input = `${json({ alg: 'EdDSA', kid: 'k1' })}.${json({ kid: 'k1', ...payload })}`;
        return `${input}.${b64url(new Uint8Array(await crypto.subtle.sign('Ed25519', pair.privateKey, encoder.encode(input))))}`;
      },
    };
  }

  /** The reason a verification was refused with, or "ok". */
  async function verdict(run: Promise<unknown>): Promise<string> {
    try {
      await run;
      return 'ok';
    } catch (error) {
      return (error as { reason?: string }).reason ?? String(error);
    }
  }

  it('verifies a token once under the same key instance, then skips parse and signature', async () => {
    const { sign, key } = await keyPair();
    const token = await sign({ aud: 'media:P1', exp: NOW + 600 });
    const memo = new SignatureMemo();
    for (let i = 0; i < 5; i++) expect(await verdict(verifyPlaybackToken(token, async () => key, policy, NOW_MS, 'P1', 'v', memo))).toBe('ok');
    expect(verifies).toHaveBeenCalledTimes(1);
    expect(memo.remembered).toBe(1);
  });

  it('verifies again when the key lookup returns another key for the kid (an impostor, or a reload)', async () => {
    const signer = await keyPair();
    const impostor = await keyPair();
    const token = await signer.sign({ aud: 'media:P1', exp: NOW + 600 });
    const memo = new SignatureMemo();
    expect(await verdict(verifyPlaybackToken(token, async () => signer.key, policy, NOW_MS, 'P1', 'v', memo))).toBe('ok');
    expect(await verdict(verifyPlaybackToken(token, async () => impostor.key, policy, NOW_MS, 'P1', 'v', memo))).toBe('signature_invalid');
    // The same material imported again (what a key-cache reload makes) is verified again, and passes.
    const reloaded = await signer.reimported();
    expect(await verdict(verifyPlaybackToken(token, async () => reloaded, policy, NOW_MS, 'P1', 'v', memo))).toBe('ok');
    expect(await verdict(verifyPlaybackToken(token, async () => reloaded, policy, NOW_MS, 'P1', 'v', memo))).toBe('ok');
    expect(verifies).toHaveBeenCalledTimes(3);
  });

  it.each([
    ['the key is gone', { aud: 'media:P1' }, 'P1', 'v', 0, 'gone', 'key_unknown'],
    ['the key expired since', { aud: 'media:P1' }, 'P1', 'v', 0, 'expired', 'key_expired'],
    ['the token expired since', { aud: 'media:P1' }, 'P1', 'v', 700_000, 'same', 'token_expired'],
    ['another playback ID', { aud: 'media:P1' }, 'P2', 'v', 0, 'same', 'playback_id_mismatch'],
    ['a class the Mux token does not name', { sub: 'P1', aud: 'v' }, 'P1', 't', 0, 'same', 'audience_mismatch'],
  ] as const)('still refuses a remembered token when %s', async (_name, claims, playbackId, resourceClass, laterMs, keyThen, reason) => {
    const { sign, key } = await keyPair();
    const token = await sign({ ...claims, exp: NOW + 600 });
    const memo = new SignatureMemo();
    expect(await verdict(verifyPlaybackToken(token, async () => key, policy, NOW_MS, 'P1', 'v', memo))).toBe('ok');
    const later = keyThen === 'gone' ? null : keyThen === 'expired' ? { ...key, expiresAtMs: NOW_MS } : key;
    const atMs = NOW_MS + laterMs;
    expect(await verdict(verifyPlaybackToken(token, async () => later, policy, atMs, playbackId, resourceClass, memo))).toBe(reason);
    // …and the memo-free verification says the same.
    expect(await verdict(verifyPlaybackToken(token, async () => later, policy, atMs, playbackId, resourceClass))).toBe(reason);
  });

  it('never remembers a token whose signature fails, and freezes the payload it shares', async () => {
    const { sign, key } = await keyPair();
    const token = await sign({ aud: 'media:P1', exp: NOW + 600 });
    const forged = token.slice(0, -4) + (token.endsWith('AAAA') ? 'BBBB' : 'AAAA');
    const memo = new SignatureMemo();
    for (let i = 0; i < 3; i++) expect(await verdict(verifyPlaybackToken(forged, async () => key, policy, NOW_MS, 'P1', 'v', memo))).toBe('signature_invalid');
    expect(memo.remembered).toBe(0);
    expect(verifies).toHaveBeenCalledTimes(3);
    const verified = await verifyPlaybackToken(token, async () => key, policy, NOW_MS, 'P1', 'v', memo);
    expect(Object.isFrozen(verified.payload)).toBe(true);
  });

  it('does not remember tokens longer than LIMITS.credentialMemoMaxChars', async () => {
    const { sign, key } = await keyPair();
    const token = await sign({ aud: 'media:P1', exp: NOW + 600, pad: 'x'.repeat(LIMITS.credentialMemoMaxChars) });
    const memo = new SignatureMemo();
    expect(await verdict(verifyPlaybackToken(token, async () => key, policy, NOW_MS, 'P1', 'v', memo))).toBe('ok');
    expect(memo.remembered).toBe(0);
  });
});
