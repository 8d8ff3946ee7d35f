/**
 * The key registry (SPEC §3 "Admin writes are linearizable", §6): one Durable Object through which
 * every admin write passes — signing keys (create, import, rotate, delete), revocations and playback
 * policies. It serializes them, decides them against its own transactional SQLite state, and writes
 * each result through to KV, which stays the gate's read path (the gate never calls the registry).
 *
 * Why not check-then-write on KV: KV has no transactions, so two admin requests racing on it could
 * both pass the key limit, both rotate one key, or a rotate could write back a key a delete had just
 * removed (issue 11: a leaked key that comes back). Here every write runs alone, in arrival order:
 * - the key limit is counted and applied in one step;
 * - only an `active` key rotates, so racing or retried rotates make exactly one successor;
 * - a deleted key leaves a tombstone, so nothing written later can bring it back.
 *
 * The private half of a key pair never reaches the registry: the admin face generates the pair and
 * hands over only the public record.
 *
 * Existing deployments (keys written to KV before the registry existed) lose nothing: the registry
 * adopts every KV key and revocation the first time it starts (one KV list each), and adopts a single
 * key from KV whenever it is asked about an id it does not hold.
 */
import { DurableObject } from 'cloudflare:workers';
import type { Env } from '../config';
import { type Reason } from '../errors';
import { deletePolicy, policyExists, putPolicy, type StoredPlaybackPolicy } from '../policy/store';
import { statusAt, type SigningKeyRecord } from './record';
import { deleteRevocation as deleteRevocationFromKv, listRevocations, putRevocation, type Revocation } from './revocations';
import { deleteKey as deleteKeyFromKv, getKey, listKeys, putKey, StoreUnavailable } from './store';

/** What the registry answers: a result, or a refusal with a stable reason (errors do not cross RPC with their class). */
export type RegistryResult<T> = { ok: true; value: T } | { ok: false; reason: Extract<Reason, 'not_found' | 'limit_reached' | 'key_not_active' | 'storage_unavailable'>; description: string };

const ok = <T>(value: T): RegistryResult<T> => ({ ok: true, value });
const refuse = (reason: Exclude<RegistryResult<never>, { ok: true }>['reason'], description: string): RegistryResult<never> => ({ ok: false, reason, description });

/** The name of the one registry object of a deployment. */
export const REGISTRY_NAME = 'signing-keys';

/** The registry stub of this deployment. */
export function registryOf(env: Env): DurableObjectStub<KeyRegistry> {
  return env.REGISTRY.get(env.REGISTRY.idFromName(REGISTRY_NAME));
}

export class KeyRegistry extends DurableObject<Env> {
  private readonly sql: SqlStorage;
  /** The tail of the write queue: each write starts when the previous one has settled. */
  private tail: Promise<unknown> = Promise.resolve();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec(`CREATE TABLE IF NOT EXISTS signing_keys (id TEXT PRIMARY KEY, record TEXT NOT NULL)`);
    this.sql.exec(`CREATE TABLE IF NOT EXISTS deleted_keys (id TEXT PRIMARY KEY, deleted_at INTEGER NOT NULL)`);
    this.sql.exec(`CREATE TABLE IF NOT EXISTS revocations (id TEXT PRIMARY KEY, record TEXT NOT NULL, expires_at INTEGER NOT NULL)`);
    this.sql.exec(`CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)`);
    void ctx.blockConcurrencyWhile(() => this.adoptKvOnce());
  }

  /**
   * Serializes one write. A Durable Object only holds other events back while it awaits its own
   * storage; while a write awaits KV, another could start. The queue keeps them in arrival order
   * and alone, KV write-through included, so KV receives the writes in the order they were decided.
   */
  private serialized<T>(write: () => Promise<RegistryResult<T>>): Promise<RegistryResult<T>> {
    const guarded = async () => {
      try {
        return await write();
      } catch (error) {
        return this.unavailable(error);
      }
    };
    const run = this.tail.then(guarded, guarded);
    this.tail = run.catch(() => undefined);
    return run;
  }

  /** Takes the keys and revocations of a deployment that predates the registry (once per object). */
  private async adoptKvOnce(): Promise<void> {
    if (this.sql.exec(`SELECT 1 FROM meta WHERE name = 'adopted_kv'`).toArray().length > 0) return;
    try {
      for (const { id } of await listKeys(this.env.KEYS)) {
        this.sql.exec(`INSERT OR IGNORE INTO signing_keys (id, record) VALUES (?, '')`, id);
      }
      for (const revocation of await listRevocations(this.env.KEYS)) {
        this.sql.exec(`INSERT OR IGNORE INTO revocations (id, record, expires_at) VALUES (?, ?, ?)`, revocation.id, JSON.stringify(revocation), Date.parse(revocation.expiresAt));
      }
      this.sql.exec(`INSERT INTO meta (name, value) VALUES ('adopted_kv', ?)`, new Date().toISOString());
    } catch (error) {
      // KV down at first start: try again on the next event rather than start from an empty registry.
      console.error(JSON.stringify({ event: 'registry_adopt_failed', error: String(error).slice(0, 200) }));
    }
  }

  /** Adoption must have happened before any decision that counts: retried here if KV failed at start. */
  private async ready(): Promise<RegistryResult<void>> {
    await this.adoptKvOnce();
    if (this.sql.exec(`SELECT 1 FROM meta WHERE name = 'adopted_kv'`).toArray().length === 0) {
      return refuse('storage_unavailable', 'The key store (Workers KV) is unavailable; nothing was changed. Retry later.');
    }
    return ok(undefined);
  }

  /** The record of a key the registry holds (adopting it from KV if it predates the registry), 'deleted', or null. */
  private async known(id: string): Promise<SigningKeyRecord | 'deleted' | null> {
    if (this.sql.exec(`SELECT 1 FROM deleted_keys WHERE id = ?`, id).toArray().length > 0) return 'deleted';
    const row = this.sql.exec<{ record: string }>(`SELECT record FROM signing_keys WHERE id = ?`, id).toArray()[0];
    if (row?.record) return JSON.parse(row.record) as SigningKeyRecord;
    const fromKv = await getKey(this.env.KEYS, id);
    if (!fromKv) {
      if (row) this.sql.exec(`DELETE FROM signing_keys WHERE id = ?`, id);
      return null;
    }
    this.sql.exec(`INSERT OR REPLACE INTO signing_keys (id, record) VALUES (?, ?)`, id, JSON.stringify(fromKv));
    return fromKv;
  }

  private keyCount(): number {
    return this.sql.exec<{ n: number }>(`SELECT COUNT(*) AS n FROM signing_keys`).one().n;
  }

  private storeKey(record: SigningKeyRecord) {
    this.sql.exec(`INSERT OR REPLACE INTO signing_keys (id, record) VALUES (?, ?)`, record.id, JSON.stringify(record));
  }

  /**
   * The key `id` if it can be rotated at `nowMs` (it exists and is active). A read, not queued: the
   * admin face asks first to learn the algorithm (and to refuse before generating a pair); rotateKey
   * asks again inside the queue, and that answer is the one that counts.
   */
  async rotatableKey(id: string, nowMs: number): Promise<RegistryResult<SigningKeyRecord>> {
    try {
      const adopted = await this.ready();
      if (!adopted.ok) return adopted;
      const record = await this.known(id);
      if (record === null) return refuse('not_found', `No signing key with id "${id}".`);
      if (record === 'deleted') return refuse('key_not_active', `Signing key "${id}" was deleted; only an active key can be rotated.`);
      const status = statusAt(record, nowMs);
      if (status !== 'active') {
        return refuse('key_not_active', `Signing key "${id}" is ${status}${record.rotatedTo ? ` (rotated to ${record.rotatedTo})` : ''}; only an active key can be rotated.`);
      }
      return ok(record);
    } catch (error) {
      return this.unavailable(error);
    }
  }

  /** Creates (or imports) a key: the limit is counted and the key written in one step. */
  createKey(record: SigningKeyRecord, maxKeys: number): Promise<RegistryResult<SigningKeyRecord>> {
    return this.serialized(async () => {
      const adopted = await this.ready();
      if (!adopted.ok) return adopted;
      const count = this.keyCount();
      if (count >= maxKeys) {
        return refuse('limit_reached', `This deployment holds ${count} signing keys, the limit is ${maxKeys}. Delete unused keys first.`);
      }
      this.storeKey(record);
      return this.writeThrough(
        () => putKey(this.env.KEYS, record),
        () => this.sql.exec(`DELETE FROM signing_keys WHERE id = ?`, record.id),
        record,
      );
    });
  }

  /**
   * Rotates `oldId` to `fresh`: only an active key rotates, so of any number of racing or retried
   * rotates exactly one makes a successor; the old key retires at `nowMs + graceMs` (or its own
   * earlier expiry).
   */
  rotateKey(oldId: string, fresh: SigningKeyRecord, graceMs: number, nowMs: number, maxKeys: number): Promise<RegistryResult<{ retiring: SigningKeyRecord }>> {
    return this.serialized(async () => {
      const rotatable = await this.rotatableKey(oldId, nowMs);
      if (!rotatable.ok) return rotatable;
      const old = rotatable.value;
      const count = this.keyCount();
      if (count >= maxKeys) {
        return refuse('limit_reached', `This deployment holds ${count} signing keys, the limit is ${maxKeys}. Delete unused keys first.`);
      }
      const oldExpiry = old.expiresAt ? Math.min(Date.parse(old.expiresAt), nowMs + graceMs) : nowMs + graceMs;
      const retiring: SigningKeyRecord = { ...old, rotatedTo: fresh.id, expiresAt: new Date(oldExpiry).toISOString() };
      this.storeKey(fresh);
      this.storeKey(retiring);
      return this.writeThrough(
        async () => {
          await putKey(this.env.KEYS, fresh);
          try {
            await putKey(this.env.KEYS, retiring);
          } catch (error) {
            // Nothing half-written: the new key's private half is never returned, so it must not stay.
            await deleteKeyFromKv(this.env.KEYS, fresh.id).catch(() => undefined);
            throw error;
          }
        },
        () => {
          this.sql.exec(`DELETE FROM signing_keys WHERE id = ?`, fresh.id);
          this.storeKey(old);
        },
        { retiring },
      );
    });
  }

  /** Deletes a key for good: its tombstone keeps any later write from bringing it back. */
  deleteKey(id: string): Promise<RegistryResult<SigningKeyRecord>> {
    return this.serialized(async () => {
      const adopted = await this.ready();
      if (!adopted.ok) return adopted;
      const record = await this.known(id);
      if (record === null || record === 'deleted') return refuse('not_found', `No signing key with id "${id}".`);
      this.sql.exec(`DELETE FROM signing_keys WHERE id = ?`, id);
      this.sql.exec(`INSERT OR REPLACE INTO deleted_keys (id, deleted_at) VALUES (?, ?)`, id, Date.now());
      return this.writeThrough(
        () => deleteKeyFromKv(this.env.KEYS, id),
        () => {
          this.sql.exec(`DELETE FROM deleted_keys WHERE id = ?`, id);
          this.storeKey(record);
        },
        record,
      );
    });
  }

  /** Adds a revocation, its limit counted in the same step. */
  createRevocation(revocation: Revocation, maxRevocations: number, nowMs: number): Promise<RegistryResult<Revocation>> {
    return this.serialized(async () => {
      const adopted = await this.ready();
      if (!adopted.ok) return adopted;
      this.sql.exec(`DELETE FROM revocations WHERE expires_at <= ?`, nowMs);
      const count = this.sql.exec<{ n: number }>(`SELECT COUNT(*) AS n FROM revocations`).one().n;
      if (count >= maxRevocations) {
        return refuse('limit_reached', `${count} revocations are active, the limit is ${maxRevocations}. Lift some, or rotate the key instead.`);
      }
      this.sql.exec(`INSERT INTO revocations (id, record, expires_at) VALUES (?, ?, ?)`, revocation.id, JSON.stringify(revocation), Date.parse(revocation.expiresAt));
      return this.writeThrough(
        () => putRevocation(this.env.KEYS, revocation, nowMs),
        () => this.sql.exec(`DELETE FROM revocations WHERE id = ?`, revocation.id),
        revocation,
      );
    });
  }

  /** Lifts a revocation (found in KV, which holds the ones the registry adopted and wrote). */
  liftRevocation(id: string): Promise<RegistryResult<Revocation>> {
    return this.serialized(async () => {
      const lifted = await deleteRevocationFromKv(this.env.KEYS, id);
      if (!lifted) return refuse('not_found', `No revocation with id "${id}".`);
      this.sql.exec(`DELETE FROM revocations WHERE id = ?`, id);
      return ok(lifted);
    });
  }

  /** Writes a playback policy (last writer wins, in arrival order). */
  putPolicy(playbackId: string, entry: StoredPlaybackPolicy): Promise<RegistryResult<void>> {
    return this.serialized(async () => this.writeThrough(() => putPolicy(this.env.KEYS, playbackId, entry), () => undefined, undefined));
  }

  /** Deletes a playback policy; exists-then-delete runs alone, so of two racing deletes one answers 404. */
  deletePolicy(playbackId: string): Promise<RegistryResult<void>> {
    return this.serialized(async () => {
      // Existence only, not validity: an entry that no longer validates can still be deleted.
      if (!(await policyExists(this.env.KEYS, playbackId))) return refuse('not_found', `No playback policy for "${playbackId}".`);
      return this.writeThrough(() => deletePolicy(this.env.KEYS, playbackId), () => undefined, undefined);
    });
  }

  /**
   * Writes a decided change through to KV. When KV fails, the registry's own change is undone, so
   * the registry and KV never disagree about a write that answered 503 (nothing half-written).
   */
  private async writeThrough<T>(write: () => Promise<void>, undo: () => void, value: T): Promise<RegistryResult<T>> {
    try {
      await write();
      return ok(value);
    } catch (error) {
      undo();
      return this.unavailable(error);
    }
  }

  private unavailable(error: unknown): RegistryResult<never> {
    if (!(error instanceof StoreUnavailable)) throw error;
    console.error(JSON.stringify({ event: 'kv_error', operation: error.operation, error: String(error.cause).slice(0, 200) }));
    return refuse('storage_unavailable', 'The key store (Workers KV) is unavailable; nothing was changed. Retry later.');
  }
}
