/**
 * The isolate policy cache, with the key cache's discipline (SPEC §6, keys/cache.ts):
 *
 * - Warm path: a Map lookup, zero KV reads. Most playback IDs have no policy, so "no policy" is
 *   cached too, for the same TTL (a policy PUT elsewhere takes effect within the TTL everywhere,
 *   at once in the isolate that served the PUT via `evict`).
 * - A miss reads KV once per playback ID per request; the next requests of the isolate hit the cache.
 * - Bounded (anti-DoS: random playback IDs cannot grow memory); the oldest entries go first.
 * - KV failure: an entry loaded within TTL + 5 min keeps answering (stale-if-error, like keys);
 *   otherwise StoreUnavailable propagates and the gate answers 503 (fail closed: a viewer is
 *   never admitted because the policy could not be read).
 */
import { StoreUnavailable } from '../keys/store';
import { POLICY_LIMITS } from './limits';
import type { PlaybackPolicy } from './schema';
import { getPolicy } from './store';

interface Entry {
  /** null: the playback ID has no policy. */
  policy: PlaybackPolicy | null;
  loadedAtMs: number;
  /** Set while one request refreshes this entry; the others keep using it meanwhile. */
  refreshingSinceMs?: number;
}

const STALE_IF_ERROR_MS = 5 * 60_000;
/** As in the key cache: while one request refreshes an entry, the others use it for at most this long. */
const REFRESH_WINDOW_MS = 5_000;

export class PolicyCache {
  private readonly entries = new Map<string, Entry>();
  /** Bumped by evict/clear: a load that started before must not store what it read. */
  private generation = 0;
  /** KV reads made by this cache (tests and benchmarks prove the warm path with it). */
  kvReads = 0;

  constructor(private readonly maxEntries: number = POLICY_LIMITS.policyCacheMaxEntries) {}

  /**
   * The policy of `playbackId`, or null when it has none.
   * Throws StoreUnavailable when KV fails and nothing usable is cached.
   */
  async lookup(store: KVNamespace, playbackId: string, nowMs: number, ttlSeconds: number): Promise<PlaybackPolicy | null> {
    const entry = this.entries.get(playbackId);
    const ttlMs = ttlSeconds * 1000;
    if (entry && nowMs - entry.loadedAtMs < ttlMs) return entry.policy;
    // No promise is shared across requests: workerd ties I/O to the request that started it, and a
    // request awaiting another request's KV read can be cancelled with it. SPEC §6 asks for
    // single-flight within a request (each request looks a kid up once); the cache makes the
    // next requests free.
    if (entry) {
      if (entry.refreshingSinceMs !== undefined && nowMs - entry.refreshingSinceMs < REFRESH_WINDOW_MS) return entry.policy;
      entry.refreshingSinceMs = nowMs;
    }
    try {
      return await this.load(store, playbackId, nowMs);
    } catch (error) {
      if (entry) entry.refreshingSinceMs = undefined;
      if (error instanceof StoreUnavailable && entry && nowMs - entry.loadedAtMs < ttlMs + STALE_IF_ERROR_MS) return entry.policy;
      throw error;
    }
  }

  private async load(store: KVNamespace, playbackId: string, nowMs: number): Promise<PlaybackPolicy | null> {
    const generation = this.generation;
    this.kvReads++;
    const stored = await getPolicy(store, playbackId);
    const policy = stored?.policy ?? null;
    if (generation === this.generation) {
      this.entries.delete(playbackId); // re-insert: the Map's order is the eviction order
      this.entries.set(playbackId, { policy, loadedAtMs: nowMs });
      if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
    }
    return policy;
  }

  /** Forget a playback ID at once (its policy was written or deleted in this isolate). */
  evict(playbackId: string): void {
    this.generation++;
    this.entries.delete(playbackId);
  }


  get size(): number {
    return this.entries.size;
  }
}

