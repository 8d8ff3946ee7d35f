import { describe, expect, it } from 'vitest';
import { checkGrant, grantExpiry, mintGrant } from '../../src/gate/grant';

const SECRET = 'unit-test-grant-secret-0123456789abcdef';
const PREVIOUS = 'unit-test-previous-secret-0123456789abcdef';
const NOW = 1_800_000_000;

describe('child grants', () => {
  it('opens the playback ID and class it was minted for, until it expires', async () => {
    const grant = await mintGrant(SECRET, 'P1', { exp: NOW + 60, resourceClass: 'v', kid: 'k1', jti: 'j1', iat: NOW - 5 });
    expect(await checkGrant(grant, [SECRET], 'P1', 'v', NOW)).toEqual({ ok: true, claims: { exp: NOW + 60, resourceClass: 'v', kid: 'k1', jti: 'j1', iat: NOW - 5 } });
    expect(await checkGrant(grant, [SECRET], 'P1', 'v', NOW + 59)).toMatchObject({ ok: true });
  });

  it.each([
    ['another playback ID', 'P2', 'v', NOW, 'grant_invalid'],
    ['a playback ID that only shares a prefix', 'P', 'v', NOW, 'grant_invalid'],
    ['another class (a playlist grant opens no thumbnail)', 'P1', 't', NOW, 'grant_invalid'],
    ['the expiry instant', 'P1', 'v', NOW + 60, 'grant_expired'],
    ['after expiry', 'P1', 'v', NOW + 3600, 'grant_expired'],
  ] as const)('is refused for %s', async (_name, playbackId, resourceClass, now, reason) => {
    const grant = await mintGrant(SECRET, 'P1', { exp: NOW + 60, resourceClass: 'v', kid: 'k1' });
    expect(await checkGrant(grant, [SECRET], playbackId, resourceClass, now)).toMatchObject({ ok: false, reason });
  });

  it('is refused when any byte of it changes', async () => {
    const grant = await mintGrant(SECRET, 'P1', { exp: NOW + 60, resourceClass: 'v', kid: 'k1' });
    for (let i = 0; i < grant.length; i++) {
      if (grant[i] === '.') continue;
      const replacement = grant[i] === 'A' ? 'B' : 'A';
      const tampered = grant.slice(0, i) + replacement + grant.slice(i + 1);
      const result = await checkGrant(tampered, [SECRET], 'P1', 'v', NOW);
      expect(result.ok, `byte ${i}`).toBe(false);
    }
  });

  it('is refused when minted with another secret, and accepted through GRANT_SECRET_PREVIOUS during a rotation', async () => {
    const old = await mintGrant(PREVIOUS, 'P1', { exp: NOW + 60, resourceClass: 'v', kid: 'k1' });
    expect(await checkGrant(old, [SECRET], 'P1', 'v', NOW)).toMatchObject({ ok: false, reason: 'grant_invalid' });
    expect(await checkGrant(old, [SECRET, PREVIOUS], 'P1', 'v', NOW)).toMatchObject({ ok: true });
  });

  it.each(['', 'abc', 'a.b.c', '.', 'x'.repeat(2000) + '.y', 'eyJlIjoxfQ.' + 'A'.repeat(42), 'eyJlIjoxfQ.' + 'A'.repeat(43) + '='])('refuses the malformed grant %#', async (grant) => {
    expect(await checkGrant(grant, [SECRET], 'P1', 'v', NOW)).toMatchObject({ ok: false, reason: 'grant_invalid' });
  });

  it('never outlives the token, nor the 24 h cap', () => {
    expect(grantExpiry(NOW + 600, NOW)).toBe(NOW + 600);
    expect(grantExpiry(NOW + 10 * 86_400, NOW)).toBe(NOW + 86_400);
    expect(grantExpiry(NOW + 600.9, NOW)).toBe(NOW + 600);
  });
});

describe('grant encoding', () => {
  it('accepts only the canonical encoding of a MAC', async () => {
    const grant = await mintGrant(SECRET, 'P1', { exp: NOW + 60, resourceClass: 'v', kid: 'k1' });
    const last = grant.at(-1)!;
    const sibling = String.fromCharCode(last.charCodeAt(0) + 1); // same 4 significant bits, other padding bits
    expect(await checkGrant(grant.slice(0, -1) + sibling, [SECRET], 'P1', 'v', NOW)).toMatchObject({ ok: false, reason: 'grant_invalid' });
  });
});
