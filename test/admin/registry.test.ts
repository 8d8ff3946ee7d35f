/**
 * The key registry (issue 11, SPEC §3 "Admin writes are linearizable"): concurrent admin writes
 * through HTTP, against the real Durable Object and KV of workerd. Each case failed before the
 * registry existed (53 keys for a limit of 45; five successors of one key; a deleted key back as
 * "retiring").
 */
import { env, runInDurableObject } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { registryOf, type KeyRegistry } from '../../src/keys/registry';
import { putKey } from '../../src/keys/store';
import { call, callWith, createKey, expectErrorEnvelope, fastpixToken, play, playbackId, refusal, sleep } from '../support/helpers';

async function keyCount(): Promise<number> {
  return (await call('/v1/iam/signing-keys?limit=1')).body.pagination.totalRecords;
}

describe('the key limit under concurrency', () => {
  it('k slots and k + 12 concurrent creates give exactly k keys; the rest answer 409 limit_reached', async () => {
    const k = 5;
    const limit = { MAX_SIGNING_KEYS: String((await keyCount()) + k) };
    const answers = await Promise.all(
      Array.from({ length: k + 12 }, (_, i) => callWith(limit, '/v1/iam/signing-keys', { method: 'POST', body: { algorithm: i % 2 ? 'ES256' : 'EdDSA' } })),
    );
    const statuses = answers.map((answer) => answer.status).sort();
    expect(statuses.filter((status) => status === 201)).toHaveLength(k);
    expect(statuses.filter((status) => status === 409)).toHaveLength(12);
    for (const refused of answers.filter((answer) => answer.status === 409)) expectErrorEnvelope(refused, 409, 'limit_reached');
    expect(await keyCount()).toBe(Number(limit.MAX_SIGNING_KEYS));
    // Every 201 is a key that exists, and nothing else was written.
    const created = answers.filter((answer) => answer.status === 201).map((answer) => answer.body.data.id as string);
    for (const id of created) expect((await call(`/v1/iam/signing-keys/${id}`)).status).toBe(200);
    for (const id of created) expect((await call(`/v1/iam/signing-keys/${id}`, { method: 'DELETE' })).status).toBe(200);
  });
});

describe('rotation under concurrency', () => {
  it('5 concurrent rotates of one key give exactly one successor; the others answer 409 key_not_active', async () => {
    const key = (await createKey('ES256')).data;
    const before = await keyCount();
    const answers = await Promise.all(Array.from({ length: 5 }, () => call(`/v1/iam/signing-keys/${key.id}/rotate`, { method: 'POST', body: {} })));
    const winners = answers.filter((answer) => answer.status === 201);
    expect(winners).toHaveLength(1);
    for (const loser of answers.filter((answer) => answer.status !== 201)) expectErrorEnvelope(loser, 409, 'key_not_active');
    expect(await keyCount()).toBe(before + 1);
    const old = (await call(`/v1/iam/signing-keys/${key.id}`)).body.data;
    expect(old).toMatchObject({ status: 'retiring', rotatedTo: winners[0]!.body.data.id });
  });

  it('refuses to rotate a retiring key, an expired key and a deleted key (409 key_not_active), and an unknown one (404)', async () => {
    const retiring = (await createKey('ES256')).data;
    expect((await call(`/v1/iam/signing-keys/${retiring.id}/rotate`, { method: 'POST', body: {} })).status).toBe(201);
    expectErrorEnvelope(await call(`/v1/iam/signing-keys/${retiring.id}/rotate`, { method: 'POST', body: {} }), 409, 'key_not_active');

    // An expired key, written as a pre-registry deployment would hold it (no waiting for a real expiry).
    const template = JSON.parse((await env.KEYS.get(`key:${retiring.id}`))!);
    const expired = { ...template, id: crypto.randomUUID(), rotatedTo: undefined, expiresAt: new Date(Date.now() - 60_000).toISOString() };
    await putKey(env.KEYS, expired);
    expectErrorEnvelope(await call(`/v1/iam/signing-keys/${expired.id}/rotate`, { method: 'POST', body: {} }), 409, 'key_not_active');

    const deleted = (await createKey('ES256')).data;
    expect((await call(`/v1/iam/signing-keys/${deleted.id}`, { method: 'DELETE' })).status).toBe(200);
    expectErrorEnvelope(await call(`/v1/iam/signing-keys/${deleted.id}/rotate`, { method: 'POST', body: {} }), 409, 'key_not_active');

    expectErrorEnvelope(await call(`/v1/iam/signing-keys/${crypto.randomUUID()}/rotate`, { method: 'POST', body: {} }), 404, 'not_found');
  });

  it('a delete racing a rotate never brings the key back (30 rounds, varied delays): GET 404, its token refused', async () => {
    for (let round = 0; round < 30; round++) {
      const key = await createKey(round % 2 ? 'EdDSA' : 'ES256');
      const p = playbackId();
      const token = await fastpixToken(key, p);
      const delay = (round % 6) * 2; // 0–10 ms between the two, in either order
      const rotate = () => call(`/v1/iam/signing-keys/${key.id}/rotate`, { method: 'POST', body: { gracePeriodSeconds: 3600 } });
      const remove = () => call(`/v1/iam/signing-keys/${key.id}`, { method: 'DELETE' });
      const [first, second] = round % 2 ? [rotate, remove] : [remove, rotate];
      const results = await Promise.all([first(), sleep(delay).then(second)]);
      const deleted = results.find((answer) => answer.text.includes('signing key deleted successfully'));
      expect(deleted?.status, `round ${round}`).toBe(200);
      expect((await call(`/v1/iam/signing-keys/${key.id}`)).status, `round ${round}`).toBe(404);
      expect(await refusal(await play(`/${p}.m3u8?token=${token}`)), `round ${round}`).toMatchObject({ status: 403, reason: 'key_unknown' });
      // A successor the rotate made (if it won the race) stays, with its own id.
      const successor = results.find((answer) => answer.status === 201);
      if (successor) expect((await call(`/v1/iam/signing-keys/${successor.body.data.id}`, { method: 'DELETE' })).status).toBe(200);
    }
  }, 120_000);
});

describe('existing deployments', () => {
  it('keeps a key written to KV before the registry existed: counted, rotated once, deleted for good', async () => {
    // A key as a pre-registry signet stored it: only in KV, unknown to the registry's own storage.
    const template = JSON.parse((await env.KEYS.get(`key:${(await createKey('ES256')).id}`))!);
    const legacy = { ...template, id: crypto.randomUUID(), createdAt: new Date().toISOString() };
    await putKey(env.KEYS, legacy);
    const heldBefore = await runInDurableObject(registryOf(env), (registry: KeyRegistry) =>
      (registry as unknown as { ctx: DurableObjectState }).ctx.storage.sql.exec('SELECT COUNT(*) AS n FROM signing_keys WHERE id = ?', legacy.id).one().n,
    );
    expect(heldBefore).toBe(0);

    const rotates = await Promise.all([0, 1, 2].map(() => call(`/v1/iam/signing-keys/${legacy.id}/rotate`, { method: 'POST', body: {} })));
    expect(rotates.filter((answer) => answer.status === 201)).toHaveLength(1);
    expect((await call(`/v1/iam/signing-keys/${legacy.id}`)).body.data.status).toBe('retiring');
    expect((await call(`/v1/iam/signing-keys/${legacy.id}`, { method: 'DELETE' })).status).toBe(200);
    expectErrorEnvelope(await call(`/v1/iam/signing-keys/${legacy.id}/rotate`, { method: 'POST', body: {} }), 409, 'key_not_active');
    expect(await env.KEYS.get(`key:${legacy.id}`)).toBeNull();
  });
});
