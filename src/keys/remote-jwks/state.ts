/**
 * The state of the remote JWKS sources in one isolate (issue 7, SPEC §6). Per source, in this
 * order of preference:
 *   memory (imported CryptoKeys) → the KV copy `jwks:{sha256(url)}` → the network (fetcher.ts).
 *
 * - Cold isolate: reads the KV copy before any network, so a fresh copy costs no fetch.
 * - Unknown kid: refresh at most once per cooldown per source (anti-DoS: a flood of random kids
 *   costs at most one KV read and one fetch per source per cooldown per isolate).
 * - Single-flight: one refresh per source at a time, shared by every waiting lookup. A lookup whose
 *   kid is already known never waits on a refresh somebody else started, so a refresh blocks at most
 *   the one request that triggered it (plus requests for kids nobody knows yet, which must wait).
 * - Errors: the last good set is served until `fetchedAt + staleSeconds`; past that a kid that is
 *   not found cannot be decided and `lookup` throws RemoteJwksUnavailable (fail closed → 503).
 *
 * Cross-request promises: workerd cancels a request's I/O when that request ends. A lookup that
 * waits on a refresh started by another request therefore races it against its own deadline, so a
 * cancelled initiator never leaves waiters hanging.
 */
import { REMOTE_JWKS_DEFAULTS } from '../../config';
import type { TokenKey } from '../../token/verify';
import { importVerifyKey } from '../material';
import { validateJwks, type JwksCopy, type SourceKey } from './document';
import { RemoteJwksAmbiguousKid, RemoteJwksFetchError, RemoteJwksUnavailable } from './errors';
import { fetchJwks, type JwksFetch } from './fetcher';
import { logSource } from './log';

/** Prefix of the KV copies of remote key sets. */
export const JWKS_COPY_PREFIX = 'jwks:';

export interface RemoteJwksOptions {
  urls: string[];
  timeoutMs?: number;
  maxBytes?: number;
  ttlSeconds?: number;
  minTtlSeconds?: number;
  maxTtlSeconds?: number;
  cooldownSeconds?: number;
  staleSeconds?: number;
}

export interface RemoteJwksDeps {
  fetch: JwksFetch;
  kv: KVNamespace;
  /** Epoch milliseconds. Injected so tests drive TTL, cooldown and staleness without sleeping. */
  now: () => number;
  /**
   * The kids of this deployment's own signing keys. A remote key published under one of them is
   * dropped when its set is loaded (issue 11): kid collisions are settled once per load, so the
   * gate never consults a remote source for a local key, and a remote source that is down never
   * changes a local key's verdict. Absent: no local keys to protect.
   */
  localKids?: () => Promise<ReadonlySet<string>>;
}

/** A verification key from a remote source. `expiresAtMs` is always undefined: a JWKS carries no expiry. */
export type RemoteKey = TokenKey & { kid: string; source: string };

interface KeySet {
  fetchedAt: number;
  expiresAt: number;
  keys: Map<string, RemoteKey>;
  /** kid → fingerprint, to tell a mirrored key from a conflicting one. */
  fingerprints: Map<string, string>;
}

interface SourceState {
  url: string;
  copyName: Promise<string>;
  set: KeySet | null;
  /** The KV copy has been consulted once (cold start). */
  warmed: boolean;
  /** Epoch ms of the last refresh attempt (KV or network), for the cooldown. */
  lastAttemptAt: number | undefined;
  lastError: RemoteJwksFetchError | undefined;
  refreshing: Promise<void> | null;
  /** Imported CryptoKeys by fingerprint: a key is imported once, whatever refreshes follow. */
  imported: Map<string, CryptoKey>;
}

const fingerprintOf = (key: Pick<SourceKey, 'alg' | 'jwk'>) => `${key.alg}:${JSON.stringify(key.jwk)}`;

async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** The KV name of a source's copy. */
export async function jwksCopyName(url: string): Promise<string> {
  return `${JWKS_COPY_PREFIX}${await sha256Hex(url)}`;
}

export class RemoteJwksSet {
  private readonly settings: Required<Omit<RemoteJwksOptions, 'urls'>>;
  private readonly sources: SourceState[];
  /** Network fetches started, per instance (tests and benchmarks prove single-flight and cooldown with it). */
  fetches = 0;

  constructor(
    options: RemoteJwksOptions,
    private readonly deps: RemoteJwksDeps,
  ) {
    const { urls, ...rest } = options;
    this.settings = { ...REMOTE_JWKS_DEFAULTS };
    for (const [name, value] of Object.entries(rest) as [keyof typeof this.settings, number | undefined][]) {
      if (value === undefined) continue;
      if (!Number.isFinite(value) || value < 0) throw new RangeError(`RemoteJwksSet: ${name} must be a non-negative number`);
      this.settings[name] = value;
    }
    if (this.settings.minTtlSeconds > this.settings.maxTtlSeconds) throw new RangeError('RemoteJwksSet: minTtlSeconds > maxTtlSeconds');
    this.sources = urls.map((url) => ({
      url,
      copyName: jwksCopyName(url),
      set: null,
      warmed: false,
      lastAttemptAt: undefined,
      lastError: undefined,
      refreshing: null,
      imported: new Map(),
    }));
    // A rejected digest would be an unhandled rejection until first use; it cannot reject, but be explicit.
    for (const source of this.sources) source.copyName.catch(() => undefined);
  }

  /** True when remote sources are configured. */
  get enabled(): boolean {
    return this.sources.length > 0;
  }

  /**
   * The key for `kid` from the remote sources, or null when every source has a usable set and none
   * has the kid. Throws RemoteJwksUnavailable when the kid is not found and some source has no
   * usable set; throws RemoteJwksAmbiguousKid when two sources publish different keys under it.
   *
   * `waitUntil` (optional) receives the KV copy writes, which are otherwise not awaited; pass
   * `ctx.waitUntil.bind(ctx)` so the write outlives the response. Without it a write may be cut
   * short when the request ends, which is harmless: another isolate then fetches once more.
   *
   * @example
   * const key = await remoteJwks.lookup(kid, (p) => ctx.waitUntil(p));
   */
  async lookup(kid: string, waitUntil?: (promise: Promise<unknown>) => void): Promise<RemoteKey | null> {
    if (this.sources.length === 0) return null;
    const now = this.deps.now();
    const waits: Promise<void>[] = [];
    for (const source of this.sources) {
      const wait = this.plan(source, kid, now, waitUntil);
      if (wait) waits.push(wait);
    }
    if (waits.length) await Promise.all(waits);
    return this.decide(kid, this.deps.now());
  }

  /** Whether this lookup must wait for `source`, starting a refresh when it is due. */
  private plan(source: SourceState, kid: string, now: number, waitUntil?: (promise: Promise<unknown>) => void): Promise<void> | null {
    const known = this.usable(source, now) && source.set!.keys.has(kid);
    if (source.refreshing) return known ? null : this.withDeadline(source.refreshing);
    if (!source.warmed) return this.withDeadline(this.startRefresh(source, kid, waitUntil));
    if (known && source.set!.expiresAt > now) return null;
    if (!this.cooledDown(source, now)) return null; // serve what we have (stale, or null for an unknown kid)
    return this.withDeadline(this.startRefresh(source, known ? undefined : kid, waitUntil));
  }

  private decide(kid: string, now: number): RemoteKey | null {
    const matches: SourceState[] = [];
    const unusable: SourceState[] = [];
    for (const source of this.sources) {
      if (!this.usable(source, now)) unusable.push(source);
      else if (source.set!.keys.has(kid)) matches.push(source);
    }
    if (matches.length === 0) {
      if (unusable.length === 0) return null;
      throw new RemoteJwksUnavailable(
        kid,
        unusable.map((source) => ({ source: source.url, failure: source.lastError?.failure ?? 'not_loaded' })),
      );
    }
    const first = matches[0]!;
    const fingerprint = first.set!.fingerprints.get(kid);
    const conflicting = matches.filter((source) => source.set!.fingerprints.get(kid) !== fingerprint);
    if (conflicting.length) throw new RemoteJwksAmbiguousKid(kid, matches.map((source) => source.url));
    return first.set!.keys.get(kid)!;
  }

  /** A set may serve until `fetchedAt + staleSeconds` (or its own expiry, if later). */
  private usable(source: SourceState, now: number): boolean {
    const set = source.set;
    return set !== null && now < Math.max(set.expiresAt, set.fetchedAt + this.settings.staleSeconds * 1000);
  }

  /** Anti-DoS: one refresh per cooldown per source, counting a set fetched by another isolate. */
  private cooledDown(source: SourceState, now: number): boolean {
    const last = Math.max(source.lastAttemptAt ?? -Infinity, source.set?.fetchedAt ?? -Infinity);
    return now - last >= this.settings.cooldownSeconds * 1000;
  }

  private startRefresh(source: SourceState, kid: string | undefined, waitUntil?: (promise: Promise<unknown>) => void): Promise<void> {
    source.lastAttemptAt = this.deps.now();
    const refreshing = this.refresh(source, kid, waitUntil)
      .catch((error) => logSource('remote_jwks_refresh_failed', source.url, String(error)))
      .finally(() => {
        if (source.refreshing === refreshing) source.refreshing = null;
      });
    source.refreshing = refreshing;
    return refreshing;
  }

  /** Races a shared refresh against this request's own deadline (see the module comment). */
  private withDeadline(refreshing: Promise<void>): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, this.settings.timeoutMs * 2 + 1_000);
    });
    return Promise.race([refreshing, deadline]).finally(() => clearTimeout(timer));
  }

  /** KV copy first (cold start, or another isolate refreshed), then the network. Never throws. */
  private async refresh(source: SourceState, kid: string | undefined, waitUntil?: (promise: Promise<unknown>) => void): Promise<void> {
    const copy = await this.readCopy(source);
    source.warmed = true;
    if (copy && (!source.set || copy.fetchedAt > source.set.fetchedAt)) await this.adopt(source, copy);
    const now = this.deps.now();
    const set = source.set;
    if (set && set.expiresAt > now && (kid === undefined || set.keys.has(kid))) return;
    // Another isolate fetched within the cooldown: the network would say the same.
    if (set && now - set.fetchedAt < this.settings.cooldownSeconds * 1000) return;

    this.fetches++;
    try {
      const fetched = await fetchJwks(source.url, now, this.settings, this.deps.fetch);
      if (!(await this.adopt(source, fetched))) throw new RemoteJwksFetchError(source.url, 'no_usable_key', 'no key of the set could be imported');
      source.lastError = undefined;
      const write = this.writeCopy(source, fetched);
      waitUntil?.(write);
    } catch (error) {
      const failure =
        error instanceof RemoteJwksFetchError ? error : new RemoteJwksFetchError(source.url, 'network', error instanceof Error ? error.message : String(error));
      source.lastError = failure;
      logSource('remote_jwks_fetch_failed', source.url, `${failure.failure}: ${failure.message}`);
    }
  }

  /** Imports a set's keys, reusing CryptoKeys already imported for the source (each key is imported once). */
  private async materialise(source: SourceState, copy: JwksCopy): Promise<{ set: KeySet; imported: Map<string, CryptoKey> }> {
    const keys = new Map<string, RemoteKey>();
    const fingerprints = new Map<string, string>();
    const imported = new Map<string, CryptoKey>();
    await Promise.all(
      copy.keys.map(async (entry) => {
        const fingerprint = fingerprintOf(entry);
        let cryptoKey = source.imported.get(fingerprint);
        if (!cryptoKey) {
          try {
            cryptoKey = await importVerifyKey(entry.alg, entry.jwk);
          } catch {
            return; // e.g. an EC point off the curve: WebCrypto is the last validator
          }
        }
        imported.set(fingerprint, cryptoKey);
        fingerprints.set(entry.kid, fingerprint);
        keys.set(entry.kid, { kid: entry.kid, algorithm: entry.alg, key: cryptoKey, expiresAtMs: undefined, source: source.url });
      }),
    );
    return { set: { fetchedAt: copy.fetchedAt, expiresAt: copy.expiresAt, keys, fingerprints }, imported };
  }

  /** Makes `copy` the source's set. A set with no importable key never replaces a usable one. */
  private async adopt(source: SourceState, copy: JwksCopy): Promise<boolean> {
    const { set, imported } = await this.materialise(source, await this.withoutLocalKids(source, copy));
    if (set.keys.size === 0) return false;
    source.set = set;
    source.imported = imported;
    return true;
  }

  /**
   * Drops the keys published under a local kid, and logs each. If the local kids cannot be listed
   * (KV failing), the set is kept whole: the gate looks a kid up locally first, so a local key
   * still wins, and a kid whose local lookup fails is refused (503) before any remote key is tried.
   */
  private async withoutLocalKids(source: SourceState, copy: JwksCopy): Promise<JwksCopy> {
    if (!this.deps.localKids) return copy;
    let local: ReadonlySet<string>;
    try {
      local = await this.deps.localKids();
    } catch (error) {
      logSource('remote_jwks_local_kids_unreadable', source.url, error instanceof Error ? error.message : String(error));
      return copy;
    }
    const kept = copy.keys.filter((key) => !local.has(key.kid));
    if (kept.length === copy.keys.length) return copy;
    for (const key of copy.keys) {
      if (local.has(key.kid)) logSource('remote_jwks_kid_collision', source.url, `kid ${JSON.stringify(key.kid.slice(0, 128))} is a local signing key; the remote key is dropped`);
    }
    return { ...copy, keys: kept };
  }

  private async readCopy(source: SourceState): Promise<JwksCopy | null> {
    try {
      const text = await this.deps.kv.get(await source.copyName, 'text');
      if (text === null) return null;
      const copy = JSON.parse(text) as JwksCopy;
      if (copy.url !== source.url || !Number.isFinite(copy.fetchedAt) || !Number.isFinite(copy.expiresAt)) return null;
      // Defence in depth: the copy was validated when written, but it is re-validated when read.
      const keys = validateJwks(source.url, { keys: copy.keys.map((key) => ({ ...key.jwk, kid: key.kid, alg: key.alg })) });
      return { ...copy, keys };
    } catch (error) {
      // KV down or a corrupt copy: the network is next; a failing KV never decides a kid.
      logSource('remote_jwks_copy_unreadable', source.url, error instanceof Error ? error.message : String(error));
      return null;
    }
  }

  /**
   * Writes the KV copy; never awaited on the request path. The copy expires by itself (KV TTL)
   * once it could no longer be served even stale.
   */
  private async writeCopy(source: SourceState, copy: JwksCopy): Promise<void> {
    const nowSeconds = Math.floor(this.deps.now() / 1000);
    const staleUntil = Math.ceil(Math.max(copy.expiresAt, copy.fetchedAt + this.settings.staleSeconds * 1000) / 1000);
    try {
      // KV requires an expiration at least 60 s in the future.
      await this.deps.kv.put(await source.copyName, JSON.stringify(copy), { expiration: Math.max(staleUntil, nowSeconds + 61) });
    } catch (error) {
      logSource('remote_jwks_copy_write_failed', source.url, error instanceof Error ? error.message : String(error));
    }
  }
}
