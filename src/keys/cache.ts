/**
 * The isolate key cache (SPEC §6): imported verify-only CryptoKeys by kid, with the discipline of
 * src/isolate-cache.ts (warm: a Map lookup, zero KV reads, zero imports; refresh-ahead;
 * stale-if-error: a key already loaded keeps verifying while KV fails, else 503 keys_unavailable).
 * Unknown kids are negatively cached for LIMITS.negativeCacheSeconds (anti-DoS: a flood of random
 * kids costs at most one KV read per kid per interval), in a bounded map of their own.
 */
import { LIMITS } from '../config';
import { IsolateCache } from '../isolate-cache';
import type { Algorithm } from './algorithms';
import type { SigningKeyRecord } from './record';
import { getKey } from './store';
import { importVerifyKey } from './verify-key';

export interface VerificationKey {
  kid: string;
  algorithm: Algorithm;
  key: CryptoKey;
  /** Epoch ms at which the key stops verifying (`expiresAt`), if any. */
  expiresAtMs: number | undefined;
}

export class KeyCache {
  private readonly known: IsolateCache<VerificationKey | null>;
  /** kid → true: unknown kids, remembered for LIMITS.negativeCacheSeconds in a map of their own (a flood of them never evicts a real key). */
  private readonly unknown: IsolateCache<true>;

  constructor(maxEntries = LIMITS.keyCacheMaxEntries, maxNegative = LIMITS.negativeCacheMaxEntries) {
    this.known = new IsolateCache(maxEntries);
    this.unknown = new IsolateCache(maxNegative);
  }

  /** KV reads made by this cache; exposed for tests and benchmarks that prove the warm path. */
  get kvReads(): number {
    return this.known.loads;
  }

  /**
   * The verification key for `kid`, or null when no such key exists (or it is not trustworthy).
   * Throws StoreUnavailable when KV fails and nothing usable is cached.
   */
  async lookup(store: KVNamespace, kid: string, nowMs: number, ttlSeconds: number): Promise<VerificationKey | null> {
    if (this.unknown.peek(kid, nowMs, LIMITS.negativeCacheSeconds * 1000)) return null;
    const value = await this.known.get(kid, nowMs, ttlSeconds * 1000, () => load(store, kid));
    if (value === null) {
      this.known.delete(kid);
      this.unknown.set(kid, true, nowMs);
    }
    return value;
  }

  /** Forget a kid at once (delete, rotate, expiry change in this isolate: SPEC §6 revocation). */
  evict(kid: string): void {
    this.known.evict(kid);
    this.unknown.delete(kid);
  }

  get size() {
    return { known: this.known.size, unknown: this.unknown.size };
  }
}

/** One KV read. An expired key is loaded too (with its expiry), so the gate can say key_expired, not key_unknown. */
async function load(store: KVNamespace, kid: string): Promise<VerificationKey | null> {
  const record = await getKey(store, kid);
  if (!record || !(await trustworthy(record))) return null;
  return {
    kid,
    algorithm: record.algorithm,
    key: await importVerifyKey(record.algorithm, record.publicJwk),
    expiresAtMs: record.expiresAt ? Date.parse(record.expiresAt) : undefined,
  };
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
