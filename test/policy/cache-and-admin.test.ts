/**
 * The policy store, the isolate policy cache (counted KV reads, as for keys) and the admin routes
 * (mounted on a bare Hono app here; the lead wires them into the admin face).
 */
import { Hono } from 'hono';
import { beforeEach, describe, expect, it } from 'vitest';
import { playbackPolicyRoutes } from '../../src/admin/playback-policies';
import type { Env } from '../../src/config';
import { errorResponse, Refusal } from '../../src/errors';
import { StoreUnavailable } from '../../src/keys/store';
import { PolicyCache } from '../../src/policy/cache';
import { getPolicy, policyKvKey, putPolicy } from '../../src/policy/store';
import { countingKv, testEnv } from '../support/helpers';

let sequence = 0;
const freshId = () => `pol_${Date.now().toString(36)}_${sequence++}`;

const SAMPLE = { policy: { requireGroups: ['premium'] }, updatedAt: '2026-01-01T00:00:00.000Z' };

describe('PolicyCache', () => {
  it('caches a policy: zero KV reads warm, one read again after the TTL', async () => {
    const id = freshId();
    await putPolicy(testEnv.KEYS, id, SAMPLE);
    const { kv, calls } = countingKv(testEnv.KEYS);
    const cache = new PolicyCache();
    expect(await cache.lookup(kv, id, 0, 60)).toEqual(SAMPLE.policy);
    for (let i = 0; i < 20; i++) await cache.lookup(kv, id, 59_000, 60);
    expect(calls.get).toBe(1);
    await cache.lookup(kv, id, 60_000, 60);
    expect(calls.get).toBe(2);
  });

  it('caches "no policy" too (most playback IDs have none)', async () => {
    const { kv, calls } = countingKv(testEnv.KEYS);
    const cache = new PolicyCache();
    const id = freshId();
    for (let i = 0; i < 10; i++) expect(await cache.lookup(kv, id, 1_000, 60)).toBeNull();
    expect(calls.get).toBe(1);
  });

  it('shares no read between requests (workerd ties I/O to a request), and needs none once warm', async () => {
    const { kv, calls } = countingKv(testEnv.KEYS);
    const cache = new PolicyCache();
    const id = freshId();
    await Promise.all(Array.from({ length: 5 }, () => cache.lookup(kv, id, 0, 60)));
    expect(calls.get).toBe(5);
    await Promise.all(Array.from({ length: 25 }, () => cache.lookup(kv, id, 1000, 60)));
    expect(calls.get).toBe(5);
  });

  it('is bounded: the oldest entries go first', async () => {
    const { kv, calls } = countingKv(testEnv.KEYS);
    const cache = new PolicyCache(3);
    const ids = [freshId(), freshId(), freshId(), freshId()];
    for (const id of ids) await cache.lookup(kv, id, 0, 60);
    expect(cache.size).toBe(3);
    await cache.lookup(kv, ids[3]!, 0, 60);
    expect(calls.get).toBe(4);
    await cache.lookup(kv, ids[0]!, 0, 60);
    expect(calls.get).toBe(5);
  });

  it('evict makes the next lookup read KV again (a PUT in this isolate takes effect at once)', async () => {
    const id = freshId();
    const { kv, calls } = countingKv(testEnv.KEYS);
    const cache = new PolicyCache();
    expect(await cache.lookup(kv, id, 0, 60)).toBeNull();
    await putPolicy(testEnv.KEYS, id, SAMPLE);
    cache.evict(id);
    expect(await cache.lookup(kv, id, 1, 60)).toEqual(SAMPLE.policy);
    expect(calls.get).toBe(2);
  });

  it('fails closed when KV fails and nothing is cached; serves a recent entry while KV fails', async () => {
    const id = freshId();
    await putPolicy(testEnv.KEYS, id, SAMPLE);
    const { kv, behaviour } = countingKv(testEnv.KEYS);
    const cache = new PolicyCache();
    behaviour.fail = true;
    await expect(cache.lookup(kv, id, 0, 60)).rejects.toBeInstanceOf(StoreUnavailable);
    behaviour.fail = false;
    await cache.lookup(kv, id, 0, 60);
    behaviour.fail = true;
    expect(await cache.lookup(kv, id, 61_000, 60)).toEqual(SAMPLE.policy); // stale-if-error
    await expect(cache.lookup(kv, id, 60_000 + 5 * 60_000 + 1, 60)).rejects.toBeInstanceOf(StoreUnavailable);
  });

  it('treats an entry that no longer validates as unavailable, never as "no policy"', async () => {
    const id = freshId();
    await testEnv.KEYS.put(policyKvKey(id), JSON.stringify({ policy: { userAgents: { defaultPolicy: 'deny', allow: ['/(a+)+/'], deny: [] } }, updatedAt: 'x' }));
    await expect(getPolicy(testEnv.KEYS, id)).rejects.toBeInstanceOf(StoreUnavailable);
    await expect(new PolicyCache().lookup(testEnv.KEYS, id, 0, 60)).rejects.toBeInstanceOf(StoreUnavailable);
  });
});

describe('playback policy admin routes', () => {
  let changed: string[];
  let app: Hono<{ Bindings: Env }>;
  beforeEach(() => {
    changed = [];
    app = new Hono<{ Bindings: Env }>();
    playbackPolicyRoutes(app, (id) => changed.push(id));
    app.onError((error) => (error instanceof Refusal ? errorResponse(error.reason, error.description, { fields: error.fields }) : errorResponse('internal_error', String(error))));
  });
  const call = async (method: string, path: string, body?: unknown) => {
    const init: RequestInit = { method };
    if (body !== undefined) {
      init.body = JSON.stringify(body);
      init.headers = { 'Content-Type': 'application/json' };
    }
    const response = await app.request(`https://signet.test${path}`, init, testEnv);
    return { status: response.status, body: (await response.json()) as Record<string, any> };
  };

  it('PUT, GET, DELETE a policy; each write tells the cache', async () => {
    const id = freshId();
    const put = await call('PUT', `/v1/playback-policies/${id}`, { domains: { defaultPolicy: 'deny', allow: ['*.Example.com'], deny: [] }, bindToViewerNetwork: true });
    expect(put.status).toBe(200);
    expect(put.body).toEqual({
      success: true,
      data: {
        playbackId: id,
        domains: { defaultPolicy: 'deny', allow: ['*.example.com'], deny: [], allowNoReferrer: false },
        bindToViewerNetwork: true,
        updatedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      },
    });
    expect(changed).toEqual([id]);
    expect(await call('GET', `/v1/playback-policies/${id}`)).toEqual({ status: 200, body: put.body });
    expect(await call('DELETE', `/v1/playback-policies/${id}`)).toEqual({ status: 200, body: { success: true, data: { message: 'playback policy deleted' } } });
    expect(changed).toEqual([id, id]);
    expect((await call('GET', `/v1/playback-policies/${id}`)).status).toBe(404);
    expect((await call('DELETE', `/v1/playback-policies/${id}`)).status).toBe(404);
  });

  it('refuses an invalid body with 422 and the field, writes nothing', async () => {
    const id = freshId();
    const answer = await call('PUT', `/v1/playback-policies/${id}`, { userAgents: { defaultPolicy: 'deny', allow: ['/(a+)+$/'], deny: [] } });
    expect(answer.status).toBe(422);
    expect(answer.body.error.reason).toBe('validation_failed');
    expect(answer.body.error.fields[0].field).toBe('userAgents.allow.0');
    expect(changed).toEqual([]);
    expect((await call('GET', `/v1/playback-policies/${id}`)).status).toBe(404);
  });

  it('refuses a playback ID outside the grammar', async () => {
    const answer = await call('PUT', `/v1/playback-policies/${'x'.repeat(129)}`, {});
    expect(answer.status).toBe(422);
    expect(answer.body.error.fields).toEqual([{ field: 'playbackId', message: expect.any(String) }]);
    expect((await call('GET', '/v1/playback-policies/a.b')).status).toBe(404);
  });

  it('deletes an entry that no longer validates', async () => {
    const id = freshId();
    await testEnv.KEYS.put(policyKvKey(id), '{broken');
    expect((await call('DELETE', `/v1/playback-policies/${id}`)).status).toBe(200);
    expect(await testEnv.KEYS.get(policyKvKey(id))).toBeNull();
  });
});
