/**
 * Issue 16, the pure parts and the isolate's lease logic: what a token's `climit` claims mean
 * (streamLimitOf, sessionIdOf), and when SessionLeases asks the viewer's object. The object is
 * replaced here by a scripted SessionStore that answers as told and counts its calls; the real
 * Durable Object is exercised through HTTP in test/gate/sessions.test.ts and test/sessions/.
 */
import { describe, expect, it } from 'vitest';
import { SESSION_LIMITS } from '../../src/config';
import { sessionIdOf, streamLimitOf, viewerRefOf } from '../../src/sessions/claims';
import { SessionLeases, type SessionStore } from '../../src/sessions/leases';
import type { AdmitResult, RenewResult } from '../../src/sessions/viewer-sessions';

describe('streamLimitOf', () => {
  it.each([
    ['no climit: not limited', { sub: 'u1' }, undefined],
    ['climit and a viewer', { sub: 'u1', climit: 2 }, { viewer: 'u1', climit: 2, evictOldest: false }],
    ['the bounds', { sub: 'u1', climit: SESSION_LIMITS.maxClimit }, { viewer: 'u1', climit: SESSION_LIMITS.maxClimit, evictOldest: false }],
    ['evict-oldest', { sub: 'u1', climit: 1, climitPolicy: 'evict-oldest' }, { viewer: 'u1', climit: 1, evictOldest: true }],
    ['refuse, said', { sub: 'u1', climit: 1, climitPolicy: 'refuse' }, { viewer: 'u1', climit: 1, evictOldest: false }],
  ])('%s', (_case, payload, expected) => {
    expect(streamLimitOf(payload, 'sub')).toEqual(expected);
  });

  it.each([
    ['climit 0', { sub: 'u1', climit: 0 }, /whole number from 1 to 100/],
    ['climit above the maximum', { sub: 'u1', climit: SESSION_LIMITS.maxClimit + 1 }, /whole number/],
    ['a fractional climit', { sub: 'u1', climit: 2.5 }, /whole number/],
    ['a string climit', { sub: 'u1', climit: '2' }, /whole number/],
    ['a policy without climit', { sub: 'u1', climitPolicy: 'evict-oldest' }, /needs a "climit"/],
    ['an unknown policy', { sub: 'u1', climit: 2, climitPolicy: 'evict-newest' }, /"refuse" or "evict-oldest"/],
    ['no viewer', { climit: 2 }, /name its viewer in the "sub" claim/],
    ['an empty viewer', { sub: '', climit: 2 }, /name its viewer/],
    ['a viewer array (Mux sub)', { sub: ['a', 'b'], climit: 2 }, /name its viewer/],
    ['a viewer too long', { sub: 'v'.repeat(SESSION_LIMITS.maxIdLength + 1), climit: 2 }, /longer than 200/],
  ])('refuses %s as token_malformed', (_case, payload, message) => {
    let caught: unknown;
    try {
      streamLimitOf(payload, 'sub');
    } catch (error) {
      caught = error;
    }
    expect(caught).toMatchObject({ reason: 'token_malformed' });
    expect((caught as Error).message).toMatch(message);
  });

  it('reads the viewer from the configured claim', () => {
    expect(streamLimitOf({ sub: 'P1', uid: 'user-7', climit: 3 }, 'uid')).toEqual({ viewer: 'user-7', climit: 3, evictOldest: false });
  });
});

describe('sessionIdOf', () => {
  it('is the jti when there is one, else a stable digest of the token that differs between tokens', async () => {
    expect(await sessionIdOf('a.b.c', 'j-1')).toBe('j-1');
    const one = await sessionIdOf('a.b.c', undefined);
    expect(one).toMatch(/^t-[A-Za-z0-9_-]{22}$/);
    expect(await sessionIdOf('a.b.c', undefined)).toBe(one);
    expect(await sessionIdOf('a.b.d', undefined)).not.toBe(one);
  });

  it('names a viewer by a reference that carries no part of the name (what grants and object names hold)', async () => {
    const ref = await viewerRefOf('ada@example.com');
    expect(ref).toMatch(/^v-[A-Za-z0-9_-]{22}$/);
    expect(ref).not.toContain('ada');
    expect(await viewerRefOf('ada@example.com')).toBe(ref);
    expect(await viewerRefOf('ada@example.org')).not.toBe(ref);
  });
});

/** A store that answers from the scripts given and counts its calls; `down` makes every call reject. */
function scripted(admit: (sessionId: string) => AdmitResult, renew: (sessionId: string) => RenewResult = () => ({ alive: true, leaseEndsAtMs: Date.now() + LEASE })) {
  const store = {
    down: false,
    admits: 0,
    renews: 0,
    async admit(_viewer: string, open: { sessionId: string }) {
      store.admits++;
      if (store.down) throw new Error('unreachable');
      return admit(open.sessionId);
    },
    async renew(_viewer: string, sessionId: string) {
      store.renews++;
      if (store.down) throw new Error('unreachable');
      return renew(sessionId);
    },
  };
  return store satisfies SessionStore;
}

const LEASE = 60_000;
const RENEW = 20_000;
const T0 = Date.now();
const limit = { viewer: 'u1', climit: 2, evictOldest: false };
const admitted = (leaseEndsAtMs: number, evicted: string[] = []): AdmitResult => ({ ok: true, admitted: 'new', leaseEndsAtMs, evicted });
const noWait = () => {};

async function reason(run: Promise<unknown>): Promise<string> {
  try {
    await run;
    return 'ok';
  } catch (error) {
    return (error as { reason: string }).reason;
  }
}

describe('SessionLeases', () => {
  it('reopening a session it admitted is answered from memory, its lease renewed in the background once per interval', async () => {
    const store = scripted(() => admitted(T0 + LEASE));
    const leases = new SessionLeases(store, LEASE, RENEW, () => T0);
    expect(await leases.open('u1', limit, 's1', 'P', undefined, T0, noWait)).toBe('asked');
    for (const at of [T0 + 1, T0 + RENEW - 1]) expect(await leases.open('u1', limit, 's1', 'P', undefined, at, noWait)).toBe('remembered');
    expect([store.admits, store.renews]).toEqual([1, 0]);
    const background: Promise<unknown>[] = [];
    expect(await leases.open('u1', limit, 's1', 'P', undefined, T0 + RENEW, (p) => background.push(p))).toBe('asked');
    await Promise.all(background);
    expect([store.admits, store.renews]).toEqual([1, 1]);
  });

  it('refuses at once, in the isolate that admitted the newer one, the sessions an evict-oldest admission ended', async () => {
    const store = scripted((id) => admitted(T0 + LEASE, id === 'new' ? ['old'] : []));
    const leases = new SessionLeases(store, LEASE, RENEW, () => T0);
    await leases.open('u1', limit, 'old', 'P', undefined, T0, noWait);
    await leases.open('u1', { ...limit, evictOldest: true }, 'new', 'P', undefined, T0 + 1, noWait);
    expect(await reason(leases.check('u1', 'old', T0 + 2, noWait))).toBe('session_ended');
    expect(store.renews).toBe(0);
  });

  it('answers grants from the remembered verdict, renews a stale one off the response path, and refuses once the object says ended', async () => {
    let answer: (result: RenewResult) => void = () => {};
    const store = scripted(
      () => admitted(T0 + LEASE),
      () => ({ alive: true, leaseEndsAtMs: T0 + LEASE }),
    );
    // The renewal's answer is held until the test releases it: requests meanwhile are served.
    store.renew = async () => {
      store.renews++;
      return new Promise<RenewResult>((resolve) => (answer = resolve));
    };
    const leases = new SessionLeases(store, LEASE, RENEW, () => T0);
    await leases.open('u1', limit, 's1', 'P', undefined, T0, noWait);
    const background: Promise<unknown>[] = [];
    const waitUntil = (promise: Promise<unknown>) => background.push(promise);
    expect(await reason(leases.check('u1', 's1', T0 + RENEW - 1, waitUntil))).toBe('ok');
    expect(store.renews).toBe(0);
    // Stale: served, and renewed in the background (one renewal in flight, however many requests).
    expect(await reason(leases.check('u1', 's1', T0 + RENEW, waitUntil))).toBe('ok');
    expect(await reason(leases.check('u1', 's1', T0 + RENEW + 1, waitUntil))).toBe('ok');
    expect(background).toHaveLength(1);
    expect(store.renews).toBe(1);
    answer({ alive: false, reason: 'ended' });
    await Promise.all(background);
    expect(await reason(leases.check('u1', 's1', T0 + RENEW + 2, waitUntil))).toBe('session_ended');
  });

  it('asks and waits when it knows nothing of the session (another isolate admitted it)', async () => {
    const cases: Array<[RenewResult, string]> = [
      [{ alive: true, leaseEndsAtMs: T0 + LEASE }, 'ok'],
      [{ alive: false, reason: 'ended' }, 'session_ended'],
      [{ alive: false, reason: 'unknown' }, 'session_ended'], // lapsed: the viewer was quiet past the lease
    ];
    for (const [answer, expected] of cases) {
      const store = scripted(() => admitted(T0), () => answer);
      const leases = new SessionLeases(store, LEASE, RENEW, () => T0);
      expect(await reason(leases.check('u1', 's1', T0, () => {}))).toBe(expected);
      expect(store.renews).toBe(1);
    }
  });

  it('refuses a session beyond the limit and an evicted one, with the reasons the gate answers', async () => {
    const full = new SessionLeases(scripted(() => ({ ok: false, reason: 'stream_limit_reached', playing: 2, nextLeaseEndsAtMs: T0 + 5_000 })), LEASE, RENEW, () => T0);
    const refused = full.open('u1', limit, 's3', 'P', undefined, T0, noWait);
    await expect(refused).rejects.toMatchObject({ reason: 'stream_limit_reached' });
    await expect(full.open('u1', limit, 's3', 'P', undefined, T0, noWait)).rejects.toThrow(/plays 2 streams at once.*climit 2.*next lease ends at/);
    const evicted = new SessionLeases(scripted(() => ({ ok: false, reason: 'session_ended' })), LEASE, RENEW, () => T0);
    expect(await reason(evicted.open('u1', limit, 's1', 'P', undefined, T0, noWait))).toBe('session_ended');
  });

  it('fails closed when the object is unreachable, except for a session it saw admitted, until that lease ends', async () => {
    const store = scripted(() => admitted(T0 + LEASE), () => ({ alive: true, leaseEndsAtMs: T0 + LEASE }));
    const leases = new SessionLeases(store, LEASE, RENEW, () => T0);
    await leases.open('u1', limit, 's1', 'P', undefined, T0, noWait);
    store.down = true;
    expect(await reason(leases.open('u1', limit, 's2', 'P', undefined, T0 + 1, noWait))).toBe('sessions_unavailable');
    const background: Promise<unknown>[] = [];
    expect(await reason(leases.check('u1', 's1', T0 + RENEW + 1, (p) => background.push(p)))).toBe('ok');
    await Promise.all(background); // the failed renewal keeps the verdict
    expect(await reason(leases.open('u1', limit, 's1', 'P', undefined, T0 + LEASE - 1, noWait))).toBe('ok');
    expect(await reason(leases.check('u1', 's1', T0 + LEASE - 1, () => {}))).toBe('ok');
    expect(await reason(leases.check('u1', 's1', T0 + LEASE, () => {}))).toBe('sessions_unavailable');
    expect(await reason(new SessionLeases(undefined, LEASE, RENEW, () => T0).open('u1', limit, 's1', 'P', undefined, T0, noWait))).toBe('sessions_unavailable');
  });

  it('refuses a session the admin API ended in this isolate at once', async () => {
    const leases = new SessionLeases(scripted(() => admitted(T0 + LEASE)), LEASE, RENEW, () => T0);
    await leases.open('u1', limit, 's1', 'P', undefined, T0, noWait);
    leases.forget('u1', 's1');
    expect(await reason(leases.check('u1', 's1', T0 + 1, () => {}))).toBe('session_ended');
    expect(await reason(leases.open('u1', limit, 's1', 'P', undefined, T0 + 1, noWait))).toBe('session_ended');
  });

  it('keeps viewers apart: a verdict for one viewer reference says nothing of another\'s session of the same id', async () => {
    const store = scripted(() => admitted(T0 + LEASE), () => ({ alive: false, reason: 'ended' }));
    const leases = new SessionLeases(store, LEASE, RENEW, () => T0);
    await leases.open(await viewerRefOf('a'), limit, 's1', 'P', undefined, T0, noWait);
    expect(await reason(leases.check(await viewerRefOf('b'), 's1', T0, noWait))).toBe('session_ended'); // asked the object
    expect(store.renews).toBe(1);
  });

  it('asks again about a session that lapsed here: another isolate may have admitted it anew', async () => {
    let answer: RenewResult = { alive: false, reason: 'unknown' };
    const store = scripted(() => admitted(T0 + LEASE), () => answer);
    const leases = new SessionLeases(store, LEASE, RENEW, () => T0);
    await expect(leases.check('u1', 's1', T0, noWait)).rejects.toThrow(/lapsed/);
    answer = { alive: true, leaseEndsAtMs: T0 + LEASE };
    expect(await reason(leases.check('u1', 's1', T0 + 1, noWait))).toBe('ok');
    expect(store.renews).toBe(2);
  });
});
