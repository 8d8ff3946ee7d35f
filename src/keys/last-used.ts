/**
 * Approximate `lastUsedAt` per signing key (issue 7), so ops can see which keys are dead before
 * deleting them.
 *
 * KV layout: `used:{kid}` → ISO 8601 time of a verification. Written at most once per key per
 * LAST_USED_WRITE_INTERVAL_MS per isolate, never awaited on the hot path (the write goes to
 * `ctx.waitUntil`), errors swallowed and logged once per isolate: observability must never cost a
 * playback request latency or availability. The value is therefore approximate: a key used
 * "now" may show a time up to the interval (plus KV propagation) in the past.
 */
import { StoreUnavailable } from './store';

export const LAST_USED_PREFIX = 'used:';
export const lastUsedKvName = (kid: string) => `${LAST_USED_PREFIX}${kid}`;
export const LAST_USED_WRITE_INTERVAL_MS = 5 * 60_000;
/** A key unused this long loses its entry (KV TTL); the API then shows no `lastUsedAt` (dead key). */
export const LAST_USED_RETENTION_SECONDS = 400 * 86_400;
/** Bounded memory: the isolate remembers this many kids (oldest forgotten first). */
const MAX_TRACKED_KIDS = 1_000;
/** KV bulk get reads at most 100 names per call. */
const KV_BULK_GET_MAX = 100;

export class LastUsedTracker {
  private readonly writtenAt = new Map<string, number>();
  private errorLogged = false;
  /** Writes started by this tracker (tests prove the rate limit with it). */
  writes = 0;

  constructor(private readonly intervalMs = LAST_USED_WRITE_INTERVAL_MS) {}

  /**
   * Records that `kid` verified a token at `nowMs`. Returns at once; the KV write, when one is due,
   * is handed to `waitUntil`.
   *
   * @example tracker.note(env.KEYS, kid, Date.now(), (p) => ctx.waitUntil(p));
   */
  note(store: KVNamespace, kid: string, nowMs: number, waitUntil: (promise: Promise<unknown>) => void): void {
    const last = this.writtenAt.get(kid);
    if (last !== undefined && nowMs - last < this.intervalMs) return;
    this.writtenAt.delete(kid); // re-insert: Map order is the eviction order
    this.writtenAt.set(kid, nowMs);
    if (this.writtenAt.size > MAX_TRACKED_KIDS) this.writtenAt.delete(this.writtenAt.keys().next().value as string);
    this.writes++;
    let write: Promise<unknown>;
    try {
      write = store.put(lastUsedKvName(kid), new Date(nowMs).toISOString(), { expirationTtl: LAST_USED_RETENTION_SECONDS });
    } catch (error) {
      write = Promise.reject(error);
    }
    waitUntil(write.catch((error) => this.logOnce(error)));
  }

  private logOnce(error: unknown) {
    if (this.errorLogged) return;
    this.errorLogged = true;
    console.warn(JSON.stringify({ event: 'last_used_write_failed', detail: error instanceof Error ? error.message : String(error) }));
  }

}


/**
 * `lastUsedAt` of each id that has one, via KV bulk get (≤ 100 names per call, one KV operation
 * each). Throws StoreUnavailable on KV failure; list views may catch it and omit `lastUsedAt`.
 */
export async function readLastUsed(store: KVNamespace, ids: string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const unique = [...new Set(ids)];
  for (let i = 0; i < unique.length; i += KV_BULK_GET_MAX) {
    const chunk = unique.slice(i, i + KV_BULK_GET_MAX);
    let found: Map<string, string | null>;
    try {
      found = await store.get(chunk.map(lastUsedKvName), 'text');
    } catch (error) {
      throw new StoreUnavailable('get (bulk)', error);
    }
    for (const id of chunk) {
      const value = found.get(lastUsedKvName(id));
      if (value) out.set(id, value);
    }
  }
  return out;
}
