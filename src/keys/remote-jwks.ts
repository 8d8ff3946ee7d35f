/**
 * Remote JWKS sources (issue 7, SPEC §6): key sets kept outside signet (an identity provider,
 * another signet, a control plane) whose keys verify playback tokens exactly like local ones.
 *
 * Per source, in this order of preference:
 *   memory (imported CryptoKeys) → the KV copy `jwks:{sha256(url)}` → the network.
 *
 * - Cold isolate: reads the KV copy before any network, so a fresh copy costs no fetch.
 * - Fetch: timeout (AbortController), `redirect: 'manual'` (a 3xx is an error: a redirect would
 *   let whoever controls the first host choose the keys), size cap read from the stream, JSON and
 *   JWK validation (public keys only, one algorithm per key, RSA ≥ 2048 bits).
 * - TTL: `Cache-Control: max-age` clamped to [minTtl, maxTtl], else `ttlSeconds`.
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
import { ConfigError, REMOTE_JWKS_DEFAULTS, REMOTE_JWKS_LIMITS } from '../config';
import type { TokenKey } from '../token/verify';
import { isAlgorithm, PRIVATE_JWK_MEMBERS, type Algorithm } from './algorithms';
import { importVerifyKey, KeyImportError, validatePublicJwk, type PublicJwk } from './material';
import { readBytesCapped } from '../streams';
import { listKeys } from './store';


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
  fetch: (url: string, init: RequestInit) => Promise<Response>;
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

/** Why one fetch of one source failed. */
export type RemoteJwksFailure =
  | 'timeout'
  | 'network'
  | 'redirect'
  | 'http_status'
  | 'too_large'
  | 'invalid_json'
  | 'invalid_jwks'
  | 'private_key'
  | 'no_usable_key';

/** One failed fetch of one source. Recorded per source; `lookup` never throws it. */
export class RemoteJwksFetchError extends Error {
  readonly code = 'ERR_REMOTE_JWKS_FETCH';
  constructor(
    readonly source: string,
    readonly failure: RemoteJwksFailure,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The kid is in no usable key set and at least one source has no usable set (failing past
 * `staleSeconds`, or never fetched): the kid cannot be decided. The gate answers 503
 * keys_unavailable (fail closed, never open).
 */
export class RemoteJwksUnavailable extends Error {
  readonly code = 'ERR_REMOTE_JWKS_UNAVAILABLE';
  constructor(
    readonly kid: string,
    readonly sources: { source: string; failure: RemoteJwksFailure | 'not_loaded' }[],
  ) {
    super(`remote JWKS unavailable: ${sources.map((s) => `${redact(s.source)} (${s.failure})`).join(', ')}`);
  }
}

/** Two sources publish different keys under one kid: refused, not guessed. */
export class RemoteJwksAmbiguousKid extends Error {
  readonly code = 'ERR_JWKS_MULTIPLE_MATCHING_KEYS';
  constructor(
    readonly kid: string,
    readonly sources: string[],
  ) {
    super(`kid is published with different keys by ${sources.map(redact).join(', ')}`);
  }
}

/**
 * Parses `JWKS_URLS`: space-separated absolute https URLs, no credentials, no fragment, no
 * duplicates, at most REMOTE_JWKS_LIMITS.maxSources. Empty or unset → no remote source.
 *
 * @example parseJwksUrls('https://idp.example/.well-known/jwks.json https://cp.example/keys')
 */
export function parseJwksUrls(value: string | undefined): string[] {
  if (value === undefined || value.trim() === '') return [];
  const urls: string[] = [];
  for (const text of value.trim().split(/\s+/)) {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      throw new ConfigError('JWKS_URLS', `${JSON.stringify(text.slice(0, 80))} is not an absolute URL`);
    }
    if (url.protocol !== 'https:') throw new ConfigError('JWKS_URLS', `${JSON.stringify(redact(text))} must use https`);
    if (url.username || url.password) throw new ConfigError('JWKS_URLS', 'URLs must not carry credentials');
    if (url.hash) throw new ConfigError('JWKS_URLS', `${JSON.stringify(redact(text))} must not have a fragment`);
    if (urls.includes(url.href)) throw new ConfigError('JWKS_URLS', `${JSON.stringify(redact(text))} is listed twice`);
    urls.push(url.href);
  }
  if (urls.length > REMOTE_JWKS_LIMITS.maxSources) {
    throw new ConfigError('JWKS_URLS', `at most ${REMOTE_JWKS_LIMITS.maxSources} sources, got ${urls.length}`);
  }
  return urls;
}

/** A URL for logs and messages: origin and path only (a query may carry an access key). */
function redact(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.origin}${parsed.pathname}`;
  } catch {
    return '(invalid url)';
  }
}

/** A validated key as kept in memory and in the KV copy. */
interface SourceKey {
  kid: string;
  alg: Algorithm;
  jwk: PublicJwk;
}

/** The KV copy of one source (`jwks:{sha256(url)}`); times in epoch ms. */
export interface JwksCopy {
  url: string;
  fetchedAt: number;
  expiresAt: number;
  keys: SourceKey[];
}

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

/** RFC 7518 §6: the algorithm a JWK without `alg` can only mean, or undefined when it is not unique. */
function derivedAlgorithm(jwk: Record<string, unknown>): Algorithm | undefined {
  if (jwk.kty === 'RSA') return 'RS256';
  if (jwk.kty === 'EC' && jwk.crv === 'P-256') return 'ES256';
  if (jwk.kty === 'OKP' && jwk.crv === 'Ed25519') return 'EdDSA';
  return undefined;
}

/**
 * Validates a JWK Set document. Keys that signet cannot use for playback tokens are skipped (no
 * kid, `use` other than "sig", another algorithm, duplicate kid); keys that fail key hygiene
 * (SPEC §6, hygiene.ts: weak RSA, EC off the curve, Ed25519 of small order…) are dropped from the
 * set and logged — one line per document, kids and rules only — and never trusted; private
 * material anywhere refuses the whole document: a source that publishes a private key has
 * handed its signing power to everybody.
 */
export function validateJwks(source: string, document: unknown): SourceKey[] {
  if (document === null || typeof document !== 'object' || Array.isArray(document) || !Array.isArray((document as { keys?: unknown }).keys)) {
    throw new RemoteJwksFetchError(source, 'invalid_jwks', 'the document is not a JWK Set ({"keys": [...]})');
  }
  const entries = (document as { keys: unknown[] }).keys;
  const valid = new Map<string, SourceKey>();
  const duplicated = new Set<string>();
  const untrusted: string[] = [];
  for (const entry of entries) {
    if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) continue;
    const jwk = entry as Record<string, unknown>;
    if (PRIVATE_JWK_MEMBERS.some((member) => member in jwk)) {
      throw new RemoteJwksFetchError(source, 'private_key', 'the JWK Set contains private or symmetric key material');
    }
    const kid = jwk.kid;
    if (typeof kid !== 'string' || !/^[\x21-\x7e]+$/.test(kid) || kid.length > REMOTE_JWKS_LIMITS.maxKidLength) continue;
    if (jwk.use !== undefined && jwk.use !== 'sig') continue;
    if (jwk.key_ops !== undefined && !(Array.isArray(jwk.key_ops) && jwk.key_ops.includes('verify'))) continue;
    const alg = jwk.alg === undefined ? derivedAlgorithm(jwk) : isAlgorithm(jwk.alg) ? jwk.alg : undefined;
    if (!alg) continue;
    let publicJwk: PublicJwk;
    try {
      publicJwk = validatePublicJwk(alg, jwk);
    } catch (error) {
      if (!(error instanceof KeyImportError)) throw error;
      untrusted.push(`kid ${JSON.stringify(kid)}: ${error.message}`);
      continue;
    }
    // RFC 7517 §4.5: kids within a set should be distinct; when they are not, refuse both.
    if (valid.has(kid) || duplicated.has(kid)) {
      valid.delete(kid);
      duplicated.add(kid);
      continue;
    }
    valid.set(kid, { kid, alg, jwk: publicJwk });
    if (valid.size > REMOTE_JWKS_LIMITS.maxKeysPerSource) {
      throw new RemoteJwksFetchError(source, 'invalid_jwks', `more than ${REMOTE_JWKS_LIMITS.maxKeysPerSource} usable keys`);
    }
  }
  // Bounded: a hostile document of many bad keys costs one log line, not one per key.
  if (untrusted.length > 0) {
    const shown = untrusted.slice(0, 5).join('; ');
    log('jwks_key_dropped', source, untrusted.length > 5 ? `${shown}; and ${untrusted.length - 5} more` : shown);
  }
  return [...valid.values()];
}

/** Seconds the response may be trusted: `max-age` clamped to bounds, else the default. */
export function ttlFromCacheControl(header: string | null, defaults: { ttlSeconds: number; minTtlSeconds: number; maxTtlSeconds: number }): number {
  const clamp = (value: number) => Math.min(defaults.maxTtlSeconds, Math.max(defaults.minTtlSeconds, value));
  if (!header) return defaults.ttlSeconds;
  if (/(?:^|,)\s*(?:no-store|no-cache)\b/i.test(header)) return defaults.minTtlSeconds;
  const match = /(?:^|,)\s*max-age\s*=\s*"?(\d{1,10})"?\s*(?:,|$)/i.exec(header);
  return match ? clamp(Number(match[1])) : defaults.ttlSeconds;
}

export class RemoteJwksSet {
  private readonly settings: Required<Omit<RemoteJwksOptions, 'urls'>>;
  private readonly sources: SourceState[];
  /** Network fetches started, per instance (tests and benchmarks prove single-flight and cooldown with it). */
  fetches = 0;
  /** KV copy reads made. */
  kvReads = 0;

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
      .catch((error) => log('remote_jwks_refresh_failed', source.url, String(error)))
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
      const fetched = await this.fetchSource(source.url, now);
      if (!(await this.adopt(source, fetched))) throw new RemoteJwksFetchError(source.url, 'no_usable_key', 'no key of the set could be imported');
      source.lastError = undefined;
      const write = this.writeCopy(source, fetched);
      waitUntil?.(write);
    } catch (error) {
      const failure =
        error instanceof RemoteJwksFetchError ? error : new RemoteJwksFetchError(source.url, 'network', error instanceof Error ? error.message : String(error));
      source.lastError = failure;
      log('remote_jwks_fetch_failed', source.url, `${failure.failure}: ${failure.message}`);
    }
  }

  private async fetchSource(url: string, now: number): Promise<JwksCopy> {
    const { timeoutMs, maxBytes } = this.settings;
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new RemoteJwksFetchError(url, 'timeout', `no complete answer within ${timeoutMs} ms`)), timeoutMs);
    const aborted = new Promise<never>((_, reject) => {
      controller.signal.addEventListener('abort', () => reject(controller.signal.reason), { once: true });
    });
    aborted.catch(() => undefined);
    try {
      let response: Response;
      try {
        response = await Promise.race([
          this.deps.fetch(url, {
            method: 'GET',
            // A redirect is an error: the keys must come from the host the operator named.
            redirect: 'manual',
            headers: { Accept: 'application/jwk-set+json, application/json' },
            signal: controller.signal,
          }),
          aborted,
        ]);
      } catch (error) {
        if (error instanceof RemoteJwksFetchError) throw error;
        throw new RemoteJwksFetchError(url, 'network', error instanceof Error ? error.message : String(error));
      }
      if (response.status >= 300 && response.status < 400) {
        await response.body?.cancel().catch(() => undefined);
        throw new RemoteJwksFetchError(url, 'redirect', `answered ${response.status}; redirects are not followed`);
      }
      if (!response.ok) {
        await response.body?.cancel().catch(() => undefined);
        throw new RemoteJwksFetchError(url, 'http_status', `answered ${response.status}`);
      }
      const text = await readCapped(url, response, maxBytes, aborted);
      let document: unknown;
      try {
        document = JSON.parse(text);
      } catch {
        throw new RemoteJwksFetchError(url, 'invalid_json', 'the body is not JSON');
      }
      const keys = validateJwks(url, document);
      if (keys.length === 0) throw new RemoteJwksFetchError(url, 'no_usable_key', 'the set has no usable signing key');
      const ttl = ttlFromCacheControl(response.headers.get('Cache-Control'), this.settings);
      return { url, fetchedAt: now, expiresAt: now + ttl * 1000, keys };
    } finally {
      clearTimeout(timer);
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
      log('remote_jwks_local_kids_unreadable', source.url, error instanceof Error ? error.message : String(error));
      return copy;
    }
    const kept = copy.keys.filter((key) => !local.has(key.kid));
    if (kept.length === copy.keys.length) return copy;
    for (const key of copy.keys) if (local.has(key.kid)) log('remote_jwks_kid_collision', source.url, `kid ${JSON.stringify(key.kid.slice(0, 128))} is a local signing key; the remote key is dropped`);
    return { ...copy, keys: kept };
  }

  private async readCopy(source: SourceState): Promise<JwksCopy | null> {
    this.kvReads++;
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
      log('remote_jwks_copy_unreadable', source.url, error instanceof Error ? error.message : String(error));
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
      log('remote_jwks_copy_write_failed', source.url, error instanceof Error ? error.message : String(error));
    }
  }
}

/** Reads at most `maxBytes` of the body; stops reading (and cancels) as soon as it is exceeded. */
async function readCapped(url: string, response: Response, maxBytes: number, aborted: Promise<never>): Promise<string> {
  const declared = response.headers.get('Content-Length');
  if (declared !== null && Number(declared) > maxBytes) {
    await response.body?.cancel().catch(() => undefined);
    throw new RemoteJwksFetchError(url, 'too_large', `declares ${declared} bytes, the limit is ${maxBytes}`);
  }
  if (!response.body) return '';
  const bytes = await readBytesCapped(response.body, maxBytes, () => new RemoteJwksFetchError(url, 'too_large', `the body exceeds ${maxBytes} bytes`), aborted);
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw new RemoteJwksFetchError(url, 'invalid_json', 'the body is not UTF-8');
  }
}

function log(event: string, url: string, detail: string) {
  console.warn(JSON.stringify({ event, source: redact(url), detail }));
}

const perEnv = new WeakMap<object, RemoteJwksSet>();

/**
 * The isolate's RemoteJwksSet for this env (workerd hands the same env object to every request of
 * an isolate, so memory caches live as long as the isolate). Throws ConfigError on a bad JWKS_URLS.
 *
 * @example
 * const remote = remoteJwksFor(env);
 * const key = remote.enabled ? await remote.lookup(kid, (p) => ctx.waitUntil(p)) : null;
 */
export function remoteJwksFor(
  env: { KEYS: KVNamespace; JWKS_URLS?: string },
  deps: Partial<RemoteJwksDeps> = {},
  options: Omit<RemoteJwksOptions, 'urls'> = {},
): RemoteJwksSet {
  let set = perEnv.get(env);
  if (!set) {
    set = new RemoteJwksSet(
      { urls: parseJwksUrls(env.JWKS_URLS), ...options },
      {
        fetch: deps.fetch ?? ((url, init) => fetch(url, init)),
        kv: deps.kv ?? env.KEYS,
        now: deps.now ?? Date.now,
        localKids: deps.localKids ?? (async () => new Set((await listKeys(env.KEYS)).map((key) => key.id))),
      },
    );
    perEnv.set(env, set);
  }
  return set;
}
