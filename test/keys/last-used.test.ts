/**
 * lastUsedAt (issue 7): written at most once per key per 5 minutes per isolate, through waitUntil,
 * never awaited by the request, errors swallowed; read back with KV bulk gets.
 */
import { env } from 'cloudflare:test';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { LastUsedTracker, readLastUsed } from '../../src/keys/last-used';
import { StoreUnavailable } from '../../src/keys/store';
import { countingKv } from '../support/helpers';

afterEach(() => vi.restoreAllMocks());

function collector() {
  const pending: Promise<unknown>[] = [];
  return { waitUntil: (p: Promise<unknown>) => void pending.push(p), drain: () => Promise.all(pending.splice(0)), pending };
}

describe('LastUsedTracker', () => {
  it('writes used:{kid} at most once per key per 5 minutes per isolate', async () => {
    const counting = countingKv(env.KEYS);
    const tracker = new LastUsedTracker();
    const { waitUntil, drain } = collector();
    const kid = `k-${crypto.randomUUID()}`;
    const t0 = Date.UTC(2026, 10, 28, 12, 0, 0); // calendar-safe: only the tracker's own interval and the stored text depend on it (KV expiry is relative)
    for (let i = 0; i < 100; i++) tracker.note(counting.kv, kid, t0 + i * 1000, waitUntil);
    await drain();
    expect(counting.calls.put).toBe(1);
    expect(await env.KEYS.get(`used:${kid}`)).toBe(new Date(t0).toISOString());

    tracker.note(counting.kv, kid, t0 + 5 * 60_000, waitUntil);
    tracker.note(counting.kv, `other-${kid}`, t0 + 5 * 60_000, waitUntil);
    await drain();
    expect(counting.calls.put).toBe(3);
    expect(await env.KEYS.get(`used:${kid}`)).toBe(new Date(t0 + 5 * 60_000).toISOString());
  });

  it('returns at once and hands the write to waitUntil (never awaited on the hot path)', () => {
    const hanging = { put: () => new Promise(() => undefined) } as unknown as KVNamespace;
    const { waitUntil, pending } = collector();
    const result = new LastUsedTracker().note(hanging, 'k', Date.now(), waitUntil);
    expect(result).toBeUndefined();
    expect(pending).toHaveLength(1);
  });

  it('swallows KV errors and logs them once per isolate', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const failing = { put: () => Promise.reject(new Error('KV down')) } as unknown as KVNamespace;
    const throwing = {
      put: () => {
        throw new Error('KV threw');
      },
    } as unknown as KVNamespace;
    const tracker = new LastUsedTracker();
    const { waitUntil, drain } = collector();
    tracker.note(failing, 'k1', Date.now(), waitUntil);
    tracker.note(failing, 'k2', Date.now(), waitUntil);
    tracker.note(throwing, 'k3', Date.now(), waitUntil);
    await expect(drain()).resolves.toBeDefined();
    expect(warn).toHaveBeenCalledTimes(1);
  });
});

describe('readLastUsed', () => {
  it('reads many keys with KV bulk gets of at most 100 names', async () => {
    const ids = Array.from({ length: 250 }, (_, i) => `bulk-${i}-${crypto.randomUUID()}`);
    const stamp = new Date().toISOString();
    await Promise.all(ids.filter((_, i) => i % 50 === 0).map((id) => env.KEYS.put(`used:${id}`, stamp)));
    const counting = countingKv(env.KEYS);
    const seen = await readLastUsed(counting.kv, ids);
    expect(counting.calls.get).toBe(3);
    expect([...seen.keys()]).toEqual(ids.filter((_, i) => i % 50 === 0));
    expect(seen.get(ids[0]!)).toBe(stamp);
  });

  it('answers an empty map for no ids without touching KV, and StoreUnavailable when KV fails', async () => {
    const counting = countingKv(env.KEYS);
    expect((await readLastUsed(counting.kv, [])).size).toBe(0);
    expect(counting.calls.get).toBe(0);
    counting.behaviour.fail = true;
    await expect(readLastUsed(counting.kv, ['a'])).rejects.toBeInstanceOf(StoreUnavailable);
  });
});
