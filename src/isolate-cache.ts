/**
 * The one isolate cache discipline (SPEC §6) behind the key, policy and revocation caches: a
 * bounded map of values loaded from KV, each trusted for a TTL.
 *
 * - Warm: a Map lookup, no I/O.
 * - Refresh-ahead without a shared promise: workerd ties I/O to the request that started it, and a
 *   request awaiting another request's KV read can be cancelled with it. So each request that needs
 *   a load makes its own (SPEC §6 asks for single-flight within a request); while one request
 *   refreshes an expired entry, the others keep using it for at most LIMITS.cacheRefreshWindowMs,
 *   which makes one KV read per key per TTL per isolate under load, not one per request in flight.
 * - Stale-if-error: when the load fails with StoreUnavailable, an entry loaded within TTL +
 *   LIMITS.cacheStaleIfErrorMs keeps answering; otherwise the failure propagates and the gate
 *   answers 503 (fail closed).
 * - Bounded: the oldest entry goes first (a Map keeps insertion order; a reload re-inserts).
 * - `evict` forgets a key at once, and a load that started before it does not store what it read;
 *   `invalidate` makes the next lookup reload but keeps the entry for stale-if-error.
 */
import { LIMITS } from './config';
import { StoreUnavailable } from './keys/store';

interface Entry<V> {
  value: V;
  loadedAtMs: number;
  /** Set while one request refreshes this entry; the others keep using it meanwhile. */
  refreshingSinceMs?: number;
  /** Set by invalidate(): reload at the next lookup. */
  invalidated?: boolean;
}

export class IsolateCache<V> {
  private readonly entries = new Map<string, Entry<V>>();
  /** Bumped by evict() and invalidate(): a load that started before must not store what it read. */
  private generation = 0;
  /** Loads made (KV reads, for the key and policy caches; KV lists, for revocations): tests and benchmarks prove the warm path with it. */
  loads = 0;

  constructor(private readonly maxEntries: number) {}

  /** The value of `key`: cached while younger than `ttlMs`, else `load()`ed (see the module comment). */
  async get(key: string, nowMs: number, ttlMs: number, load: () => Promise<V>): Promise<V> {
    const entry = this.entries.get(key);
    if (entry && !entry.invalidated) {
      if (nowMs - entry.loadedAtMs < ttlMs) return entry.value;
      if (entry.refreshingSinceMs !== undefined && nowMs - entry.refreshingSinceMs < LIMITS.cacheRefreshWindowMs) return entry.value;
    }
    if (entry) entry.refreshingSinceMs = nowMs;
    const generation = this.generation;
    try {
      this.loads++;
      const value = await load();
      if (generation === this.generation) this.set(key, value, nowMs);
      return value;
    } catch (error) {
      if (entry) entry.refreshingSinceMs = undefined;
      if (error instanceof StoreUnavailable && entry && nowMs - entry.loadedAtMs < ttlMs + LIMITS.cacheStaleIfErrorMs) return entry.value;
      throw error;
    }
  }

  /** The value of `key` if it is younger than `ttlMs`, without loading; an older entry is dropped. */
  peek(key: string, nowMs: number, ttlMs: number): V | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (nowMs - entry.loadedAtMs < ttlMs) return entry.value;
    this.entries.delete(key);
    return undefined;
  }

  set(key: string, value: V, nowMs: number): void {
    this.entries.delete(key); // re-insert: the Map's order is the eviction order
    this.entries.set(key, { value, loadedAtMs: nowMs });
    if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
  }

  /** Forgets `key` at once (it was written or deleted in this isolate). */
  evict(key: string): void {
    this.generation++;
    this.entries.delete(key);
  }

  /** Drops `key` without touching loads in flight (a load found nothing worth keeping). */
  delete(key: string): void {
    this.entries.delete(key);
  }

  /**
   * The next lookup of `key` reloads; until a reload succeeds, the entry still serves
   * stale-if-error. A load already in flight (it may have read before the change) is not stored.
   */
  invalidate(key: string): void {
    this.generation++;
    const entry = this.entries.get(key);
    if (entry) entry.invalidated = true;
  }

  get size(): number {
    return this.entries.size;
  }
}
