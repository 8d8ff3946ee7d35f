/**
 * Admin input fuzz (issue 4): random and malformed bodies never produce a 500, always the SPEC
 * envelope, and a refused request writes nothing.
 */
import { env } from 'cloudflare:test';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { admin, createKey } from '../support/helpers';

async function kvCount() {
  let count = 0;
  let cursor: string | undefined;
  do {
    const page = await env.KEYS.list({ cursor });
    count += page.keys.length;
    cursor = page.list_complete ? undefined : page.cursor;
  } while (cursor);
  return count;
}

const hostileValue = fc.oneof(
  fc.string({ maxLength: 300 }),
  fc.string({ unit: 'grapheme', maxLength: 300 }),
  fc.double(),
  fc.integer(),
  fc.constantFrom(1e308, -1e308, Number.MAX_SAFE_INTEGER + 2, 0, -0, -1, 1.5, 2_592_001, true, false, null),
  fc.constantFrom('RS256', 'ES256', 'EdDSA', 'rs256', 'none', 'HS256', 'PS256', 'ES512', ''),
  fc.constantFrom('2026-13-45T00:00:00Z', '9999-12-31T23:59:59Z', '0000-01-01T00:00:00Z', '1970-01-01T00:00:00Z', '2099-01-01T00:00:00+14:00', 'tomorrow', '1e308'),
  fc.constantFrom('-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----', '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----', 'x'.repeat(20_000)),
  fc.constantFrom({ kty: 'oct', k: 'AAAA' }, { kty: 'RSA', n: 'AQAB', e: 'AQAB' }, { kty: 'EC', crv: 'P-256', x: 'A', y: 'A', d: 'A' }, { __proto__: null }),
  fc.array(fc.string(), { maxLength: 5 }),
  fc.dictionary(fc.string({ maxLength: 10 }), fc.string({ maxLength: 10 }), { maxKeys: 4 }),
);
const hostileKey = fc.oneof(
  fc.constantFrom('algorithm', 'name', 'expiresAt', 'publicKey', 'gracePeriodSeconds', '__proto__', 'constructor', 'prototype', 'privateKey', 'id'),
  fc.string({ maxLength: 20 }),
);
const hostileBody = fc.oneof(
  fc.dictionary(hostileKey, hostileValue, { maxKeys: 5 }).map((object) => JSON.stringify(object)),
  fc.string({ maxLength: 200 }),
  fc.constantFrom('{"__proto__":{"admin":true}}', '{"constructor":{"prototype":{"x":1}}}', '[]', 'null', '"x"', '{', '{"algorithm":"RS256"', '\u0000', '{"name":"' + 'n'.repeat(5000) + '"}'),
);

function assertEnvelope(status: number, body: unknown) {
  expect(status).toBeLessThan(500);
  expect(body).toHaveProperty('success', status < 400);
  if (status < 400) expect(body).toHaveProperty('data');
  if (status >= 400) {
    const error = (body as { success: boolean; error: { code: number; reason: string; message: string; description: string } });
    expect(error.success).toBe(false);
    expect(error.error.code).toBe(status);
    expect(typeof error.error.reason).toBe('string');
    expect(typeof error.error.description).toBe('string');
  }
}

describe('admin input fuzz', () => {
  it('POST /v1/iam/signing-keys: never a 500, always the envelope, nothing written when refused', async () => {
    await fc.assert(
      fc.asyncProperty(hostileBody, async (body) => {
        const before = await kvCount();
        const response = await admin('/v1/iam/signing-keys', { method: 'POST', body });
        const json = await response.json();
        assertEnvelope(response.status, json);
        const after = await kvCount();
        expect(after).toBe(response.status === 201 ? before + 1 : before);
      }),
      { numRuns: 60 },
    );
  });

  it('POST /v1/iam/signing-keys/{id}/rotate: never a 500, nothing written when refused', async () => {
    const key = await createKey('ES256');
    await fc.assert(
      fc.asyncProperty(hostileBody, async (body) => {
        const before = await kvCount();
        const response = await admin(`/v1/iam/signing-keys/${key.id}/rotate`, { method: 'POST', body });
        assertEnvelope(response.status, await response.json());
        if (response.status !== 201) expect(await kvCount()).toBe(before);
      }),
      { numRuns: 40 },
    );
  });

  it('leaves no half-written key: every stored key is a complete record whose listing metadata agrees', async () => {
    const names = (await env.KEYS.list({ prefix: 'key:' })).keys;
    expect(names.length).toBeGreaterThan(0);
    for (const { name, metadata } of names) {
      const record = JSON.parse((await env.KEYS.get(name))!) as Record<string, unknown>;
      expect(record.id).toBe(name.slice('key:'.length));
      expect(['RS256', 'ES256', 'EdDSA']).toContain(record.algorithm);
      expect(record.publicJwk).toBeTypeOf('object');
      expect(Object.keys(record.publicJwk as object)).not.toContain('d');
      expect(Number.isNaN(Date.parse(record.createdAt as string))).toBe(false);
      expect(metadata).toMatchObject({ algorithm: record.algorithm, createdAt: record.createdAt });
      expect(JSON.stringify(record)).not.toMatch(/PRIVATE KEY|__proto__|constructor/);
    }
  });
});
