/**
 * Concurrent-stream limits (issue 16): one Durable Object per viewer, SQLite-backed, that admits or
 * refuses playback sessions and holds their leases. It is the one place where two edges can agree
 * that a fourth screen is one too many: every method is a single synchronous SQL transaction (no
 * `await` between the count and the insert), and a Durable Object runs one such call at a time, so
 * concurrent admits can never both take the last slot.
 *
 * A session is one token's playback (its id: the token's `jti`, or a digest of the token). It is
 * active while `leaseEndsAt > now`; the gate extends the lease while the session's requests come in.
 * A session can stop in two ways, and they must not be confused:
 * - it *lapses* (no renewal before its lease ended): the viewer stopped watching; the same token
 *   may come back later and is then admitted as a new session, if there is room;
 * - it is *ended* (evicted by a newer screen under `evict-oldest`, or by the admin API): it leaves a
 *   tombstone, and the same token is refused with `session_ended` from then on. Without the
 *   tombstone, a reload of an evicted screen would evict the newer one back (ping-pong).
 *
 * Tombstones are kept for `LIMITS.maxGrantLifetimeSeconds` (no grant outlives that, so nothing
 * minted for the ended session can still be in use afterwards) and pruned lazily, like lapsed rows.
 * The table is bounded per viewer (`SESSION_LIMITS.maxRowsPerViewer`, oldest tombstones go first),
 * so a viewer cycling tokens cannot grow an object's storage without bound.
 *
 * The clock is an argument (`nowMs`), as everywhere in signet's decisions: the gate passes its own,
 * tests pass theirs. Results cross RPC as plain objects; invalid input is refused with a result,
 * never a thrown error (errors lose their class across RPC). A storage failure does throw: the
 * caller treats an unreachable or failing object alike (fail closed for new sessions).
 */
import { DurableObject } from 'cloudflare:workers';
import { LIMITS, SESSION_LIMITS, type Env } from '../config';

/** What the gate asks when a token with `climit` opens a multivariant playlist or a DASH manifest. */
export interface SessionOpen {
  sessionId: string;
  playbackId: string;
  /** The token's `climit`: the most sessions its viewer may have at once (integer 1–100). */
  climit: number;
  /** The token's `climitPolicy: "evict-oldest"`: at the limit, end the oldest session rather than refuse. */
  evictOldest: boolean;
  /** The viewer's network (src/policy/network.ts), shown by the admin API. */
  network?: string;
  nowMs: number;
  /** How long the session stays alive without requests (SESSION_LEASE_SECONDS, in ms). */
  leaseMs: number;
}

export type AdmitResult =
  | { ok: true; admitted: 'new' | 'continued'; leaseEndsAtMs: number; evicted: string[] }
  | { ok: false; reason: 'stream_limit_reached'; playing: number; nextLeaseEndsAtMs: number }
  | { ok: false; reason: 'session_ended' };

export type RenewResult = { alive: true; leaseEndsAtMs: number } | { alive: false; reason: 'ended' | 'unknown' };

/** A session as the admin API shows it; instants are ISO 8601 (UTC, milliseconds). */
export interface SessionView {
  id: string;
  playbackId: string;
  startedAt: string;
  lastSeenAt: string;
  leaseEndsAt: string;
  network?: string;
}

/** The object of a viewer, by its reference (claims.ts `viewerRefOf`): the one way the gate and the admin API address it. */
export function sessionsOf(env: Pick<Env, 'SESSIONS'>, viewerRef: string): DurableObjectStub<ViewerSessions> {
  return env.SESSIONS.get(env.SESSIONS.idFromName(viewerRef));
}

/** A viewer, session id, playback ID or network the objects accept: non-empty, at most `maxIdLength` characters. */
export const isBoundedId = (value: unknown): value is string => typeof value === 'string' && value.length > 0 && value.length <= SESSION_LIMITS.maxIdLength;
// Epoch ms well inside the range Date and SQLite integers both represent exactly.
const isInstant = (value: unknown): value is number => Number.isSafeInteger(value) && (value as number) >= 0 && (value as number) <= 8.64e15;
const isLease = (value: unknown): value is number => Number.isSafeInteger(value) && (value as number) > 0 && (value as number) <= SESSION_LIMITS.maxLeaseMs;
const isClimit = (value: unknown): value is number =>
  Number.isInteger(value) && (value as number) >= SESSION_LIMITS.minClimit && (value as number) <= SESSION_LIMITS.maxClimit;

function validOpen(open: SessionOpen): boolean {
  return (
    typeof open === 'object' &&
    open !== null &&
    isBoundedId(open.sessionId) &&
    isBoundedId(open.playbackId) &&
    isClimit(open.climit) &&
    typeof open.evictOldest === 'boolean' &&
    (open.network === undefined || isBoundedId(open.network)) &&
    isInstant(open.nowMs) &&
    isLease(open.leaseMs)
  );
}

interface SessionRow extends Record<string, SqlStorageValue> {
  id: string;
  playback_id: string;
  network: string | null;
  started_at: number;
  last_seen_at: number;
  lease_ends_at: number;
  /** Null while the session may play; the instant it was ended (evicted or by the admin) otherwise. */
  ended_at: number | null;
}

const toIso = (ms: number) => new Date(ms).toISOString();

const view = (row: SessionRow): SessionView => ({
  id: row.id,
  playbackId: row.playback_id,
  startedAt: toIso(row.started_at),
  lastSeenAt: toIso(row.last_seen_at),
  leaseEndsAt: toIso(row.lease_ends_at),
  ...(row.network !== null && { network: row.network }),
});

export class ViewerSessions extends DurableObject<Env> {
  private readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec(`CREATE TABLE IF NOT EXISTS sessions (
      id TEXT PRIMARY KEY,
      playback_id TEXT NOT NULL,
      network TEXT,
      started_at INTEGER NOT NULL,
      last_seen_at INTEGER NOT NULL,
      lease_ends_at INTEGER NOT NULL,
      ended_at INTEGER
    )`);
  }

  /**
   * Admits the session `open` names, continues it, or refuses it. Invalid input (a `climit` outside
   * 1–100, an id longer than 200 characters, a non-integer clock) is refused as
   * `stream_limit_reached` with nothing playing: fail closed, and the token checks refuse such
   * tokens before they get here.
   */
  async admit(open: SessionOpen): Promise<AdmitResult> {
    if (!validOpen(open)) return { ok: false, reason: 'stream_limit_reached', playing: 0, nextLeaseEndsAtMs: isInstant(open?.nowMs) ? open.nowMs : 0 };
    const { sessionId, playbackId, climit, evictOldest, network, nowMs, leaseMs } = open;
    return this.ctx.storage.transactionSync((): AdmitResult => {
      this.prune(nowMs);
      const known = this.row(sessionId);
      if (known?.ended_at != null) return { ok: false, reason: 'session_ended' };
      if (known && known.lease_ends_at > nowMs) return { ok: true, admitted: 'continued', leaseEndsAtMs: this.extend(known, nowMs, leaseMs, network), evicted: [] };
      // New, or lapsed by lease expiry (then it starts again, counted like any new session).
      const active = this.active(nowMs);
      const evicted: string[] = [];
      if (active.length >= climit) {
        if (!evictOldest) {
          return { ok: false, reason: 'stream_limit_reached', playing: active.length, nextLeaseEndsAtMs: Math.min(...active.map((row) => row.lease_ends_at)) };
        }
        // Down to climit − 1 others: a token's limit holds even when older tokens carried a higher one.
        for (const oldest of active.slice(0, active.length - climit + 1)) {
          this.sql.exec(`UPDATE sessions SET ended_at = ?, lease_ends_at = ? WHERE id = ?`, nowMs, nowMs, oldest.id);
          evicted.push(oldest.id);
        }
      }
      const leaseEndsAtMs = nowMs + leaseMs;
      this.sql.exec(
        `INSERT OR REPLACE INTO sessions (id, playback_id, network, started_at, last_seen_at, lease_ends_at, ended_at) VALUES (?, ?, ?, ?, ?, ?, NULL)`,
        sessionId,
        playbackId,
        network ?? null,
        nowMs,
        nowMs,
        leaseEndsAtMs,
      );
      this.bound();
      return { ok: true, admitted: 'new', leaseEndsAtMs, evicted };
    });
  }

  /** Extends an active session's lease to `nowMs + leaseMs`; says whether it was ended or is unknown (lapsed or never seen). */
  async renew(sessionId: string, nowMs: number, leaseMs: number): Promise<RenewResult> {
    if (!isBoundedId(sessionId) || !isInstant(nowMs) || !isLease(leaseMs)) return { alive: false, reason: 'unknown' };
    return this.ctx.storage.transactionSync((): RenewResult => {
      this.prune(nowMs);
      const known = this.row(sessionId);
      if (known?.ended_at != null) return { alive: false, reason: 'ended' };
      if (!known || known.lease_ends_at <= nowMs) return { alive: false, reason: 'unknown' };
      return { alive: true, leaseEndsAtMs: this.extend(known, nowMs, leaseMs, undefined) };
    });
  }

  /** The active sessions (lease not ended at `nowMs`), oldest first. */
  async list(nowMs: number): Promise<SessionView[]> {
    if (!isInstant(nowMs)) return [];
    return this.ctx.storage.transactionSync(() => {
      this.prune(nowMs);
      return this.active(nowMs).map(view);
    });
  }

  /** Ends an active session now and remembers it as ended; false when no active session has that id. */
  async end(sessionId: string, nowMs: number): Promise<boolean> {
    if (!isBoundedId(sessionId) || !isInstant(nowMs)) return false;
    return this.ctx.storage.transactionSync(() => {
      this.prune(nowMs);
      const known = this.row(sessionId);
      if (!known || known.ended_at !== null || known.lease_ends_at <= nowMs) return false;
      this.sql.exec(`UPDATE sessions SET ended_at = ?, lease_ends_at = ? WHERE id = ?`, nowMs, nowMs, sessionId);
      return true;
    });
  }

  /** Extends an active session's lease (never shortening it: an edge with a slower clock cannot cut it) and notes it seen now. */
  private extend(known: SessionRow, nowMs: number, leaseMs: number, network: string | undefined): number {
    const leaseEndsAtMs = Math.max(known.lease_ends_at, nowMs + leaseMs);
    this.sql.exec(`UPDATE sessions SET last_seen_at = ?, lease_ends_at = ?, network = coalesce(?, network) WHERE id = ?`, nowMs, leaseEndsAtMs, network ?? null, known.id);
    return leaseEndsAtMs;
  }

  private row(sessionId: string): SessionRow | undefined {
    return this.sql.exec<SessionRow>(`SELECT * FROM sessions WHERE id = ?`, sessionId).toArray()[0];
  }

  /** Active sessions, oldest start first (insertion order breaks ties: the rowid grows with each insert). */
  private active(nowMs: number): SessionRow[] {
    return this.sql.exec<SessionRow>(`SELECT * FROM sessions WHERE ended_at IS NULL AND lease_ends_at > ? ORDER BY started_at, rowid`, nowMs).toArray();
  }

  /** Lazily forgets lapsed sessions and tombstones older than every grant that could still be in use. */
  private prune(nowMs: number) {
    this.sql.exec(
      `DELETE FROM sessions WHERE (ended_at IS NULL AND lease_ends_at <= ?) OR (ended_at IS NOT NULL AND ended_at <= ?)`,
      nowMs,
      nowMs - SESSION_LIMITS.tombstoneMs,
    );
  }

  /**
   * Keeps the table within `maxRowsPerViewer`: the oldest tombstones go first. Active sessions are
   * at most `maxClimit` (each admit counts them against its own limit), so tombstones always cover
   * the excess; forgetting one early only lets that old token be admitted again if it comes back.
   */
  private bound() {
    const excess = this.sql.exec<{ n: number }>(`SELECT COUNT(*) AS n FROM sessions`).one().n - SESSION_LIMITS.maxRowsPerViewer;
    if (excess <= 0) return;
    this.sql.exec(`DELETE FROM sessions WHERE id IN (SELECT id FROM sessions WHERE ended_at IS NOT NULL ORDER BY ended_at, rowid LIMIT ?)`, excess);
  }
}
