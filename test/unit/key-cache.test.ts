import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { KeyCache } from '../../src/keys/cache';
import { createKey } from '../support/helpers';

/** env.KEYS whose `get` waits for `release()` when `hold` is set, counting reads. */
function slowKv() {
  const state = { reads: 0, hold: false, waiting: [] as Array<() => void> };
  const kv = new Proxy(env.KEYS, {
    get(target, property) {
      const value = Reflect.get(target, property);
      if (property !== 'get') return typeof value === 'function' ? value.bind(target) : value;
      return async (...args: unknown[]) => {
        state.reads += 1;
        if (state.hold) await new Promise<void>((resolve) => state.waiting.push(resolve));
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { kv, state, release: () => state.waiting.splice(0).forEach((resolve) => resolve()) };
}

describe('KeyCache', () => {
  it('refreshes an expired entry in one request while the others keep using it (no shared promise)', async () => {
    const key = await createKey('ES256');
    const cache = new KeyCache();
    const { kv, state, release } = slowKv();
    const t0 = 1_000_000;
    expect((await cache.lookup(kv, key.id, t0, 60))?.kid).toBe(key.id);
    expect(state.reads).toBe(1);
    state.hold = true;
    const refreshing = cache.lookup(kv, key.id, t0 + 61_000, 60); // past the TTL: this one reads KV
    const others = await Promise.all(Array.from({ length: 20 }, () => cache.lookup(kv, key.id, t0 + 61_500, 60)));
    expect(others.every((value) => value?.kid === key.id)).toBe(true);
    expect(state.reads).toBe(2);
    release();
    expect((await refreshing)?.kid).toBe(key.id);
    // after the refresh window without a completed refresh, another request may try again
    state.hold = false;
    expect((await cache.lookup(kv, key.id, t0 + 61_000 + 60_000 + 1, 60))?.kid).toBe(key.id);
    expect(state.reads).toBe(3);
  });

  it('forgets a kid at once on evict, so a deleted key is not served from the refresh window', async () => {
    const key = await createKey('ES256');
    const cache = new KeyCache();
    const { kv, state } = slowKv();
    await cache.lookup(kv, key.id, 0, 60);
    await env.KEYS.delete(`key:${key.id}`);
    cache.evict(key.id);
    expect(await cache.lookup(kv, key.id, 1, 60)).toBeNull();
    expect(state.reads).toBe(2);
  });
});
