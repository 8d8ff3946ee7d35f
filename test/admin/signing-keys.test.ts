/**
 * The signing-keys admin API (SPEC §3), end to end through SELF.fetch.
 * KV is shared by the tests of this file, so assertions are about the keys each test creates.
 */
import { createLocalJWKSet, exportJWK, exportSPKI, generateKeyPair, importPKCS8, importSPKI, jwtVerify, SignJWT, type JWK } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { env } from 'cloudflare:test';
import { putKey } from '../../src/keys/store';
import { call, createKey, expectErrorEnvelope, privatePem } from '../support/helpers';

// The first admin request of a file loads the admin face and compiles its modules: slow under load
// (CI runs the Node suite beside it), so it is paid in a hook (30 s bound), not in the first test's 20 s.
beforeAll(async () => {
  await call('/v1/iam/signing-keys');
});

const ALGORITHMS = ['RS256', 'ES256', 'EdDSA'] as const;
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?Z$/;
const UUIDISH = /^[A-Za-z0-9_-]{8,128}$/;

async function rsaPair(modulusLength: number) {
  return (await crypto.subtle.generateKey(
    { name: 'RSASSA-PKCS1-v1_5', modulusLength, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' },
    true,
    ['sign', 'verify'],
  )) as CryptoKeyPair;
}

async function foreignPair(algorithm: (typeof ALGORITHMS)[number]) {
  return generateKeyPair(algorithm, { extractable: true, ...(algorithm === 'EdDSA' ? { crv: 'Ed25519' } : {}) });
}

const jwks = async () => {
  const answer = await call('/.well-known/jwks.json', { auth: null });
  expect(answer.status).toBe(200);
  return answer.body as { keys: JWK[] };
};

describe('POST /v1/iam/signing-keys (generate)', () => {
  it('creates an RS256 key when no body is sent', async () => {
    const answer = await call('/v1/iam/signing-keys', { method: 'POST' });
    expect(answer.status).toBe(201);
    expect(answer.body.success).toBe(true);
    const key = answer.body.data;
    expect(key.algorithm).toBe('RS256');
    expect(key.status).toBe('active');
    expect(key.id).toMatch(UUIDISH);
    expect(key.createdAt).toMatch(ISO_UTC);
    expect(Math.abs(Date.parse(key.createdAt) - Date.now())).toBeLessThan(60_000);
    expect(key).not.toHaveProperty('name');
    expect(key).not.toHaveProperty('expiresAt');
  });

  it('generates an RSA key of 2048 bits for RS256', async () => {
    const key = (await createKey('RS256')).data;
    const privateKey = (await importPKCS8(privatePem(key.privateKey), 'RS256', { extractable: true })) as CryptoKey;
    expect((privateKey.algorithm as { modulusLength: number }).modulusLength).toBe(2048);
  });

  it.each(ALGORITHMS)('returns %s with its private key as base64 of a PKCS#8 PEM', async (algorithm) => {
    const key = (await createKey(algorithm)).data;
    expect(key.algorithm).toBe(algorithm);
    expect(key.privateKey).toMatch(/^[A-Za-z0-9+/]+=*$/);
    const pem = privatePem(key.privateKey);
    expect(pem).toMatch(/^-----BEGIN PRIVATE KEY-----\n[\s\S]+\n-----END PRIVATE KEY-----\n?$/);
    await expect(importPKCS8(pem, algorithm)).resolves.toBeDefined();
  });

  it('keeps the name and a future expiresAt, normalised to UTC', async () => {
    // A year from now, written at +01:00: the API must answer the same instant in UTC.
    const utc = new Date(Math.floor(Date.now() / 1000) * 1000 + 365 * 86_400_000);
    const plusOne = new Date(utc.getTime() + 3_600_000).toISOString().replace(/\.\d{3}Z$/, '+01:00');
    const key = (await createKey('ES256', { name: 'web-player', expiresAt: plusOne })).data;
    expect(key.name).toBe('web-player');
    expect(key.expiresAt).toMatch(ISO_UTC);
    expect(key.expiresAt).toBe(utc.toISOString());
    expect(key.status).toBe('active');
  });

  it.each([
    ['of 200 characters', 'x'.repeat(200)],
    ['of 200 quotes and backslashes', '"\\'.repeat(100)],
    ['of 100 emoji', '\u{1F3AC}'.repeat(100)],
    ['with accents and CJK', 'lecteur vidéo 播放器'],
  ])('accepts a name %s and lists it unchanged', async (_case, name) => {
    const key = (await createKey('ES256', { name })).data;
    expect(key.name).toBe(name);
    expect((await call(`/v1/iam/signing-keys/${key.id}`)).body.data.name).toBe(name);
  });

  it.each([
    ['an instant in the past', { expiresAt: '2001-01-01T00:00:00Z' }, 'expiresAt'],
    ['a date that is not ISO 8601', { expiresAt: 'tomorrow' }, 'expiresAt'],
    ['a number as expiresAt', { expiresAt: 4102444800 }, 'expiresAt'],
    ['an unknown algorithm', { algorithm: 'HS256' }, 'algorithm'],
    ['the "none" algorithm', { algorithm: 'none' }, 'algorithm'],
    ['an empty name', { name: '   ' }, 'name'],
    ['a name longer than 200 characters', { name: 'x'.repeat(201) }, 'name'],
    ['an unknown field', { algorithm: 'ES256', owner: 'me' }, 'owner'],
    ['a name with control characters', { name: 'a\u0000b' }, 'name'],
    ['a name of 200 control characters (which would overflow KV metadata)', { name: '\u0001'.repeat(200) }, 'name'],
    ['a name with a lone surrogate', { name: 'a\ud800b' }, 'name'],
  ])('refuses %s with 422 validation_failed', async (_case, body, field) => {
    const answer = await call('/v1/iam/signing-keys', { method: 'POST', body });
    expectErrorEnvelope(answer, 422, 'validation_failed');
    expect(answer.body.error.fields.map((f: { field: string }) => f.field).join(',')).toContain(field);
  });
});

describe('POST /v1/iam/signing-keys with publicKey (bring your own)', () => {
  it.each(ALGORITHMS)('imports a %s SPKI PEM and serves the same public key back', async (algorithm) => {
    const pair = await foreignPair(algorithm);
    const pem = await exportSPKI(pair.publicKey);
    const answer = await call('/v1/iam/signing-keys', { method: 'POST', body: { algorithm, publicKey: pem, name: 'byo' } });
    expect(answer.status, answer.text).toBe(201);
    expect(answer.body.data).not.toHaveProperty('privateKey');
    expect(answer.body.data).toMatchObject({ algorithm, status: 'active', name: 'byo' });

    const detail = await call(`/v1/iam/signing-keys/${answer.body.data.id}`);
    const expected = await exportJWK(pair.publicKey);
    for (const member of ['kty', 'crv', 'n', 'e', 'x', 'y'] as const) expect(detail.body.data.jwk[member]).toBe(expected[member]);
  });

  it.each(ALGORITHMS)('imports a %s public JWK, and a token signed with its private half verifies against the JWKS', async (algorithm) => {
    const pair = await foreignPair(algorithm);
    const publicJwk = await exportJWK(pair.publicKey);
    const answer = await call('/v1/iam/signing-keys', { method: 'POST', body: { algorithm, publicKey: publicJwk } });
    expect(answer.status, answer.text).toBe(201);
    expect(answer.body.data).not.toHaveProperty('privateKey');
    const kid = answer.body.data.id;
    const token = await new SignJWT({ sub: 'p1' }).setProtectedHeader({ alg: algorithm, kid }).setExpirationTime('5m').sign(pair.privateKey);
    await expect(jwtVerify(token, createLocalJWKSet(await jwks()))).resolves.toMatchObject({ payload: { sub: 'p1' } });
  });

  it.each([
    ['an RSA key shorter than 2048 bits (SPKI PEM)', async () => ({ algorithm: 'RS256', publicKey: await exportSPKI((await rsaPair(1024)).publicKey) })],
    ['an RSA key shorter than 2048 bits (JWK)', async () => ({ algorithm: 'RS256', publicKey: await exportJWK((await rsaPair(1024)).publicKey) })],
    ['a JWK carrying the private member "d"', async () => ({ algorithm: 'ES256', publicKey: await exportJWK((await foreignPair('ES256')).privateKey) })],
    ['an RSA JWK carrying private primes', async () => ({ algorithm: 'RS256', publicKey: await exportJWK((await foreignPair('RS256')).privateKey) })],
    ['an Ed25519 private JWK', async () => ({ algorithm: 'EdDSA', publicKey: await exportJWK((await foreignPair('EdDSA')).privateKey) })],
    ['a symmetric JWK', async () => ({ algorithm: 'RS256', publicKey: { kty: 'oct', k: 'c2VjcmV0' } })],
    ['a "PRIVATE KEY" PEM', async () => ({ algorithm: 'ES256', publicKey: atob((await call('/v1/iam/signing-keys', { method: 'POST', body: { algorithm: 'ES256' } })).body.data.privateKey) })],
    ['an EC SPKI PEM declared as RS256', async () => ({ algorithm: 'RS256', publicKey: await exportSPKI((await foreignPair('ES256')).publicKey) })],
    ['an RSA SPKI PEM declared as EdDSA', async () => ({ algorithm: 'EdDSA', publicKey: await exportSPKI((await foreignPair('RS256')).publicKey) })],
    ['an EC JWK declared as RS256', async () => ({ algorithm: 'RS256', publicKey: await exportJWK((await foreignPair('ES256')).publicKey) })],
    ['an Ed25519 JWK declared as ES256', async () => ({ algorithm: 'ES256', publicKey: await exportJWK((await foreignPair('EdDSA')).publicKey) })],
    ['a JWK whose alg disagrees', async () => ({ algorithm: 'ES256', publicKey: { ...(await exportJWK((await foreignPair('ES256')).publicKey)), alg: 'ES384' } })],
    ['an EC JWK on another curve', async () => ({ algorithm: 'ES256', publicKey: await exportJWK((await generateKeyPair('ES384', { extractable: true })).publicKey) })],
    ['an EC JWK whose point is not on the curve', async () => ({ algorithm: 'ES256', publicKey: { ...(await exportJWK((await foreignPair('ES256')).publicKey)), y: 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' } })],
    ['a publicKey without algorithm', async () => ({ publicKey: await exportSPKI((await foreignPair('ES256')).publicKey) })],
    ['a PEM that is not base64 inside', async () => ({ algorithm: 'ES256', publicKey: '-----BEGIN PUBLIC KEY-----\nnot a key\n-----END PUBLIC KEY-----' })],
    ['a certificate instead of a public key', async () => ({ algorithm: 'ES256', publicKey: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----' })],
    ['a publicKey that is a number', async () => ({ algorithm: 'ES256', publicKey: 42 })],
  ])('refuses %s with 422 validation_failed', async (_case, makeBody) => {
    const body = await makeBody();
    const answer = await call('/v1/iam/signing-keys', { method: 'POST', body });
    expectErrorEnvelope(answer, 422, 'validation_failed');
    // A refusal never echoes key material back.
    if (typeof body.publicKey === 'object' && body.publicKey && 'd' in body.publicKey) expect(answer.text).not.toContain(String(body.publicKey.d));
  });
});

describe('GET /v1/iam/signing-keys/{id}', () => {
  it.each(ALGORITHMS)('answers a %s key with an SPKI PEM that jose imports and a public JWK with kid, alg and use', async (algorithm) => {
    const created = (await createKey(algorithm, { name: 'detail' })).data;
    const answer = await call(`/v1/iam/signing-keys/${created.id}`);
    expect(answer.status).toBe(200);
    const key = answer.body.data;
    expect(key).toMatchObject({ id: created.id, signingKeyId: created.id, algorithm, status: 'active', name: 'detail', createdAt: created.createdAt });
    expect(key.publicKey).toMatch(/^-----BEGIN PUBLIC KEY-----\n/);
    await expect(importSPKI(key.publicKey, algorithm)).resolves.toBeDefined();
    expect(key.jwk).toMatchObject({ kid: created.id, alg: algorithm, use: 'sig' });
    expect(key.jwk).not.toHaveProperty('d');
    expect(key).not.toHaveProperty('privateKey');
  });

  it.each([['an unknown id', 'no-such-key'], ['an id of 300 characters', 'a'.repeat(300)]])('answers 404 not_found for %s', async (_case, id) => {
    expectErrorEnvelope(await call(`/v1/iam/signing-keys/${id}`), 404, 'not_found');
  });
});

describe('GET /v1/iam/signing-keys (list)', () => {
  it('lists newest first (equal instants by id), with limit and 1-based offset pages', async () => {
    type Listed = { id: string; createdAt: string };
    const created: Listed[] = [];
    for (let i = 0; i < 3; i++) created.push((await createKey('ES256', { name: `page-${i}` })).data as Listed);
    // The order is the contract (createdAt descending, then id descending), so nothing here waits
    // for the clock to separate the three keys: the expected order is computed from what was created.
    const newestFirst = (a: Listed, b: Listed) => b.createdAt.localeCompare(a.createdAt) || b.id.localeCompare(a.id);
    const all: Listed[] = (await call('/v1/iam/signing-keys?limit=100&offset=1')).body.data;
    expect(all).toEqual([...all].sort(newestFirst));
    const ours = new Set(created.map((key) => key.id));
    expect(all.filter((key) => ours.has(key.id)).map((key) => key.id)).toEqual([...created].sort(newestFirst).map((key) => key.id));
    const first = await call('/v1/iam/signing-keys?limit=2&offset=1');
    expect(first.status).toBe(200);
    expect(first.body.data.map((k: Listed) => k.id)).toEqual(all.slice(0, 2).map((k) => k.id));
    const second = await call('/v1/iam/signing-keys?limit=2&offset=2');
    expect(second.body.data.map((k: Listed) => k.id)).toEqual(all.slice(2, 4).map((k) => k.id));
    const total = first.body.pagination.totalRecords;
    expect(first.body.pagination).toEqual({ totalRecords: total, currentOffset: 1, offsetCount: Math.ceil(total / 2) });
    expect(second.body.pagination.currentOffset).toBe(2);
    for (const key of first.body.data) {
      expect(Object.keys(key).sort()).toEqual(['algorithm', 'createdAt', 'id', 'name', 'status']);
    }
  });

  it('defaults to limit 10 and offset 1', async () => {
    for (let i = 0; i < 11; i++) await createKey('EdDSA');
    const answer = await call('/v1/iam/signing-keys');
    expect(answer.status).toBe(200);
    expect(answer.body.data).toHaveLength(10);
    expect(answer.body.pagination.currentOffset).toBe(1);
    expect(answer.body.pagination.offsetCount).toBe(Math.ceil(answer.body.pagination.totalRecords / 10));
    const createdAts = answer.body.data.map((k: { createdAt: string }) => Date.parse(k.createdAt));
    expect([...createdAts].sort((a, b) => b - a)).toEqual(createdAts);
  });

  it('answers an empty page with correct pagination for an offset past the end', async () => {
    const answer = await call('/v1/iam/signing-keys?limit=100&offset=1000');
    expect(answer.status).toBe(200);
    expect(answer.body.data).toEqual([]);
    expect(answer.body.pagination.currentOffset).toBe(1000);
    expect(answer.body.pagination.totalRecords).toBeGreaterThan(0);
    expect(answer.body.pagination.offsetCount).toBe(Math.ceil(answer.body.pagination.totalRecords / 100));
  });

  it.each([
    ['limit=0', 'limit'],
    ['limit=101', 'limit'],
    ['limit=-1', 'limit'],
    ['limit=ten', 'limit'],
    ['limit=1.5', 'limit'],
    ['limit=', 'limit'],
    ['offset=0', 'offset'],
    ['offset=abc', 'offset'],
    ['limit=5&limit=6', 'limit'],
    ['offset=1&offset=1', 'offset'],
    ['page=2', 'page'],
  ])('refuses ?%s with 422 naming %s', async (query, field) => {
    const answer = await call(`/v1/iam/signing-keys?${query}`);
    expectErrorEnvelope(answer, 422, 'validation_failed');
    expect(answer.body.error.fields.map((f: { field: string }) => f.field)).toContain(field);
  });

  it.each(['limit=1', 'limit=100'])('accepts ?%s', async (query) => {
    expect((await call(`/v1/iam/signing-keys?${query}`)).status).toBe(200);
  });
});

describe('POST /v1/iam/signing-keys/{id}/rotate', () => {
  it.each(ALGORITHMS)('makes a new %s key and retires the old one after the default grace of a day', async (algorithm) => {
    const old = (await createKey(algorithm, { name: 'rotating' })).data;
    const before = Date.now();
    const answer = await call(`/v1/iam/signing-keys/${old.id}/rotate`, { method: 'POST' });
    expect(answer.status, answer.text).toBe(201);
    const fresh = answer.body.data;
    expect(fresh.id).not.toBe(old.id);
    expect(fresh).toMatchObject({ algorithm, rotatedFrom: old.id, status: 'active' });
    await expect(importPKCS8(privatePem(fresh.privateKey), algorithm)).resolves.toBeDefined();
    expect(fresh.privateKey).not.toBe(old.privateKey);

    const retired = (await call(`/v1/iam/signing-keys/${old.id}`)).body.data;
    expect(retired.status).toBe('retiring');
    expect(Math.abs(Date.parse(retired.expiresAt) - (before + 86_400_000))).toBeLessThan(60_000);

    const kids = (await jwks()).keys.map((k) => k.kid);
    expect(kids).toContain(old.id);
    expect(kids).toContain(fresh.id);
  });

  it('honours a custom grace period', async () => {
    const old = (await createKey('ES256')).data;
    const before = Date.now();
    expect((await call(`/v1/iam/signing-keys/${old.id}/rotate`, { method: 'POST', body: { gracePeriodSeconds: 3600 } })).status).toBe(201);
    const retired = (await call(`/v1/iam/signing-keys/${old.id}`)).body.data;
    expect(Math.abs(Date.parse(retired.expiresAt) - (before + 3_600_000))).toBeLessThan(60_000);
  });

  it('with a grace of 0 stops the old key at once (absent from the JWKS)', async () => {
    const old = (await createKey('ES256')).data;
    const answer = await call(`/v1/iam/signing-keys/${old.id}/rotate`, { method: 'POST', body: { gracePeriodSeconds: 0 } });
    expect(answer.status).toBe(201);
    const retired = (await call(`/v1/iam/signing-keys/${old.id}`)).body.data;
    expect(retired.status).toBe('expired');
    expect(Math.abs(Date.parse(retired.expiresAt) - Date.now())).toBeLessThan(60_000);
    const kids = (await jwks()).keys.map((k) => k.kid);
    expect(kids).not.toContain(old.id);
    expect(kids).toContain(answer.body.data.id);
  });

  it('never extends an expiry the old key already had', async () => {
    const soon = new Date(Date.now() + 600_000).toISOString();
    const old = (await createKey('ES256', { expiresAt: soon })).data;
    await call(`/v1/iam/signing-keys/${old.id}/rotate`, { method: 'POST', body: { gracePeriodSeconds: 86_400 } });
    const retired = (await call(`/v1/iam/signing-keys/${old.id}`)).body.data;
    expect(Date.parse(retired.expiresAt)).toBe(Date.parse(soon));
  });

  it.each([
    ['a grace period over 30 days', { gracePeriodSeconds: 30 * 86_400 + 1 }],
    ['a negative grace period', { gracePeriodSeconds: -1 }],
    ['a fractional grace period', { gracePeriodSeconds: 1.5 }],
    ['a grace period as text', { gracePeriodSeconds: '3600' }],
    ['an unknown field', { algorithm: 'RS256' }],
  ])('refuses %s with 422', async (_case, body) => {
    const old = (await createKey('ES256')).data;
    expectErrorEnvelope(await call(`/v1/iam/signing-keys/${old.id}/rotate`, { method: 'POST', body }), 422, 'validation_failed');
    expect((await call(`/v1/iam/signing-keys/${old.id}`)).body.data.status).toBe('active');
  });

  it('accepts a grace period of exactly 30 days', async () => {
    const old = (await createKey('ES256')).data;
    expect((await call(`/v1/iam/signing-keys/${old.id}/rotate`, { method: 'POST', body: { gracePeriodSeconds: 30 * 86_400 } })).status).toBe(201);
  });

  it('answers 404 for an unknown key', async () => {
    expectErrorEnvelope(await call('/v1/iam/signing-keys/no-such-key/rotate', { method: 'POST' }), 404, 'not_found');
  });
});

describe('DELETE /v1/iam/signing-keys/{id}', () => {
  it('deletes a key, which then is 404 and absent from list and JWKS', async () => {
    const key = (await createKey('ES256')).data;
    expect((await jwks()).keys.map((k) => k.kid)).toContain(key.id);
    const answer = await call(`/v1/iam/signing-keys/${key.id}`, { method: 'DELETE' });
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ success: true, data: { message: 'signing key deleted successfully' } });
    expectErrorEnvelope(await call(`/v1/iam/signing-keys/${key.id}`), 404, 'not_found');
    expectErrorEnvelope(await call(`/v1/iam/signing-keys/${key.id}`, { method: 'DELETE' }), 404, 'not_found');
    expect((await jwks()).keys.map((k) => k.kid)).not.toContain(key.id);
    const listed = await call('/v1/iam/signing-keys?limit=100');
    expect(listed.body.data.map((k: { id: string }) => k.id)).not.toContain(key.id);
  });

  it('answers 404 for an unknown key', async () => {
    expectErrorEnvelope(await call('/v1/iam/signing-keys/no-such-key', { method: 'DELETE' }), 404, 'not_found');
  });
});

describe('GET /.well-known/jwks.json', () => {
  it('is public and cacheable, with only public members of active and retiring keys', async () => {
    const active = (await createKey('RS256')).data;
    const retiring = (await createKey('EdDSA')).data;
    await call(`/v1/iam/signing-keys/${retiring.id}/rotate`, { method: 'POST' });
    const answer = await call('/.well-known/jwks.json', { auth: null });
    expect(answer.status).toBe(200);
    expect(answer.headers.get('Cache-Control')).toMatch(/public/);
    const keys = answer.body.keys as JWK[];
    const kids = keys.map((k) => k.kid);
    expect(kids).toContain(active.id);
    expect(kids).toContain(retiring.id);
    expect(new Set(kids).size).toBe(kids.length);
    const publicMembers = new Set(['kty', 'crv', 'n', 'e', 'x', 'y', 'kid', 'alg', 'use']);
    for (const key of keys) {
      expect(key.use).toBe('sig');
      expect(['RS256', 'ES256', 'EdDSA']).toContain(key.alg);
      for (const member of Object.keys(key)) expect(publicMembers, member).toContain(member);
    }
  });

  it('leaves out keys whose expiresAt has passed', async () => {
    const key = (await createKey('ES256', { expiresAt: new Date(Date.now() + 3_600_000).toISOString() })).data;
    expect((await jwks()).keys.map((k) => k.kid)).toContain(key.id);
    // The same key as KV holds it once its expiresAt has passed (no waiting for the real clock).
    const stored = JSON.parse((await env.KEYS.get(`key:${key.id}`))!);
    await putKey(env.KEYS, { ...stored, expiresAt: new Date(Date.now() - 1_000).toISOString() });
    expect((await jwks()).keys.map((k) => k.kid)).not.toContain(key.id);
    expect((await call(`/v1/iam/signing-keys/${key.id}`)).body.data.status).toBe('expired');
  });
});

describe('tokens signed with a created key', () => {
  it.each(ALGORITHMS)('a %s JWT signed with the returned privateKey verifies against the JWKS', async (algorithm) => {
    const key = (await createKey(algorithm)).data;
    const signingKey = await importPKCS8(privatePem(key.privateKey), algorithm);
    const token = await new SignJWT({ aud: 'media:abc' }).setProtectedHeader({ alg: algorithm, kid: key.id }).setExpirationTime('10m').sign(signingKey);
    const { payload, protectedHeader } = await jwtVerify(token, createLocalJWKSet(await jwks()), { algorithms: [algorithm] });
    expect(payload.aud).toBe('media:abc');
    expect(protectedHeader.kid).toBe(key.id);
  });

  it('a JWT signed with one key does not verify under another kid', async () => {
    const a = (await createKey('ES256')).data;
    const b = (await createKey('ES256')).data;
    const token = await new SignJWT({}).setProtectedHeader({ alg: 'ES256', kid: b.id }).setExpirationTime('10m').sign(await importPKCS8(privatePem(a.privateKey), 'ES256'));
    await expect(jwtVerify(token, createLocalJWKSet(await jwks()))).rejects.toThrow();
  });
});

describe('discovery and liveness', () => {
  it('serves an OpenAPI 3.1 document describing the signing-key paths', async () => {
    const answer = await call('/v1/openapi.json', { auth: null });
    expect(answer.status).toBe(200);
    expect(answer.body.openapi).toMatch(/^3\.1\.\d+$/);
    expect(Object.keys(answer.body.paths)).toEqual(expect.arrayContaining(['/v1/iam/signing-keys', '/v1/iam/signing-keys/{id}', '/v1/iam/signing-keys/{id}/rotate', '/.well-known/jwks.json']));
    expect(answer.body.paths['/v1/iam/signing-keys'].post).toBeDefined();
    expect(answer.body.paths['/v1/iam/signing-keys'].get).toBeDefined();
    expect(answer.body.paths['/v1/iam/signing-keys/{id}'].delete).toBeDefined();
    expect(answer.body.components.schemas.CreateSigningKeyBody.properties).toHaveProperty('algorithm');
  });

  it('answers /healthz with {ok: true} and no secrets', async () => {
    const answer = await call('/healthz', { auth: null });
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ ok: true });
  });
});
