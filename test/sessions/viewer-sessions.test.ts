/**
 * The per-viewer sessions object (issue 16), against the real SQLite-backed Durable Object of
 * workerd, called over RPC as the gate calls it. The clock is an argument: no test sleeps.
 */
import { env, runInDurableObject } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { SESSION_LIMITS } from '../../src/config';
import { sessionsOf, type SessionOpen, type ViewerSessions } from '../../src/sessions/viewer-sessions';
import { testEnv } from '../support/helpers';

// calendar-safe: every call takes its instant as an argument (nowMs), and the object reads no clock of its own.
const T0 = Date.parse('2026-12-01T12:00:00.000Z');
const LEASE = 60_000;
const DAY = 24 * 3_600_000;

/** A viewer no other test uses: each one has its own object. */
const freshViewer = () => `viewer-${crypto.randomUUID()}`;

const opening = (sessionId: string, overrides: Partial<SessionOpen> = {}): SessionOpen => ({
  sessionId,
  playbackId: 'demo',
  climit: 2,
  evictOldest: false,
  nowMs: T0,
  leaseMs: LEASE,
  ...overrides,
});

const rowCount = (viewer: string) =>
  runInDurableObject(sessionsOf(testEnv, viewer), (_: ViewerSessions, state: DurableObjectState) =>
    state.storage.sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM sessions').one().n,
  );

describe('admitting sessions under climit', () => {
  it('climit 2 admits two and refuses the third with the number playing and the soonest lease end', async () => {
    const sessions = sessionsOf(testEnv, freshViewer());
    expect(await sessions.admit(opening('a', { nowMs: T0 }))).toEqual({ ok: true, admitted: 'new', leaseEndsAtMs: T0 + LEASE, evicted: [] });
    expect(await sessions.admit(opening('b', { nowMs: T0 + 5_000 }))).toEqual({ ok: true, admitted: 'new', leaseEndsAtMs: T0 + 5_000 + LEASE, evicted: [] });
    expect(await sessions.admit(opening('c', { nowMs: T0 + 10_000 }))).toEqual({ ok: false, reason: 'stream_limit_reached', playing: 2, nextLeaseEndsAtMs: T0 + LEASE });
  });

  it('continues an active session without counting it twice, extending its lease', async () => {
    const sessions = sessionsOf(testEnv, freshViewer());
    await sessions.admit(opening('a'));
    expect(await sessions.admit(opening('a', { nowMs: T0 + 30_000 }))).toEqual({ ok: true, admitted: 'continued', leaseEndsAtMs: T0 + 30_000 + LEASE, evicted: [] });
    expect((await sessions.admit(opening('b', { nowMs: T0 + 31_000 }))).ok).toBe(true);
    expect(await sessions.admit(opening('c', { nowMs: T0 + 32_000 }))).toMatchObject({ ok: false, reason: 'stream_limit_reached', playing: 2 });
  });

  it('frees the slot of a session whose lease lapsed; the lapsed token is admitted again as new only if there is room', async () => {
    const sessions = sessionsOf(testEnv, freshViewer());
    await sessions.admit(opening('a', { climit: 1 }));
    expect(await sessions.admit(opening('b', { climit: 1, nowMs: T0 + LEASE - 1 }))).toMatchObject({ ok: false, playing: 1 });
    // At leaseEndsAt the session is over: the lease is `leaseEndsAt > now`.
    expect(await sessions.admit(opening('b', { climit: 1, nowMs: T0 + LEASE }))).toMatchObject({ ok: true, admitted: 'new' });
    expect(await sessions.renew('a', T0 + LEASE + 1, LEASE)).toEqual({ alive: false, reason: 'unknown' });
    expect(await sessions.admit(opening('a', { climit: 1, nowMs: T0 + LEASE + 1 }))).toMatchObject({ ok: false, reason: 'stream_limit_reached' });
    expect(await sessions.admit(opening('a', { climit: 1, nowMs: T0 + 3 * LEASE }))).toMatchObject({ ok: true, admitted: 'new', leaseEndsAtMs: T0 + 4 * LEASE });
  });

  it('with evict-oldest ends the oldest session; its renewal says ended and its reload is refused, never evicting back', async () => {
    const viewer = freshViewer();
    const sessions = sessionsOf(testEnv, viewer);
    await sessions.admit(opening('a', { evictOldest: true, nowMs: T0 }));
    await sessions.admit(opening('b', { evictOldest: true, nowMs: T0 + 1 }));
    expect(await sessions.admit(opening('c', { evictOldest: true, nowMs: T0 + 2 }))).toEqual({ ok: true, admitted: 'new', leaseEndsAtMs: T0 + 2 + LEASE, evicted: ['a'] });
    expect(await sessions.renew('a', T0 + 3, LEASE)).toEqual({ alive: false, reason: 'ended' });
    expect(await sessions.admit(opening('a', { evictOldest: true, nowMs: T0 + 4 }))).toEqual({ ok: false, reason: 'session_ended' });
    expect((await sessions.list(T0 + 5)).map((session) => session.id)).toEqual(['b', 'c']);
  });

  it('evicts the oldest by start time, not by last activity', async () => {
    const sessions = sessionsOf(testEnv, freshViewer());
    await sessions.admit(opening('first', { evictOldest: true, nowMs: T0 }));
    await sessions.admit(opening('second', { evictOldest: true, nowMs: T0 + 1_000 }));
    await sessions.renew('second', T0 + 2_000, LEASE);
    await sessions.renew('first', T0 + 3_000, LEASE);
    expect(await sessions.admit(opening('third', { evictOldest: true, nowMs: T0 + 4_000 }))).toMatchObject({ ok: true, evicted: ['first'] });
  });

  it("holds a token's own limit when older sessions were admitted under a higher one", async () => {
    const sessions = sessionsOf(testEnv, freshViewer());
    for (const [i, id] of ['a', 'b', 'c'].entries()) await sessions.admit(opening(id, { climit: 3, nowMs: T0 + i }));
    expect(await sessions.admit(opening('d', { climit: 2, nowMs: T0 + 10 }))).toMatchObject({ ok: false, playing: 3, nextLeaseEndsAtMs: T0 + LEASE });
    expect(await sessions.admit(opening('d', { climit: 2, evictOldest: true, nowMs: T0 + 10 }))).toMatchObject({ ok: true, evicted: ['a', 'b'] });
    expect((await sessions.list(T0 + 11)).map((session) => session.id)).toEqual(['c', 'd']);
  });

  it('keeps two viewers apart: one at its limit never affects the other', async () => {
    const one = sessionsOf(testEnv, freshViewer());
    const other = sessionsOf(testEnv, freshViewer());
    await one.admit(opening('a', { climit: 1 }));
    expect(await one.admit(opening('b', { climit: 1 }))).toMatchObject({ ok: false, playing: 1 });
    expect(await other.admit(opening('b', { climit: 1 }))).toMatchObject({ ok: true, admitted: 'new' });
    // the same session id under another viewer is another session
    expect(await other.admit(opening('a', { climit: 1, evictOldest: true }))).toMatchObject({ ok: true, evicted: ['b'] });
    expect((await one.list(T0)).map((session) => session.id)).toEqual(['a']);
  });

  it('admits exactly climit of 10 concurrent new sessions; the others are refused with the count', async () => {
    const sessions = sessionsOf(testEnv, freshViewer());
    const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => sessions.admit(opening(`s${i}`, { climit: 3, nowMs: T0 + i }))));
    expect(answers.filter((answer) => answer.ok)).toHaveLength(3);
    const refused = answers.filter((answer) => !answer.ok);
    expect(refused).toHaveLength(7);
    for (const answer of refused) expect(answer).toMatchObject({ reason: 'stream_limit_reached', playing: 3 });
    expect(await sessions.list(T0 + 10)).toHaveLength(3);
  });

  it('admits exactly one of 10 concurrent evict-oldest sessions at a time: 3 remain active, the rest evicted', async () => {
    const sessions = sessionsOf(testEnv, freshViewer());
    const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => sessions.admit(opening(`s${i}`, { climit: 3, evictOldest: true, nowMs: T0 }))));
    expect(answers.every((answer) => answer.ok)).toBe(true);
    const evicted = answers.flatMap((answer) => (answer.ok ? answer.evicted : []));
    expect(evicted).toHaveLength(7);
    expect(new Set(evicted).size).toBe(7);
    const active = (await sessions.list(T0 + 1)).map((session) => session.id);
    expect(active).toHaveLength(3);
    for (const id of active) expect(evicted).not.toContain(id);
  });
});

describe('renewing leases', () => {
  it('extends an active lease to now + leaseMs and records the last request', async () => {
    const sessions = sessionsOf(testEnv, freshViewer());
    await sessions.admit(opening('a'));
    expect(await sessions.renew('a', T0 + 20_000, LEASE)).toEqual({ alive: true, leaseEndsAtMs: T0 + 20_000 + LEASE });
    expect(await sessions.list(T0 + 20_000)).toEqual([
      { id: 'a', playbackId: 'demo', startedAt: new Date(T0).toISOString(), lastSeenAt: new Date(T0 + 20_000).toISOString(), leaseEndsAt: new Date(T0 + 20_000 + LEASE).toISOString() },
    ]);
    expect(Object.keys((await sessions.list(T0 + 20_000))[0]!)).not.toContain('network');
    // Still alive past the first lease end, thanks to the renewal.
    expect(await sessions.renew('a', T0 + LEASE + 10_000, LEASE)).toEqual({ alive: true, leaseEndsAtMs: T0 + 2 * LEASE + 10_000 });
  });

  it('never shortens a lease when an edge with a slower clock renews', async () => {
    const sessions = sessionsOf(testEnv, freshViewer());
    await sessions.admit(opening('a', { nowMs: T0 + 10_000 }));
    expect(await sessions.renew('a', T0 + 5_000, LEASE)).toEqual({ alive: true, leaseEndsAtMs: T0 + 10_000 + LEASE });
  });

  it('answers unknown for a session never seen or lapsed, and ended for one ended', async () => {
    const sessions = sessionsOf(testEnv, freshViewer());
    expect(await sessions.renew('never', T0, LEASE)).toEqual({ alive: false, reason: 'unknown' });
    await sessions.admit(opening('quiet'));
    expect(await sessions.renew('quiet', T0 + LEASE, LEASE)).toEqual({ alive: false, reason: 'unknown' });
    await sessions.admit(opening('kicked', { nowMs: T0 + LEASE }));
    await sessions.end('kicked', T0 + LEASE + 1);
    expect(await sessions.renew('kicked', T0 + LEASE + 2, LEASE)).toEqual({ alive: false, reason: 'ended' });
  });
});

describe('ending and listing', () => {
  it('end() ends an active session once, frees its slot and remembers it as ended', async () => {
    const sessions = sessionsOf(testEnv, freshViewer());
    await sessions.admit(opening('a', { climit: 1 }));
    expect(await sessions.end('a', T0 + 1)).toBe(true);
    expect(await sessions.end('a', T0 + 2)).toBe(false);
    expect(await sessions.end('never', T0 + 2)).toBe(false);
    expect(await sessions.admit(opening('a', { climit: 1, nowMs: T0 + 3 }))).toEqual({ ok: false, reason: 'session_ended' });
    expect(await sessions.admit(opening('b', { climit: 1, nowMs: T0 + 3 }))).toMatchObject({ ok: true, admitted: 'new' });
  });

  it('end() does not end a session whose lease already lapsed', async () => {
    const sessions = sessionsOf(testEnv, freshViewer());
    await sessions.admit(opening('a'));
    expect(await sessions.end('a', T0 + LEASE)).toBe(false);
    expect(await sessions.admit(opening('a', { nowMs: T0 + LEASE + 1 }))).toMatchObject({ ok: true, admitted: 'new' });
  });

  it('list() gives the active sessions oldest first, with their network, and none lapsed or ended', async () => {
    const sessions = sessionsOf(testEnv, freshViewer());
    expect(await sessions.list(T0)).toEqual([]);
    await sessions.admit(opening('old', { climit: 5, nowMs: T0, network: '203.0.113.0/24' }));
    await sessions.admit(opening('quiet', { climit: 5, nowMs: T0 + 1_000, playbackId: 'other' }));
    await sessions.admit(opening('new', { climit: 5, nowMs: T0 + 30_000, network: '2001:db8:1::/48' }));
    await sessions.admit(opening('ended', { climit: 5, nowMs: T0 + 30_000 }));
    await sessions.end('ended', T0 + 30_001);
    await sessions.renew('old', T0 + 50_000, LEASE);
    const listed = await sessions.list(T0 + 1_000 + LEASE);
    expect(listed).toEqual([
      { id: 'old', playbackId: 'demo', network: '203.0.113.0/24', startedAt: new Date(T0).toISOString(), lastSeenAt: new Date(T0 + 50_000).toISOString(), leaseEndsAt: new Date(T0 + 50_000 + LEASE).toISOString() },
      {
        id: 'new',
        playbackId: 'demo',
        network: '2001:db8:1::/48',
        startedAt: new Date(T0 + 30_000).toISOString(),
        lastSeenAt: new Date(T0 + 30_000).toISOString(),
        leaseEndsAt: new Date(T0 + 30_000 + LEASE).toISOString(),
      },
    ]);
  });
});

describe('what the object remembers, and for how long', () => {
  it('forgets an ended session after the longest grant lifetime: then its token may start again', async () => {
    const sessions = sessionsOf(testEnv, freshViewer());
    await sessions.admit(opening('a'));
    await sessions.end('a', T0 + 1);
    expect(await sessions.admit(opening('a', { nowMs: T0 + DAY }))).toEqual({ ok: false, reason: 'session_ended' });
    expect(await sessions.admit(opening('a', { nowMs: T0 + 1 + DAY }))).toMatchObject({ ok: true, admitted: 'new' });
  });

  it('prunes lapsed sessions and expired tombstones lazily', async () => {
    const viewer = freshViewer();
    const sessions = sessionsOf(testEnv, viewer);
    await sessions.admit(opening('lapses', { climit: 3 }));
    await sessions.admit(opening('ended', { climit: 3 }));
    await sessions.end('ended', T0 + 1);
    expect(await rowCount(viewer)).toBe(2);
    await sessions.list(T0 + LEASE);
    expect(await rowCount(viewer)).toBe(1);
    await sessions.list(T0 + 1 + DAY);
    expect(await rowCount(viewer)).toBe(0);
  });

  it(`keeps at most ${SESSION_LIMITS.maxRowsPerViewer} rows per viewer, dropping the oldest tombstones first`, async () => {
    const viewer = freshViewer();
    const sessions = sessionsOf(testEnv, viewer);
    const cap = SESSION_LIMITS.maxRowsPerViewer;
    await sessions.admit(opening('active', { climit: 3, nowMs: T0 }));
    // A viewer that has cycled through many evicted tokens today: tombstones t0 (oldest) … t{cap-1}.
    await runInDurableObject(sessions, (_: ViewerSessions, state: DurableObjectState) => {
      for (let i = 0; i < cap; i++) {
        state.storage.sql.exec(
          'INSERT INTO sessions (id, playback_id, network, started_at, last_seen_at, lease_ends_at, ended_at) VALUES (?, ?, NULL, ?, ?, ?, ?)',
          `t${i}`,
          'demo',
          T0 - 3_600_000 + i,
          T0 - 3_600_000 + i,
          T0 - 1_800_000 + i,
          T0 - 1_800_000 + i,
        );
      }
    });
    expect(await sessions.admit(opening('fresh', { climit: 3, nowMs: T0 + 1 }))).toMatchObject({ ok: true, admitted: 'new' });
    expect(await rowCount(viewer)).toBe(cap);
    expect((await sessions.list(T0 + 2)).map((session) => session.id)).toEqual(['active', 'fresh']);
    // The two oldest tombstones went; the newest is still refused.
    expect(await sessions.admit(opening(`t${cap - 1}`, { climit: 3, nowMs: T0 + 3 }))).toEqual({ ok: false, reason: 'session_ended' });
    expect(await sessions.admit(opening('t0', { climit: 3, nowMs: T0 + 3 }))).toMatchObject({ ok: true, admitted: 'new' });
  });
});

describe('input the object refuses rather than throws on', () => {
  const long = 'x'.repeat(SESSION_LIMITS.maxIdLength + 1);
  const invalid: Array<[string, Partial<SessionOpen>]> = [
    ['climit 0', { climit: 0 }],
    ['climit 101', { climit: 101 }],
    ['climit 1.5', { climit: 1.5 }],
    ['climit NaN', { climit: Number.NaN }],
    ['climit as text', { climit: '2' as unknown as number }],
    ['an empty session id', { sessionId: '' }],
    ['a session id of 201 characters', { sessionId: long }],
    ['a playback ID of 201 characters', { playbackId: long }],
    ['a network of 201 characters', { network: long }],
    ['evictOldest not a boolean', { evictOldest: 'yes' as unknown as boolean }],
    ['a fractional clock', { nowMs: T0 + 0.5 }],
    ['a negative clock', { nowMs: -1 }],
    ['a lease of 0', { leaseMs: 0 }],
    ['a lease longer than any grant', { leaseMs: SESSION_LIMITS.maxLeaseMs + 1 }],
  ];

  it.each(invalid)('admit refuses %s as stream_limit_reached with nothing admitted', async (_, overrides) => {
    const viewer = freshViewer();
    const sessions = sessionsOf(testEnv, viewer);
    expect(await sessions.admit(opening('a', overrides))).toMatchObject({ ok: false, reason: 'stream_limit_reached', playing: 0 });
    expect(await rowCount(viewer)).toBe(0);
  });

  it('accepts the bounds themselves: climit 1 and 100, ids of 200 characters', async () => {
    const sessions = sessionsOf(testEnv, freshViewer());
    const id = 'y'.repeat(SESSION_LIMITS.maxIdLength);
    expect(await sessions.admit(opening(id, { climit: 1, playbackId: id, network: id }))).toMatchObject({ ok: true });
    expect(await sessions.admit(opening('b', { climit: 100 }))).toMatchObject({ ok: true });
  });

  it('renew, end and list refuse malformed input with their negative answer', async () => {
    const sessions = sessionsOf(testEnv, freshViewer());
    await sessions.admit(opening('a'));
    expect(await sessions.renew(long, T0, LEASE)).toEqual({ alive: false, reason: 'unknown' });
    expect(await sessions.renew('a', Number.NaN, LEASE)).toEqual({ alive: false, reason: 'unknown' });
    expect(await sessions.renew('a', T0, -5)).toEqual({ alive: false, reason: 'unknown' });
    expect(await sessions.end('', T0)).toBe(false);
    expect(await sessions.end('a', Number.POSITIVE_INFINITY)).toBe(false);
    expect(await sessions.list(Number.NaN)).toEqual([]);
    // and nothing was changed by them
    expect((await sessions.list(T0)).map((session) => session.id)).toEqual(['a']);
  });
});

it('is bound in the test env as the worker binds it (wrangler.toml SESSIONS)', () => {
  expect(env.SESSIONS).toBeDefined();
  expect(env.SESSIONS.idFromName('x').equals(env.SESSIONS.idFromName('x'))).toBe(true);
});
