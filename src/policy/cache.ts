/**
 * The isolate policy cache (SPEC §6), with the discipline of src/isolate-cache.ts. Most playback IDs
 * have no policy, so "no policy" is cached too, for the same TTL (a policy PUT elsewhere takes
 * effect within the TTL everywhere, at once in the isolate that served the PUT via `evict`). Bounded
 * (random playback IDs cannot grow memory). KV failure: an entry still within TTL + stale-if-error
 * answers; otherwise StoreUnavailable propagates and the gate answers 503 (fail closed: a viewer is
 * never admitted because the policy could not be read).
 */
import { POLICY_LIMITS } from '../config';
import { IsolateCache } from '../isolate-cache';
import type { PlaybackPolicy } from './schema';
import { getPolicy } from './store';

export class PolicyCache {
  /** null: the playback ID has no policy (cached too: most have none). */
  private readonly entries: IsolateCache<PlaybackPolicy | null>;

  constructor(maxEntries: number = POLICY_LIMITS.policyCacheMaxEntries) {
    this.entries = new IsolateCache(maxEntries);
  }

  /** KV reads made by this cache (tests and benchmarks prove the warm path with it). */
  get kvReads(): number {
    return this.entries.loads;
  }

  /**
   * The policy of `playbackId`, or null when it has none.
   * Throws StoreUnavailable when KV fails and nothing usable is cached.
   */
  lookup(store: KVNamespace, playbackId: string, nowMs: number, ttlSeconds: number): Promise<PlaybackPolicy | null> {
    return this.entries.get(playbackId, nowMs, ttlSeconds * 1000, async () => (await getPolicy(store, playbackId))?.policy ?? null);
  }

  /** Forget a playback ID at once (its policy was written or deleted in this isolate). */
  evict(playbackId: string): void {
    this.entries.evict(playbackId);
  }

  get size(): number {
    return this.entries.size;
  }
}
