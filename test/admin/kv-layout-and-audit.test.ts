/**
 * SPEC §6 admin writes: one KV entry per key (concurrent creates never lose a key), the private key
 * is returned once and never stored, logged or answered again; one audit line per write.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { call, callWith, createKey, testEnv } from '../support/helpers';

const ALGORITHMS = ['RS256', 'ES256', 'EdDSA'] as const;

/** Every KV name, value and metadata, as one string to search. */
async function dumpKv(): Promise<string> {
  const parts: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await testEnv.KEYS.list({ cursor });
    for (const entry of page.keys) {
      parts.push(entry.name, JSON.stringify(entry.metadata ?? null), (await testEnv.KEYS.get(entry.name)) ?? '');
    }
    cursor = page.list_complete ? undefined : page.cursor;
  } while (cursor);
  return parts.join('\n');
}

/** The base64 body of a PEM: the part that identifies the key, whatever the wrapping. */
const pemBody = (privateKeyBase64: string) => atob(privateKeyBase64).replace(/-----[A-Z ]+-----|\s/g, '');

describe('KV layout', () => {
  it('keeps all of 10 concurrent creates', async () => {
    const before = (await call('/v1/iam/signing-keys?limit=1')).body.pagination.totalRecords as number;
    const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => call('/v1/iam/signing-keys', { method: 'POST', body: { algorithm: ALGORITHMS[i % 3], name: `burst-${i}` } })));
    expect(answers.map((a) => a.status)).toEqual(Array(10).fill(201));
    const ids = answers.map((a) => a.body.data.id as string);
    expect(new Set(ids).size).toBe(10);

    const listed = await call('/v1/iam/signing-keys?limit=100');
    expect(listed.body.pagination.totalRecords).toBe(before + 10);
    const listedIds = listed.body.data.map((k: { id: string }) => k.id);
    for (const id of ids) expect(listedIds).toContain(id);
    const kids = (await call('/.well-known/jwks.json', { auth: null })).body.keys.map((k: { kid: string }) => k.kid);
    for (const id of ids) expect(kids).toContain(id);
  });

  it('keeps all of concurrent rotations of different keys', async () => {
    const olds = await Promise.all([createKey('ES256'), createKey('ES256'), createKey('ES256')]);
    const rotated = await Promise.all(olds.map((old) => call(`/v1/iam/signing-keys/${old.id}/rotate`, { method: 'POST' })));
    for (const [i, answer] of rotated.entries()) {
      expect(answer.status).toBe(201);
      expect((await call(`/v1/iam/signing-keys/${answer.body.data.id}`)).status).toBe(200);
      expect((await call(`/v1/iam/signing-keys/${olds[i]!.id}`)).body.data.status).toBe('retiring');
    }
  });

  it.each(ALGORITHMS)('never writes a %s private key to KV, nor answers it again', async (algorithm) => {
    const victim = (await createKey(algorithm, { name: 'victim' })).data;
    const other = (await createKey(algorithm)).data;
    const rotated = (await call(`/v1/iam/signing-keys/${other.id}/rotate`, { method: 'POST' })).body.data;
    const secrets = [victim.privateKey, pemBody(victim.privateKey), rotated.privateKey, pemBody(rotated.privateKey)];

    const kv = await dumpKv();
    expect(kv).toContain(victim.id); // the scan does see the key's entry
    for (const secret of secrets) expect(kv).not.toContain(secret);

    const later = [
      await call('/v1/iam/signing-keys?limit=100'),
      await call(`/v1/iam/signing-keys/${victim.id}`),
      await call(`/v1/iam/signing-keys/${rotated.id}`),
      await call('/.well-known/jwks.json', { auth: null }),
      await call(`/v1/iam/signing-keys/${other.id}`),
      await call(`/v1/iam/signing-keys/${(await createKey(algorithm)).id}/rotate`, { method: 'POST' }),
    ];
    for (const answer of later) {
      expect(answer.status).toBeLessThan(300);
      for (const secret of secrets) expect(answer.text).not.toContain(secret);
      expect(answer.text).not.toContain('PRIVATE KEY');
    }
    // No JWK anywhere carries a private member.
    for (const answer of later) expect(answer.text).not.toMatch(/"(d|p|q|dp|dq|qi)"\s*:/);
  });
});

describe('audit log', () => {
  afterEach(() => vi.restoreAllMocks());

  function auditLines(spy: { mock: { calls: unknown[][] } }) {
    return spy.mock.calls
      .map((args) => args.map(String).join(' '))
      .map((line) => {
        try {
          return JSON.parse(line) as Record<string, unknown>;
        } catch {
          return null;
        }
      })
      .filter((line): line is Record<string, unknown> => line !== null && line.event === 'audit');
  }

  it.each(ALGORITHMS)('writes one JSON line per %s create, rotate and delete, without key material', async (algorithm) => {
    const spy = vi.spyOn(console, 'log');
    const created = (await callWith({}, '/v1/iam/signing-keys', { method: 'POST', body: { algorithm } })).body.data;
    const rotated = (await callWith({}, `/v1/iam/signing-keys/${created.id}/rotate`, { method: 'POST' })).body.data;
    const deleted = await callWith({}, `/v1/iam/signing-keys/${created.id}`, { method: 'DELETE' });
    expect(deleted.status).toBe(200);

    const lines = auditLines(spy);
    expect(lines).toHaveLength(3);
    expect(lines.map((l) => l.action)).toEqual(['signing_key.create', 'signing_key.rotate', 'signing_key.delete']);
    expect(lines.map((l) => l.keyId)).toEqual([created.id, rotated.id, created.id]);
    for (const line of lines) {
      expect(line.algorithm).toBe(algorithm);
      expect(typeof line.at).toBe('string');
      expect(Math.abs(Date.parse(line.at as string) - Date.now())).toBeLessThan(60_000);
    }
    const everything = spy.mock.calls.flat().map(String).join('\n');
    for (const secret of [created.privateKey, pemBody(created.privateKey), rotated.privateKey, pemBody(rotated.privateKey)]) {
      expect(everything).not.toContain(secret);
    }
    expect(everything).not.toContain('PRIVATE KEY');
  });

  it('writes an import line for a bring-your-own key and no line for reads or refusals', async () => {
    const { exportSPKI, generateKeyPair } = await import('jose');
    const pem = await exportSPKI((await generateKeyPair('ES256', { extractable: true })).publicKey);
    const spy = vi.spyOn(console, 'log');
    const imported = (await callWith({}, '/v1/iam/signing-keys', { method: 'POST', body: { algorithm: 'ES256', publicKey: pem } })).body.data;
    await callWith({}, '/v1/iam/signing-keys');
    await callWith({}, `/v1/iam/signing-keys/${imported.id}`);
    await callWith({}, '/v1/iam/signing-keys', { method: 'POST', body: { algorithm: 'HS256' } });
    await callWith({}, '/v1/iam/signing-keys/unknown', { method: 'DELETE' });
    const lines = auditLines(spy);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ action: 'signing_key.import', keyId: imported.id, algorithm: 'ES256' });
  });
});
