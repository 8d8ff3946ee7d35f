/**
 * The isolate key cache (SPEC §6): imported verify-only CryptoKeys by kid.
 *
 * - Warm path: a hit costs a Map lookup, zero KV reads, zero imports.
 * - A miss reads KV once per kid per request; the next requests of the isolate hit the cache.
 * - Unknown kids are negatively cached for LIMITS.negativeCacheSeconds (anti-DoS: a flood of random
 *   kids costs at most one KV read per kid per interval), in a bounded map.
 * - KV failure: a key already loaded keeps verifying (stale-if-error, bounded); otherwise the
 *   StoreUnavailable propagates and the gate answers 503 keys_unavailable (fail closed).
 * - Both maps are bounded; the oldest entries go first (Map keeps insertion order).
 */
import { LIMITS } from '../config';
import type { Algorithm } from './algorithms';
import { importVerifyKey } from './verify-key';
import { getKey, StoreUnavailable } from './store';
import type { SigningKeyRecord } from './record';

export interface VerificationKey {
  kid: string;
  algorithm: Algorithm;
  key: CryptoKey;
  /** Epoch ms at which the key stops verifying (`expiresAt`), if any. */
  expiresAtMs: number | undefined;
}

interface Entry {
  value: VerificationKey;
  loadedAtMs: number;
  /** Set while one request refreshes this entry; the others keep using it meanwhile. */
  refreshingSinceMs?: number;
}

/** How long past its TTL a loaded key may still verify while KV is failing. */
const STALE_IF_ERROR_MS = 5 * 60_000;
/**
 * While one request refreshes an expired entry, the others use the entry for at most this long
 * (refresh-ahead without sharing a promise across requests): one KV read per kid per TTL per
 * isolate under load, not one per in-flight request.
 */
export const REFRESH_WINDOW_MS = 5_000;

export class KeyCache {
  private readonly known = new Map<string, Entry>();
  private readonly unknown = new Map<string, number>(); // kid → negative entry expiry (ms)
  /** KV reads made by this cache; exposed for tests and benchmarks that prove the warm path. */
  kvReads = 0;

  constructor(
    private readonly maxEntries = LIMITS.keyCacheMaxEntries,
    private readonly maxNegative = LIMITS.negativeCacheMaxEntries,
  ) {}

  /**
   * The verification key for `kid`, or null when no such key exists (or it has expired).
   * Throws StoreUnavailable when KV fails and nothing usable is cached.
   */
  async lookup(store: KVNamespace, kid: string, nowMs: number, ttlSeconds: number): Promise<VerificationKey | null> {
    const entry = this.known.get(kid);
    if (entry && nowMs - entry.loadedAtMs < ttlSeconds * 1000) return entry.value;
    const negativeUntil = this.unknown.get(kid);
    if (negativeUntil !== undefined) {
      if (negativeUntil > nowMs) return null;
      this.unknown.delete(kid);
    }
    // No promise is shared across requests: workerd ties I/O to the request that started it, and a
    // request awaiting another request's KV read can be cancelled with it. SPEC §6 asks for
    // single-flight within a request (each request looks a kid up once); the cache makes the
    // next requests free, and an entry being refreshed by one request serves the others.
    if (entry) {
      if (entry.refreshingSinceMs !== undefined && nowMs - entry.refreshingSinceMs < REFRESH_WINDOW_MS) return entry.value;
      entry.refreshingSinceMs = nowMs;
    }
    try {
      return await this.load(store, kid, nowMs);
    } catch (error) {
      if (entry) entry.refreshingSinceMs = undefined;
      if (error instanceof StoreUnavailable && entry && nowMs - entry.loadedAtMs < ttlSeconds * 1000 + STALE_IF_ERROR_MS) {
        return entry.value;
      }
      throw error;
    }
  }

  private async load(store: KVNamespace, kid: string, nowMs: number): Promise<VerificationKey | null> {
    this.kvReads++;
    const record = await getKey(store, kid);
    // An expired key stays cached (with its expiry) so the gate can say key_expired, not key_unknown.
    if (!record || !(await trustworthy(record))) {
      this.known.delete(kid);
      this.remember(this.unknown, kid, nowMs + LIMITS.negativeCacheSeconds * 1000, this.maxNegative);
      return null;
    }
    const value: VerificationKey = {
      kid,
      algorithm: record.algorithm,
      key: await importVerifyKey(record.algorithm, record.publicJwk),
      expiresAtMs: record.expiresAt ? Date.parse(record.expiresAt) : undefined,
    };
    this.known.delete(kid);
    this.remember(this.known, kid, { value, loadedAtMs: nowMs }, this.maxEntries);
    return value;
  }

  private remember<V>(map: Map<string, V>, kid: string, value: V, max: number) {
    map.set(kid, value);
    if (map.size > max) map.delete(map.keys().next().value as string);
  }

  /** Forget a kid at once (delete, rotate, expiry change in this isolate: SPEC §6 revocation). */
  evict(kid: string): void {
    this.known.delete(kid);
    this.unknown.delete(kid);
  }


  get size() {
    return { known: this.known.size, unknown: this.unknown.size };
  }
}


/**
 * Key hygiene at the read path too (issue 11): a key stored before the hygiene rules existed (a
 * small-order Ed25519 key imported by an attacker, say) is never trusted, only logged. One check
 * per key load, not per request.
 */
async function trustworthy(record: SigningKeyRecord): Promise<boolean> {
  // Loaded with the first key load (the curves library is not needed to start the worker).
  const { assertTrustworthyPublicKey, KeyImportError } = await import('./hygiene');
  try {
    assertTrustworthyPublicKey(record.algorithm, record.publicJwk);
    return true;
  } catch (error) {
    if (!(error instanceof KeyImportError)) throw error;
    console.warn(JSON.stringify({ event: 'untrusted_stored_key', kid: record.id, rule: error.message }));
    return false;
  }
}
