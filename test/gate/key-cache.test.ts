/**
 * SPEC §6 at the gate, counted rather than assumed: the warm path makes zero KV reads, unknown
 * kids are negatively cached, concurrent misses share one read, and a failing KV fails closed
 * except for keys already cached. KV is the real (miniflare) namespace behind a counting wrapper.
 */
import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { callWorker, countingKv, createKey, fastpixToken, nowSeconds, playbackId, refusal, sign } from '../support/helpers';

describe('the isolate key cache', () => {
  it('reads KV once for the key and once for the playback ID policy, then serves every request from the isolate with zero KV reads', async () => {
    const key = await createKey('ES256');
    const counting = countingKv(env.KEYS);
    const testEnv = { ...env, KEYS: counting.kv };
    const p = playbackId();
    const first = await callWorker(`/${p}/v0/seg0.m4s?token=${await fastpixToken(key, p)}`, testEnv);
    expect(first.status).toBe(200);
    expect(counting.calls.get).toBe(2); // key:{kid} and policy:{P}
    const readsAfterFirst = counting.calls.get + counting.calls.list;
    for (let i = 0; i < 20; i++) {
      const response = await callWorker(`/${p}/v0/seg${i % 4}.m4s?token=${await fastpixToken(key, p, 600 + i)}`, testEnv);
      expect(response.status).toBe(200);
      await response.arrayBuffer();
    }
    expect(counting.calls.get + counting.calls.list).toBe(readsAfterFirst);
  });

  it('reads KV at most once per cold concurrent request, and not at all once the key is cached', async () => {
    const key = await createKey('EdDSA');
    const counting = countingKv(env.KEYS);
    const testEnv = { ...env, KEYS: counting.kv };
    const p = playbackId();
    const token = await fastpixToken(key, p);
    const responses = await Promise.all(Array.from({ length: 10 }, () => callWorker(`/${p}/thumbnail.jpg?token=${token}`, testEnv)));
    expect(responses.map((r) => r.status)).toEqual(Array(10).fill(200));
    // No promise is shared across requests (workerd cancels a request's I/O with it): each cold
    // request reads key:{kid} and policy:{P} at most once.
    expect(counting.calls.get).toBeLessThanOrEqual(20);
    const afterBurst = counting.calls.get;
    await Promise.all(Array.from({ length: 10 }, () => callWorker(`/${p}/thumbnail.jpg?token=${token}`, testEnv)));
    expect(counting.calls.get).toBe(afterBurst);
  });

  it('negatively caches unknown kids: a flood costs one KV read per distinct kid', async () => {
    const key = await createKey('ES256');
    const counting = countingKv(env.KEYS);
    const testEnv = { ...env, KEYS: counting.kv };
    const p = playbackId();
    const kids = Array.from({ length: 25 }, (_, i) => `unknown-${crypto.randomUUID()}-${i}`);
    for (let round = 0; round < 3; round++) {
      for (const kid of kids) {
        const token = await sign(key, { kid, aud: `media:${p}`, exp: nowSeconds() + 60 });
        expect((await refusal(await callWorker(`/${p}.m3u8?token=${token}`, testEnv))).reason).toBe('key_unknown');
      }
    }
    expect(counting.calls.get).toBe(kids.length);
  });

  it('keeps verifying a cached key while KV fails, and fails closed (503 keys_unavailable) for any other', async () => {
    const cached = await createKey('ES256');
    const uncached = await createKey('ES256');
    const counting = countingKv(env.KEYS);
    const testEnv = { ...env, KEYS: counting.kv };
    const p = playbackId();
    expect((await callWorker(`/${p}/v0/seg0.m4s?token=${await fastpixToken(cached, p)}`, testEnv)).status).toBe(200);
    counting.behaviour.fail = true;
    expect((await callWorker(`/${p}/v0/seg1.m4s?token=${await fastpixToken(cached, p)}`, testEnv)).status).toBe(200);
    const refused = await refusal(await callWorker(`/${p}/v0/seg1.m4s?token=${await fastpixToken(uncached, p)}`, testEnv));
    expect(refused).toMatchObject({ status: 503, reason: 'keys_unavailable' });
  });
});
