/**
 * Token revocation (issue 7): the pure selector match, the KV layout (one self-expiring entry per
 * revocation, everything in metadata), and the isolate cache (one KV list per TTL, fail closed).
 */
import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import {
  buildSnapshot,
  deleteRevocation,
  EMPTY_SNAPSHOT,
  findRevocation,
  listRevocations,
  putRevocation,
  REVOCATION_EXPIRY_MARGIN_SECONDS,
  RevocationCache,
  revocationExpiration,
  type Revocation,
} from '../../src/keys/revocations';
import { StoreUnavailable } from '../../src/keys/store';
import { countingKv } from '../support/helpers';

// calendar-safe: NOW feeds only the pure selector match and expiry arithmetic; KV writes below use Date.now()
const NOW = Date.UTC(2026, 10, 28, 12, 0, 0);
const NOW_S = NOW / 1000;
const iso = (ms: number) => new Date(ms).toISOString();
const common = (id: string, nowMs = NOW) => ({ id, createdAt: iso(nowMs), expiresAt: iso(nowMs + 7 * 86_400_000) });

const byJti: Revocation = { ...common('r-jti'), kind: 'jti', jti: 'leaked-1' };
const bySub: Revocation = { ...common('r-sub'), kind: 'sub', sub: 'viewer-9' };
const byPlayback: Revocation = { ...common('r-pb'), kind: 'playbackId', playbackId: 'P1', before: NOW_S };
const snapshot = buildSnapshot([byJti, bySub, byPlayback], NOW);

describe('findRevocation (pure)', () => {
  it.each([
    ['a revoked jti', { jti: 'leaked-1', playbackId: 'P9', iat: NOW_S }, 'r-jti'],
    ['another jti', { jti: 'leaked-2', playbackId: 'P9', iat: NOW_S }, null],
    ['a revoked sub', { sub: 'viewer-9', playbackId: 'P9' }, 'r-sub'],
    ['a revoked sub inside an array', { sub: ['viewer-1', 'viewer-9'], playbackId: 'P9' }, 'r-sub'],
    ['another sub', { sub: 'viewer-1', playbackId: 'P9' }, null],
    ['a token for the playback ID issued before the cut-off', { playbackId: 'P1', iat: NOW_S - 1 }, 'r-pb'],
    ['a token for the playback ID issued at the cut-off', { playbackId: 'P1', iat: NOW_S }, null],
    ['a token for the playback ID issued after the cut-off', { playbackId: 'P1', iat: NOW_S + 60 }, null],
    ['a token for the playback ID without iat (cannot prove it is newer)', { playbackId: 'P1' }, 'r-pb'],
    ['a token for another playback ID issued before the cut-off', { playbackId: 'P2', iat: NOW_S - 1 }, null],
    ['a token with no selector claims', { playbackId: 'P9' }, null],
  ] as const)('%s', (_name, token, expected) => {
    expect(findRevocation(snapshot, token)?.id ?? null).toBe(expected);
  });

  it('applies the latest cut-off when a playback ID is revoked twice', () => {
    const earlier: Revocation = { ...common('r-early'), kind: 'playbackId', playbackId: 'P3', before: NOW_S - 3600 };
    const later: Revocation = { ...common('r-late'), kind: 'playbackId', playbackId: 'P3', before: NOW_S };
    for (const order of [[earlier, later], [later, earlier]]) {
      expect(findRevocation(buildSnapshot(order, NOW), { playbackId: 'P3', iat: NOW_S - 60 })?.id).toBe('r-late');
    }
  });

  it('finds nothing in an empty snapshot', () => {
    expect(findRevocation(EMPTY_SNAPSHOT, { jti: 'leaked-1', sub: 'viewer-9', playbackId: 'P1' })).toBeNull();
  });
});

describe('the KV layout', () => {
  const fresh = (extra: Partial<Revocation> = {}) =>
    ({ ...common(`rev-${crypto.randomUUID()}`, Date.now()), kind: 'jti', jti: `j-${crypto.randomUUID()}`, ...extra }) as Revocation;

  it('keeps one entry per revocation with the whole revocation in metadata, expiring when it no longer matters', async () => {
    const nowMs = Date.now();
    const revocation = fresh({ createdAt: iso(nowMs), expiresAt: iso(nowMs + 86_400_000) });
    await putRevocation(env.KEYS, revocation, nowMs);
    const listed = await env.KEYS.list<Revocation>({ prefix: `rev:${revocation.id}` });
    expect(listed.keys).toHaveLength(1);
    expect(listed.keys[0]!.metadata).toEqual(revocation);
    expect(listed.keys[0]!.expiration).toBe(Math.ceil((nowMs + 86_400_000) / 1000) + REVOCATION_EXPIRY_MARGIN_SECONDS);
    expect(await env.KEYS.get(`rev:${revocation.id}`, 'json')).toEqual(revocation);
  });

  it('never sets an expiration KV would refuse (less than 60 s ahead)', () => {
    expect(revocationExpiration({ expiresAt: iso(NOW - 86_400_000) }, NOW)).toBeGreaterThanOrEqual(NOW_S + 60);
    expect(revocationExpiration({ expiresAt: iso(NOW + 1000) }, NOW)).toBe(NOW_S + 1 + REVOCATION_EXPIRY_MARGIN_SECONDS);
  });

  it('lists every revocation with one prefix list, newest first, and lifts one', async () => {
    const counting = countingKv(env.KEYS);
    const nowMs = Date.now();
    const older = fresh({ createdAt: iso(nowMs - 1000) });
    const newer = fresh({ createdAt: iso(nowMs) });
    await putRevocation(env.KEYS, older, nowMs);
    await putRevocation(env.KEYS, newer, nowMs);
    const all = await listRevocations(counting.kv);
    expect(counting.calls.list).toBe(1);
    const ids = all.map((r) => r.id);
    expect(ids.indexOf(newer.id)).toBeLessThan(ids.indexOf(older.id));

    expect((await deleteRevocation(env.KEYS, older.id))?.id).toBe(older.id);
    expect(await deleteRevocation(env.KEYS, older.id)).toBeNull();
    expect((await listRevocations(env.KEYS)).map((r) => r.id)).not.toContain(older.id);
  });

  it('surfaces a failing KV as StoreUnavailable', async () => {
    const counting = countingKv(env.KEYS);
    counting.behaviour.fail = true;
    await expect(listRevocations(counting.kv)).rejects.toBeInstanceOf(StoreUnavailable);
    await expect(putRevocation(counting.kv, fresh(), Date.now())).rejects.toBeInstanceOf(StoreUnavailable);
  });
});

describe('RevocationCache', () => {
  async function seeded() {
    const nowMs = Date.now();
    const revocation: Revocation = { id: `c-${crypto.randomUUID()}`, kind: 'jti', jti: `cache-${crypto.randomUUID()}`, createdAt: iso(nowMs), expiresAt: iso(nowMs + 3_600_000) };
    await putRevocation(env.KEYS, revocation, nowMs);
    return { revocation, nowMs };
  }

  it('lists KV once per TTL and makes zero KV reads when warm', async () => {
    const { revocation, nowMs } = await seeded();
    const counting = countingKv(env.KEYS);
    const cache = new RevocationCache();
    const first = await cache.snapshot(counting.kv, nowMs, 60);
    expect(findRevocation(first, { jti: revocation.jti, playbackId: 'P' })?.id).toBe(revocation.id);
    for (let i = 0; i < 100; i++) await cache.snapshot(counting.kv, nowMs + i * 500, 60);
    expect(counting.calls).toEqual({ get: 0, list: 1, put: 0, delete: 0 });
    await cache.snapshot(counting.kv, nowMs + 60_000, 60);
    expect(counting.calls.list).toBe(2);
  });

  it('shares no load between requests (workerd ties I/O to a request), and needs no list once warm', async () => {
    const { nowMs } = await seeded();
    const counting = countingKv(env.KEYS);
    const cache = new RevocationCache();
    await Promise.all(Array.from({ length: 5 }, () => cache.snapshot(counting.kv, nowMs, 60)));
    expect(counting.calls.list).toBe(5);
    await Promise.all(Array.from({ length: 50 }, () => cache.snapshot(counting.kv, nowMs + 1000, 60)));
    expect(counting.calls.list).toBe(5);
  });

  it('sees a new revocation at once in the isolate that wrote it (invalidate)', async () => {
    const nowMs = Date.now();
    const cache = new RevocationCache();
    await cache.snapshot(env.KEYS, nowMs, 60);
    const { revocation } = await seeded();
    expect(findRevocation(await cache.snapshot(env.KEYS, nowMs + 1000, 60), { jti: revocation.jti, playbackId: 'P' })).toBeNull();
    cache.invalidate();
    expect(findRevocation(await cache.snapshot(env.KEYS, nowMs + 2000, 60), { jti: revocation.jti, playbackId: 'P' })?.id).toBe(revocation.id);
  });

  it('serves the previous snapshot while KV fails for up to ttl + 5 min, then fails closed', async () => {
    const { revocation, nowMs } = await seeded();
    const counting = countingKv(env.KEYS);
    const cache = new RevocationCache();
    await cache.snapshot(counting.kv, nowMs, 60);
    counting.behaviour.fail = true;
    const stale = await cache.snapshot(counting.kv, nowMs + 60_000 + 299_000, 60);
    expect(findRevocation(stale, { jti: revocation.jti, playbackId: 'P' })?.id).toBe(revocation.id);
    await expect(cache.snapshot(counting.kv, nowMs + 60_000 + 300_000, 60)).rejects.toBeInstanceOf(StoreUnavailable);
  });

  it('fails closed on a cold isolate when KV fails', async () => {
    const counting = countingKv(env.KEYS);
    counting.behaviour.fail = true;
    await expect(new RevocationCache().snapshot(counting.kv, Date.now(), 60)).rejects.toBeInstanceOf(StoreUnavailable);
  });
});
