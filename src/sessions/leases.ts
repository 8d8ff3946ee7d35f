/**
 * The isolate's side of concurrent-stream limits (issue 16): what it remembers of each limited
 * session, and when it asks the viewer's Durable Object (sessions/viewer-sessions.ts).
 *
 * - A limited token opening (or reopening) its session asks the object to admit or continue it —
 *   at most once per SESSION_RENEW_SECONDS per session per isolate: a reload within the interval
 *   is answered from memory.
 * - A request carried by a grant of a limited session is answered from the remembered verdict. A
 *   verdict older than the renew interval is renewed off the response path (ctx.waitUntil) while the
 *   request is served; so an ended or evicted session is refused within about one interval. An
 *   isolate that knows nothing of the session (another isolate admitted it) asks once and waits.
 * - The object unreachable: a new session is refused (503 sessions_unavailable, fail closed); one
 *   this isolate saw admitted keeps playing until the lease it was last granted would end.
 * - Viewers are known here by reference (claims.ts `viewerRefOf`, a digest): the grants carry it,
 *   the objects are named by it, and no viewer name travels in a URL.
 * - Tokens without `climit` never come here.
 */
import { SESSION_LIMITS } from '../config';
import { Refusal } from '../errors';
import { IsolateCache } from '../isolate-cache';
import type { StreamLimit } from './claims';
import { sessionsOf, type AdmitResult, type RenewResult, type SessionOpen, type ViewerSessions } from './viewer-sessions';

/** Whether answering a request asked the viewer's object (now or in the background): the decision log's `session` fact. */
export type SessionConsult = 'asked' | 'remembered';

/** How the isolate reaches the viewers' objects (a seam for the fault tests; the real one is `durableSessions`). */
export interface SessionStore {
  admit(viewerRef: string, open: SessionOpen): Promise<AdmitResult>;
  renew(viewerRef: string, sessionId: string, nowMs: number, leaseMs: number): Promise<RenewResult>;
}

/** The store of a deployment: one ViewerSessions object per viewer (addressed as the admin API addresses it: sessionsOf). */
export function durableSessions(namespace: DurableObjectNamespace<ViewerSessions>): SessionStore {
  return {
    admit: (viewerRef, open) => sessionsOf({ SESSIONS: namespace }, viewerRef).admit(open),
    renew: (viewerRef, sessionId, nowMs, leaseMs) => sessionsOf({ SESSIONS: namespace }, viewerRef).renew(sessionId, nowMs, leaseMs),
  };
}

interface Verdict {
  /** alive: admitted or renewed; ended: evicted or ended by the admin API (final); lapsed: no lease (may be admitted anew). */
  state: 'alive' | 'ended' | 'lapsed';
  /** When the object last answered for it. */
  confirmedAtMs: number;
  /** For an alive session: when the lease the object granted ends. */
  leaseEndsAtMs: number;
}

const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');

const ended = () => new Refusal('session_ended', 'This playback session was ended (a newer screen took its place, or the service ended it); reload the player with a fresh token.');
const lapsed = () => new Refusal('session_ended', 'This playback session lapsed: no request for longer than its lease. Reload the player to start it again.');
const unavailable = () => new Refusal('sessions_unavailable', 'Concurrent-stream limits cannot be checked right now; a limited session is refused until they can (fail closed).');
const refusalOf = (state: 'ended' | 'lapsed') => (state === 'ended' ? ended() : lapsed());

type WaitUntil = (promise: Promise<unknown>) => void;

export class SessionLeases {
  private readonly verdicts = new IsolateCache<Verdict>(SESSION_LIMITS.verdictMaxEntries);
  private readonly renewing = new Set<string>();

  constructor(
    private readonly store: SessionStore | undefined,
    private readonly leaseMs: number,
    private readonly renewMs: number,
    private readonly clock: () => number,
  ) {}

  /**
   * A limited token's request: admits its session, or continues it. An alive session this isolate
   * knows is continued from memory, its lease renewed in the background once per interval; anything
   * else waits for the viewer's object. Throws a Refusal.
   */
  async open(viewerRef: string, limit: StreamLimit, sessionId: string, playbackId: string, network: string | undefined, nowMs: number, waitUntil: WaitUntil): Promise<SessionConsult> {
    const key = keyOf(viewerRef, sessionId);
    const known = this.recall(key, nowMs);
    if (known?.state === 'alive') return this.renewIfStale(key, known, viewerRef, sessionId, nowMs, waitUntil);
    if (known?.state === 'ended') throw ended();
    let result: AdmitResult;
    try {
      if (!this.store) throw new Error('no SESSIONS binding');
      result = await this.store.admit(viewerRef, { sessionId, playbackId, climit: limit.climit, evictOldest: limit.evictOldest, network, nowMs, leaseMs: this.leaseMs });
    } catch {
      throw unavailable();
    }
    if (result.ok) {
      this.remember(key, { state: 'alive', confirmedAtMs: nowMs, leaseEndsAtMs: result.leaseEndsAtMs });
      for (const evicted of result.evicted) this.remember(keyOf(viewerRef, evicted), { state: 'ended', confirmedAtMs: nowMs, leaseEndsAtMs: nowMs });
      return 'asked';
    }
    if (result.reason === 'session_ended') {
      this.remember(key, { state: 'ended', confirmedAtMs: nowMs, leaseEndsAtMs: nowMs });
      throw ended();
    }
    throw new Refusal(
      'stream_limit_reached',
      `This viewer already plays ${result.playing} stream${result.playing === 1 ? '' : 's'} at once, the most this token allows (climit ${limit.climit}); a screen frees up when one stops (the next lease ends at ${iso(result.nextLeaseEndsAtMs)}).`,
    );
  }

  /** A request carried by a grant of a limited session. Throws a Refusal. */
  async check(viewerRef: string, sessionId: string, nowMs: number, waitUntil: WaitUntil): Promise<SessionConsult> {
    const key = keyOf(viewerRef, sessionId);
    const known = this.recall(key, nowMs);
    if (known?.state === 'alive') return this.renewIfStale(key, known, viewerRef, sessionId, nowMs, waitUntil);
    if (known?.state === 'ended') throw ended();
    // Nothing known here (another isolate admitted the session), or it lapsed here and may have been
    // admitted again elsewhere: ask, and wait for the answer.
    const state = await this.renew(key, viewerRef, sessionId, nowMs);
    if (state === 'unreachable') throw unavailable();
    if (state !== 'alive') throw refusalOf(state);
    return 'asked';
  }

  /** The admin API ended a session: this isolate refuses it at once. */
  forget(viewerRef: string, sessionId: string): void {
    this.remember(keyOf(viewerRef, sessionId), { state: 'ended', confirmedAtMs: this.clock(), leaseEndsAtMs: 0 });
  }

  /** An alive session is served from memory; once per interval its lease is renewed off the response path. */
  private renewIfStale(key: string, known: Verdict, viewerRef: string, sessionId: string, nowMs: number, waitUntil: WaitUntil): SessionConsult {
    if (nowMs - known.confirmedAtMs < this.renewMs || this.renewing.has(key)) return 'remembered';
    this.renewing.add(key);
    waitUntil(this.renew(key, viewerRef, sessionId, nowMs).finally(() => this.renewing.delete(key)));
    return 'asked';
  }

  private async renew(key: string, viewerRef: string, sessionId: string, nowMs: number): Promise<Verdict['state'] | 'unreachable'> {
    let result: RenewResult;
    try {
      if (!this.store) throw new Error('no SESSIONS binding');
      result = await this.store.renew(viewerRef, sessionId, nowMs, this.leaseMs);
    } catch {
      return 'unreachable'; // the verdict stays: an alive session plays on until its lease ends
    }
    const verdict: Verdict = result.alive
      ? { state: 'alive', confirmedAtMs: nowMs, leaseEndsAtMs: result.leaseEndsAtMs }
      : { state: result.reason === 'ended' ? 'ended' : 'lapsed', confirmedAtMs: nowMs, leaseEndsAtMs: nowMs };
    this.remember(key, verdict);
    return verdict.state;
  }

  /** A verdict no older than a lease (an alive one past its lease end is no longer worth anything). */
  private recall(key: string, nowMs: number): Verdict | undefined {
    const verdict = this.verdicts.peek(key, nowMs, this.leaseMs);
    if (verdict?.state === 'alive' && nowMs >= verdict.leaseEndsAtMs) return undefined;
    return verdict;
  }

  private remember(key: string, verdict: Verdict): void {
    this.verdicts.set(key, verdict, verdict.confirmedAtMs);
  }
}

/** Viewer reference and session id as one key (a reference holds no space). */
const keyOf = (viewerRef: string, sessionId: string) => `${viewerRef} ${sessionId}`;
