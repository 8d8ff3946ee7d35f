/**
 * Key hygiene through HTTP (SPEC §6): keys that would let anyone forge a token are refused at
 * import with 422 and never stored, and the same keys published by a remote JWKS source are
 * dropped from its set. The forgery itself is shown first, against WebCrypto alone, so the
 * refusals below are not vacuous.
 */
import { describe, expect, it, vi } from 'vitest';
import { exportJWK, exportSPKI } from 'jose';
import smallOrderVectors from '../../../shared/vectors/ed25519-small-order.json';
import { importVerifyKey, validatePublicJwk } from '../../src/keys/material';
import { RemoteJwksSet, validateJwks } from '../../src/keys/remote-jwks';
import { TokenRefusal } from '../../src/token/refusal';
import { verifyJwsSignature, verifySignedToken } from '../../src/token/verify';
import { parseJws } from '../../src/token/jws';
import { fakeJwksServer, published, signingPair, uniqueUrl } from '../keys/jwks-server';
import { call, createKey, expectErrorEnvelope, nowSeconds, originSaw, play, playbackId, refusal } from '../support/helpers';
import { env } from 'cloudflare:test';
import { putKey } from '../../src/keys/store';

const b64url = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
const enc = (value: unknown) => b64url(new TextEncoder().encode(JSON.stringify(value)));
const hex = (text: string) => Uint8Array.from(text.match(/../g) ?? [], (byte) => parseInt(byte, 16));

/** The Ed25519 identity point (0, 1) as a public JWK: the key of the forgery in the brief. */
const IDENTITY_JWK = { kty: 'OKP', crv: 'Ed25519', x: 'AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' };
/** R = identity, S = 0: verifies on any message under a small-order key and a lax verifier. */
const FORGED_SIGNATURE = Uint8Array.of(1, ...new Uint8Array(63));

function forgedToken(kid: string, claims: Record<string, unknown>) {
  return `${enc({ alg: 'EdDSA', kid })}.${enc({ kid, ...claims })}.${b64url(FORGED_SIGNATURE)}`;
}

async function keyCount(): Promise<number> {
  const answer = await call('/v1/iam/signing-keys?limit=1');
  expect(answer.status).toBe(200);
  return answer.body.pagination.totalRecords as number;
}

/** POSTs a bring-your-own key and expects 422 validation_failed blaming publicKey, with nothing stored. */
async function expectRefusedImport(body: Record<string, unknown>, message: RegExp) {
  const before = await keyCount();
  const answer = await call('/v1/iam/signing-keys', { method: 'POST', body });
  expectErrorEnvelope(answer, 422, 'validation_failed');
  const fields = answer.body.error.fields as Array<{ field: string; message?: string }>;
  const blamed = fields.find((f) => f.field === 'publicKey');
  expect(blamed, answer.text).toBeDefined();
  expect(blamed!.message).toMatch(message);
  expect(await keyCount()).toBe(before);
}

describe('the forgery these rules stop', () => {
  it('is real: WebCrypto alone verifies 0x01 || 0^63 on arbitrary claims under the identity key', async () => {
    const key = await importVerifyKey('EdDSA', IDENTITY_JWK);
    const parsed = parseJws(forgedToken('attacker', { aud: 'media:anything', exp: nowSeconds() + 600 }));
    await expect(verifyJwsSignature(parsed, { algorithm: 'EdDSA', key, expiresAtMs: undefined }, Date.now())).resolves.toBeUndefined();
  });
});

describe('POST /v1/iam/signing-keys refuses keys that cannot be trusted', () => {
  it('answers 422 for the Ed25519 identity point and stores nothing', async () => {
    await expectRefusedImport({ algorithm: 'EdDSA', publicKey: IDENTITY_JWK }, /small order/);
  });

  it.each([...smallOrderVectors.small_order, ...smallOrderVectors.non_canonical].map((entry) => [entry.note, entry.hex] as const))(
    'answers 422 for the Ed25519 key %s',
    async (_note, encoding) => {
      await expectRefusedImport({ algorithm: 'EdDSA', publicKey: { kty: 'OKP', crv: 'Ed25519', x: b64url(hex(encoding)) } }, /Ed25519 "x"/);
    },
  );

  it('answers 422 for a weak RSA SPKI PEM (e = 3) and its JWK', async () => {
    const pair = (await crypto.subtle.generateKey({ name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([3]), hash: 'SHA-256' }, true, ['sign', 'verify'])) as CryptoKeyPair;
    await expectRefusedImport({ algorithm: 'RS256', publicKey: await exportSPKI(pair.publicKey) }, /RSA "e" must be at least 65537/);
    await expectRefusedImport({ algorithm: 'RS256', publicKey: await exportJWK(pair.publicKey) }, /RSA "e" must be at least 65537/);
  });

  it('answers 422 for an RSA JWK with an even modulus and for a P-256 JWK with a 33-byte x', async () => {
    const rsa = (await crypto.subtle.generateKey({ name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' }, true, ['sign', 'verify'])) as CryptoKeyPair;
    const rsaJwk = await exportJWK(rsa.publicKey);
    const n = Uint8Array.from(atob(rsaJwk.n!.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));
    n[n.length - 1]! &= 0xfe;
    await expectRefusedImport({ algorithm: 'RS256', publicKey: { ...rsaJwk, n: b64url(n) } }, /RSA "n" is even/);

    const ec = (await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify'])) as CryptoKeyPair;
    const ecJwk = await exportJWK(ec.publicKey);
    const x = Uint8Array.from(atob(ecJwk.x!.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));
    await expectRefusedImport({ algorithm: 'ES256', publicKey: { ...ecJwk, x: b64url(Uint8Array.of(0, ...x)) } }, /exactly 32 octets, got 33/);
  });

  it('still accepts a freshly generated Ed25519 key', async () => {
    const pair = (await crypto.subtle.generateKey({ name: 'Ed25519' }, true, ['sign', 'verify'])) as CryptoKeyPair;
    const answer = await call('/v1/iam/signing-keys', { method: 'POST', body: { algorithm: 'EdDSA', publicKey: await exportJWK(pair.publicKey) } });
    expect(answer.status, answer.text).toBe(201);
  });
});

describe('a forged token cannot open the gate', () => {
  it('is refused whatever kid it names: an unknown one, or a real EdDSA key of this deployment', async () => {
    const realKey = await createKey('EdDSA');
    const p = playbackId('forged');
    for (const [kid, reason] of [
      ['no-such-key', 'key_unknown'],
      [realKey.id, 'signature_invalid'],
    ] as const) {
      const token = forgedToken(kid, { aud: `media:${p}`, exp: nowSeconds() + 600 });
      const answer = await refusal(await play(`/${p}.m3u8?token=${token}`));
      expect(answer.status).toBe(403);
      expect(answer.reason).toBe(reason);
    }
    expect(await originSaw(`/${p}`)).toEqual([]);
  });

  it('is refused under a small-order key stored before the hygiene rules existed (checked when the gate loads a key)', async () => {
    const kid = crypto.randomUUID();
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    await putKey(env.KEYS, { id: kid, algorithm: 'EdDSA', publicJwk: IDENTITY_JWK, createdAt: new Date().toISOString(), source: 'imported' });
    const p = playbackId('legacy');
    const answer = await refusal(await play(`/${p}.m3u8?token=${forgedToken(kid, { aud: `media:${p}`, exp: nowSeconds() + 600 })}`));
    expect(answer).toMatchObject({ status: 403, reason: 'key_unknown' });
    expect(warn.mock.calls.map(([line]) => JSON.parse(String(line))).find((line) => line.event === 'untrusted_stored_key')).toMatchObject({ kid });
    warn.mockRestore();
    expect(await originSaw(`/${p}`)).toEqual([]);
  });
});

describe('a remote JWKS source that publishes such a key', () => {
  it('has the key dropped from its set by validatePublicJwk / validateJwks, with one JSON log line naming kid and rule', async () => {
    expect(() => validatePublicJwk('EdDSA', IDENTITY_JWK)).toThrow(/small order/);
    const good = await signingPair('idp-good', 'EdDSA');
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      const source = uniqueUrl();
      const keys = validateJwks(source, {
        keys: [
          { ...IDENTITY_JWK, kid: 'idp-identity', alg: 'EdDSA', use: 'sig' },
          { kty: 'OKP', crv: 'Ed25519', x: b64url(hex(smallOrderVectors.small_order[1]!.hex)), kid: 'idp-order-2' }, // alg derived
          published(good),
        ],
      });
      expect(keys.map((key) => key.kid)).toEqual(['idp-good']);
      expect(warn).toHaveBeenCalledTimes(1);
      const line = JSON.parse(String(warn.mock.calls[0]![0])) as { event: string; source: string; detail: string };
      expect(line.event).toBe('jwks_key_dropped');
      expect(line.source).toBe(source);
      expect(line.detail).toContain('kid "idp-identity": Ed25519 "x" is a point of small order');
      expect(line.detail).toContain('kid "idp-order-2"');
      expect(line.detail).not.toContain(IDENTITY_JWK.x); // rules and kids only, never key material
    } finally {
      warn.mockRestore();
    }
  });

  it('never verifies a forged token under that kid: the lookup finds no key, the good key still works', async () => {
    const good = await signingPair('idp-good-2', 'EdDSA');
    const server = fakeJwksServer([{ ...IDENTITY_JWK, kid: 'idp-identity', alg: 'EdDSA', use: 'sig' }, published(good)]);
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      const set = new RemoteJwksSet({ urls: [uniqueUrl()] }, { fetch: server.fetch, kv: env.KEYS, now: Date.now });
      const lookup = (kid: string) => set.lookup(kid);
      const token = forgedToken('idp-identity', { aud: 'media:anything', exp: nowSeconds() + 600 });
      const error = await verifySignedToken(token, lookup, { clockSkewSeconds: 30, issuer: '', maxTokenLifetimeSeconds: 0 }, Date.now()).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TokenRefusal);
      expect((error as TokenRefusal).reason).toBe('key_unknown');
      expect((await lookup('idp-good-2'))?.algorithm).toBe('EdDSA');
    } finally {
      warn.mockRestore();
    }
  });
});
