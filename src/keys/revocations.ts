/**
 * Token revocation without deleting the key (issue 7).
 *
 * KV layout: one entry per revocation, `rev:{id}`, the whole revocation in the entry's metadata, so
 * ONE prefix list returns every revocation (up to 1000 per list page) and two admin writes never
 * touch one shared value (SPEC §6: KV has no transactions). Each entry carries a KV `expiration`:
 * it removes itself once no token it concerns can still be accepted.
 *
 * The gate reads revocations through RevocationCache: one KV list per TTL per isolate, zero KV
 * reads when warm. Propagation bound: an isolate sees a new revocation within `ttlSeconds` + KV
 * list propagation (about 60 s), and at once in the isolate that wrote it (`invalidate()`).
 */
import { kv, StoreUnavailable } from './store';
import { IsolateCache } from '../isolate-cache';

export type RevocationSelector =
  | { kind: 'jti'; jti: string }
  /** Every token for the playback ID issued before `before` (epoch seconds, compared with `iat`). */
  | { kind: 'playbackId'; playbackId: string; before: number }
  | { kind: 'sub'; sub: string };

export type Revocation = RevocationSelector & {
  id: string;
  /** ISO 8601 UTC. */
  createdAt: string;
  /** ISO 8601 UTC: the latest token `exp` the revocation can concern. */
  expiresAt: string;
};

export const REVOCATION_PREFIX = 'rev:';
export const revocationKvName = (id: string) => `${REVOCATION_PREFIX}${id}`;

/**
 * How long an entry outlives its `expiresAt` in KV. The gate accepts a token until `exp + skew`, and
 * CLOCK_SKEW_SECONDS may be up to 3600, so the entry stays that much longer.
 */
export const REVOCATION_EXPIRY_MARGIN_SECONDS = 3_600;
/** KV refuses an `expiration` less than 60 s in the future. */
const KV_MIN_EXPIRATION_SECONDS = 60;
/** KV caps metadata at 1024 bytes. */
const KV_MAX_METADATA_BYTES = 1024;

/** The claims of a token (or of the grant minted from it) that revocations can select on. */
export interface RevocableToken {
  jti?: string;
  /** Mux and FastPix carry a string; an array is accepted as JWT allows. */
  sub?: string | readonly string[];
  /** The playback ID of the request. */
  playbackId: string;
  /** Seconds since the epoch. */
  iat?: number;
}

/** Every revocation known at `loadedAtMs`, indexed for one Map lookup per selector. */
export interface RevocationSnapshot {
  loadedAtMs: number;
  all: readonly Revocation[];
  byJti: ReadonlyMap<string, Revocation>;
  bySub: ReadonlyMap<string, Revocation>;
  /** The latest-cutoff revocation per playback ID (a later `before` revokes a superset). */
  byPlaybackId: ReadonlyMap<string, Extract<Revocation, { kind: 'playbackId' }>>;
}

export function buildSnapshot(revocations: readonly Revocation[], loadedAtMs: number): RevocationSnapshot {
  const byJti = new Map<string, Revocation>();
  const bySub = new Map<string, Revocation>();
  const byPlaybackId = new Map<string, Extract<Revocation, { kind: 'playbackId' }>>();
  for (const revocation of revocations) {
    switch (revocation.kind) {
      case 'jti':
        byJti.set(revocation.jti, revocation);
        break;
      case 'sub':
        bySub.set(revocation.sub, revocation);
        break;
      case 'playbackId': {
        const current = byPlaybackId.get(revocation.playbackId);
        if (!current || revocation.before > current.before) byPlaybackId.set(revocation.playbackId, revocation);
        break;
      }
    }
  }
  return { loadedAtMs, all: revocations, byJti, bySub, byPlaybackId };
}

export const EMPTY_SNAPSHOT: RevocationSnapshot = buildSnapshot([], 0);

/**
 * The revocation that refuses `token`, or null. Pure.
 *
 * A playbackId/before revocation also refuses a token WITHOUT `iat`: nothing proves such a token
 * was issued after the cut-off, and a revocation must not be escaped by leaving a claim out.
 *
 * @example
 * const hit = findRevocation(snapshot, { jti: payload.jti, sub: payload.sub, playbackId, iat: payload.iat });
 * if (hit) deny('token_revoked');
 */
export function findRevocation(snapshot: RevocationSnapshot, token: RevocableToken): Revocation | null {
  if (snapshot.all.length === 0) return null;
  if (typeof token.jti === 'string') {
    const hit = snapshot.byJti.get(token.jti);
    if (hit) return hit;
  }
  const subs = typeof token.sub === 'string' ? [token.sub] : Array.isArray(token.sub) ? token.sub : [];
  for (const sub of subs) {
    const hit = typeof sub === 'string' ? snapshot.bySub.get(sub) : undefined;
    if (hit) return hit;
  }
  const cutoff = snapshot.byPlaybackId.get(token.playbackId);
  if (cutoff && (typeof token.iat !== 'number' || !Number.isFinite(token.iat) || token.iat < cutoff.before)) return cutoff;
  return null;
}

/** The KV `expiration` (epoch seconds) of a revocation: when it can no longer matter. */
export function revocationExpiration(revocation: Pick<Revocation, 'expiresAt'>, nowMs: number): number {
  const matters = Math.ceil(Date.parse(revocation.expiresAt) / 1000) + REVOCATION_EXPIRY_MARGIN_SECONDS;
  return Math.max(matters, Math.floor(nowMs / 1000) + KV_MIN_EXPIRATION_SECONDS + 1);
}

/** Stores one revocation as its own KV entry, self-expiring. Throws StoreUnavailable on KV failure. */
export async function putRevocation(store: KVNamespace, revocation: Revocation, nowMs: number): Promise<void> {
  const json = JSON.stringify(revocation);
  if (new TextEncoder().encode(json).length > KV_MAX_METADATA_BYTES) {
    // The admin schema bounds every field well below this; reaching it is a programming error.
    throw new RangeError('revocation too large for KV metadata');
  }
  await kv('put', () =>
    store.put(revocationKvName(revocation.id), json, { metadata: revocation, expiration: revocationExpiration(revocation, nowMs) }),
  );
}

/** Every stored revocation, newest first. Pages through KV's list (1000 names per call). */
export async function listRevocations(store: KVNamespace): Promise<Revocation[]> {
  const out: Revocation[] = [];
  let cursor: string | undefined;
  do {
    const page = await kv('list', () => store.list<Revocation>({ prefix: REVOCATION_PREFIX, cursor }));
    for (const entry of page.keys) {
      if (entry.metadata && typeof entry.metadata === 'object' && entry.metadata.id === entry.name.slice(REVOCATION_PREFIX.length)) {
        out.push(entry.metadata);
      }
    }
    cursor = page.list_complete ? undefined : page.cursor;
  } while (cursor);
  return out.sort((a, b) => b.createdAt.localeCompare(a.createdAt) || b.id.localeCompare(a.id));
}

export async function getRevocation(store: KVNamespace, id: string): Promise<Revocation | null> {
  const text = await kv('get', () => store.get(revocationKvName(id), 'text'));
  if (text === null) return null;
  try {
    return JSON.parse(text) as Revocation;
  } catch (error) {
    throw new StoreUnavailable('get (corrupt entry)', error);
  }
}

/** Lifts a revocation. Returns the lifted revocation, or null when there was none with that id. */
export async function deleteRevocation(store: KVNamespace, id: string): Promise<Revocation | null> {
  const existing = await getRevocation(store, id);
  if (!existing) return null;
  await kv('delete', () => store.delete(revocationKvName(id)));
  return existing;
}

/**
 * The isolate's view of the revocation list (SPEC §6), with the discipline of src/isolate-cache.ts:
 * warm, zero KV operations; one KV list (set of pages) per `ttlSeconds` per isolate, made by the
 * request that needs it; KV failure: the previous snapshot serves while within TTL +
 * stale-if-error, then StoreUnavailable propagates and the gate answers 503 keys_unavailable (fail
 * closed: an unknown revocation list never lets a token through).
 */
export class RevocationCache {
  private readonly list = new IsolateCache<RevocationSnapshot>(1);

  /** KV list loads made by this cache (tests prove the warm path with it). */
  get loads(): number {
    return this.list.loads;
  }

  snapshot(store: KVNamespace, nowMs: number, ttlSeconds: number): Promise<RevocationSnapshot> {
    return this.list.get('all', nowMs, ttlSeconds * 1000, async () => buildSnapshot(await listRevocations(store), nowMs));
  }

  /** The isolate that wrote a revocation (or lifted one) reloads on its next request. */
  invalidate(): void {
    this.list.invalidate('all');
  }
}

