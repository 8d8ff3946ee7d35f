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
 * - Tokens without `climit` never come here.
 */
import { SESSION_LIMITS } from '../config';
import { Refusal } from '../errors';
import { IsolateCache } from '../isolate-cache';
import type { StreamLimit } from './claims';
import type { AdmitResult, RenewResult, SessionOpen, ViewerSessions } from './viewer-sessions';

/** Whether answering a request asked the viewer's object (now or in the background): the decision log's `session` fact. */
export type SessionConsult = 'asked' | 'remembered';

/** How the isolate reaches the viewers' objects (a seam for the fault tests; the real one is `durableSessions`). */
export interface SessionStore {
  admit(viewer: string, open: SessionOpen): Promise<AdmitResult>;
  renew(viewer: string, sessionId: string, nowMs: number, leaseMs: number): Promise<RenewResult>;
}

/** The store of a deployment: one ViewerSessions object per viewer, addressed by name. */
export function durableSessions(namespace: DurableObjectNamespace<ViewerSessions>): SessionStore {
  const stub = (viewer: string) => namespace.get(namespace.idFromName(viewer));
  return {
    admit: (viewer, open) => stub(viewer).admit(open),
    renew: (viewer, sessionId, nowMs, leaseMs) => stub(viewer).renew(sessionId, nowMs, leaseMs),
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

const ended = () => new Refusal('session_ended', 'This playback session was ended (another screen took its place, or it was ended by the service); reload the player with a fresh token.');
const unavailable = () => new Refusal('sessions_unavailable', 'Concurrent-stream limits cannot be checked right now; a limited session is refused until they can (fail closed).');

export class SessionLeases {
  private readonly verdicts = new IsolateCache<Verdict>(SESSION_LIMITS.verdictMaxEntries);
  private readonly renewing = new Set<string>();
  /** Calls made to the viewers' objects (tests and the benchmark count them). */
  calls = 0;

  constructor(
    private readonly store: SessionStore | undefined,
    private readonly leaseMs: number,
    private readonly renewMs: number,
    private readonly clock: () => number,
  ) {}

  /** A limited token's request: admits its session or continues it. Throws a Refusal. */
  async open(limit: StreamLimit, sessionId: string, playbackId: string, network: string | undefined, nowMs: number): Promise<SessionConsult> {
    const key = keyOf(limit.viewer, sessionId);
    const known = this.recall(key, nowMs);
    if (known && nowMs - known.confirmedAtMs < this.renewMs) {
      if (known.state === 'alive') return 'remembered';
      if (known.state === 'ended') throw ended();
    }
    let result: AdmitResult;
    try {
      if (!this.store) throw new Error('no SESSIONS binding');
      this.calls++;
      result = await this.store.admit(limit.viewer, { sessionId, playbackId, climit: limit.climit, evictOldest: limit.evictOldest, network, nowMs, leaseMs: this.leaseMs });
    } catch {
      if (known?.state === 'alive' && nowMs < known.leaseEndsAtMs) return 'asked'; // admitted: plays until its lease would end
      throw unavailable();
    }
    if (result.ok) {
      this.remember(key, { state: 'alive', confirmedAtMs: nowMs, leaseEndsAtMs: result.leaseEndsAtMs });
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
  async check(viewer: string, sessionId: string, nowMs: number, waitUntil: (promise: Promise<unknown>) => void): Promise<SessionConsult> {
    const key = keyOf(viewer, sessionId);
    const known = this.recall(key, nowMs);
    if (known) {
      if (known.state !== 'alive') throw ended();
      if (nowMs - known.confirmedAtMs >= this.renewMs && !this.renewing.has(key)) {
        this.renewing.add(key);
        waitUntil(this.renew(key, viewer, sessionId, nowMs).finally(() => this.renewing.delete(key)));
        return 'asked';
      }
      return 'remembered';
    }
    // Nothing known here (another isolate admitted the session): ask once, and wait for the answer.
    const state = await this.renew(key, viewer, sessionId, nowMs);
    if (state === 'unreachable') throw unavailable();
    if (state !== 'alive') throw ended();
    return 'asked';
  }

  /** The admin API ended a session: this isolate refuses it at once. */
  forget(viewer: string, sessionId: string): void {
    this.remember(keyOf(viewer, sessionId), { state: 'ended', confirmedAtMs: this.clock(), leaseEndsAtMs: 0 });
  }

  private async renew(key: string, viewer: string, sessionId: string, nowMs: number): Promise<Verdict['state'] | 'unreachable'> {
    let result: RenewResult;
    try {
      if (!this.store) throw new Error('no SESSIONS binding');
      this.calls++;
      result = await this.store.renew(viewer, sessionId, nowMs, this.leaseMs);
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

/** Viewer and session id as one key, unambiguous whatever either holds (the viewer's length leads). */
const keyOf = (viewer: string, sessionId: string) => `${viewer.length}:${viewer}\n${sessionId}`;
