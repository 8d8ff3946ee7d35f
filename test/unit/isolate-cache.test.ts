/**
 * Issue 15: the one isolate cache discipline (src/isolate-cache.ts) that the key, policy and
 * revocation caches share — driven with an injected clock (plain numbers) and loaders that count.
 */
import { describe, expect, it } from 'vitest';
import { LIMITS } from '../../src/config';
import { IsolateCache } from '../../src/isolate-cache';
import { StoreUnavailable } from '../../src/keys/store';

const TTL = 60_000;
const kvDown = () => Promise.reject(new StoreUnavailable('get', new Error('down')));

/** A loader that answers `value` and counts its calls. */
function loader<V>(value: V) {
  const calls = { count: 0 };
  return { calls, load: async () => (calls.count++, value) };
}

/** A load that resolves when the test says so. */
function pending<V>() {
  let resolve!: (value: V) => void;
  const promise = new Promise<V>((r) => (resolve = r));
  return { load: () => promise, resolve };
}

describe('IsolateCache', () => {
  it('loads once, then answers from memory until the TTL has passed', async () => {
    const cache = new IsolateCache<string>(10);
    const { calls, load } = loader('v1');
    expect(await cache.get('k', 0, TTL, load)).toBe('v1');
    expect(await cache.get('k', TTL - 1, TTL, load)).toBe('v1');
    expect(calls.count).toBe(1);
    expect(await cache.get('k', TTL, TTL, load)).toBe('v1');
    expect(calls.count).toBe(2);
    expect(cache.loads).toBe(2);
  });

  it('while one request refreshes an expired entry, the others use it for at most the refresh window', async () => {
    const cache = new IsolateCache<string>(10);
    await cache.get('k', 0, TTL, async () => 'old');
    const refresh = pending<string>();
    const refreshing = cache.get('k', TTL, TTL, refresh.load);
    const others = loader('other');
    expect(await cache.get('k', TTL + 1, TTL, others.load)).toBe('old');
    expect(await cache.get('k', TTL + LIMITS.cacheRefreshWindowMs - 1, TTL, others.load)).toBe('old');
    expect(others.calls.count).toBe(0);
    // Past the window (the first refresh hung), a request loads for itself.
    expect(await cache.get('k', TTL + LIMITS.cacheRefreshWindowMs, TTL, others.load)).toBe('other');
    refresh.resolve('new');
    expect(await refreshing).toBe('new');
  });

  it('serves an entry while KV fails within TTL + stale-if-error, then fails closed', async () => {
    const cache = new IsolateCache<string>(10);
    await cache.get('k', 0, TTL, async () => 'v1');
    expect(await cache.get('k', TTL, TTL, kvDown)).toBe('v1');
    expect(await cache.get('k', TTL + LIMITS.cacheStaleIfErrorMs - 1, TTL, kvDown)).toBe('v1');
    await expect(cache.get('k', TTL + LIMITS.cacheStaleIfErrorMs, TTL, kvDown)).rejects.toBeInstanceOf(StoreUnavailable);
    // Nothing cached at all: the failure is the answer.
    await expect(cache.get('other', 0, TTL, kvDown)).rejects.toBeInstanceOf(StoreUnavailable);
  });

  it('never serves stale for an error that is not the store being unavailable', async () => {
    const cache = new IsolateCache<string>(10);
    await cache.get('k', 0, TTL, async () => 'v1');
    await expect(cache.get('k', TTL, TTL, () => Promise.reject(new TypeError('bug')))).rejects.toBeInstanceOf(TypeError);
  });

  it('evict forgets at once, and a load that started before does not store what it read', async () => {
    const cache = new IsolateCache<string>(10);
    await cache.get('k', 0, TTL, async () => 'v1');
    const inFlight = pending<string>();
    const loading = cache.get('k', TTL, TTL, inFlight.load);
    cache.evict('k');
    inFlight.resolve('read before the write');
    expect(await loading).toBe('read before the write'); // its own request gets it
    const next = loader('after the write');
    expect(await cache.get('k', TTL + 1, TTL, next.load)).toBe('after the write');
    expect(next.calls.count).toBe(1);
  });

  it('invalidate reloads at the next lookup, keeps the entry for stale-if-error, and drops a load in flight', async () => {
    const cache = new IsolateCache<string>(10);
    await cache.get('list', 0, TTL, async () => 'v1');
    const inFlight = pending<string>();
    cache.invalidate('list'); // fresh or not, the next lookup reloads
    const loading = cache.get('list', 1, TTL, inFlight.load);
    cache.invalidate('list'); // a write lands while that load is in flight
    inFlight.resolve('read before the second write');
    await loading;
    const next = loader('v3');
    expect(await cache.get('list', 2, TTL, next.load)).toBe('v3');
    expect(next.calls.count).toBe(1);
    cache.invalidate('list');
    expect(await cache.get('list', 3, TTL, kvDown)).toBe('v3'); // KV down right after: the last snapshot still serves
  });

  it('keeps at most maxEntries, the least recently loaded going first', async () => {
    const cache = new IsolateCache<number>(3);
    for (const key of ['a', 'b', 'c']) await cache.get(key, 0, TTL, async () => 1);
    await cache.get('a', TTL, TTL, async () => 2); // reloaded: now the newest
    await cache.get('d', TTL, TTL, async () => 1);
    expect(cache.size).toBe(3);
    expect(cache.peek('b', TTL, TTL)).toBeUndefined();
    expect(cache.peek('a', TTL, TTL)).toBe(2);
    expect(cache.peek('c', TTL - 1, TTL)).toBe(1);
  });

  it('peek answers only what is younger than its TTL and drops the rest', () => {
    const cache = new IsolateCache<boolean>(10);
    cache.set('kid', true, 0);
    expect(cache.peek('kid', 29_999, 30_000)).toBe(true);
    expect(cache.peek('kid', 30_000, 30_000)).toBeUndefined();
    expect(cache.size).toBe(0);
  });
});
