/**
 * env → typed Config. Every default and limit of signet lives in this file (SPEC §1).
 *
 * Bad values are never replaced by a default: parsing fails with the variable's name, and the
 * caller answers 500 `config_invalid` (see errors.ts).
 */

import type { KeyRegistry } from './keys/registry';
import type { ViewerSessions } from './sessions/viewer-sessions';

/** SPEC §5: the playback ID grammar, shared by the gate and the admin API (and said in their errors). */
export const PLAYBACK_ID_GRAMMAR = '[A-Za-z0-9_-]{1,128}';
export const PLAYBACK_ID = new RegExp(`^${PLAYBACK_ID_GRAMMAR}$`);

/** Hard limits that are not configurable. */
export const LIMITS = {
  /** SPEC §4: a compact JWS longer than this is refused before any parsing. */
  maxTokenBytes: 8 * 1024,
  /** SPEC §3: admin JSON bodies. */
  maxAdminBodyBytes: 16 * 1024,
  /** SPEC §3: page size bounds of the key list. */
  maxPageLimit: 100,
  defaultPageLimit: 10,
  /** SPEC §3: rotation grace period. */
  defaultGraceSeconds: 86_400,
  maxGraceSeconds: 30 * 86_400,
  /** Bounded isolate key cache (anti-DoS: random kids cannot grow memory without bound). */
  keyCacheMaxEntries: 1_000,
  /** Unknown kids are remembered this long, so a flood of random kids costs ≤ 1 KV read per kid per interval. */
  negativeCacheSeconds: 30,
  negativeCacheMaxEntries: 10_000,
  /** A playlist larger than this is not rewritten (502 origin_error) rather than buffered. */
  maxPlaylistBytes: 4 * 1024 * 1024,
  /** Serialized access rules larger than this cannot ride in a grant (grants travel in URLs). */
  maxGrantRulesBytes: 2048,
  /** Grants never outlive this, even when the token does. */
  maxGrantLifetimeSeconds: 24 * 3_600,
  /** Isolate caches (src/isolate-cache.ts): how long past its TTL an entry still answers while KV fails. */
  cacheStaleIfErrorMs: 5 * 60_000,
  /** While one request refreshes an expired entry, the others use it for at most this long. */
  cacheRefreshWindowMs: 5_000,
  /**
   * Credentials already verified in this isolate (a grant's MAC, a token's signature) are
   * remembered, so the segments of one playlist, which all carry the same grant, cost one HMAC per
   * interval rather than one per request. What is remembered is only "these exact bytes verified
   * under this key": expiry, class, asset binding, key liveness and revocations are still checked
   * on every request. Bounded: entries per memo, the longest credential remembered, and how long.
   */
  credentialMemoMaxEntries: 2_000,
  credentialMemoMaxChars: 2_048,
  credentialMemoTtlMs: 60_000,
  /** KV reads slower than this fail closed (503) rather than hold a playback request open. */
  kvReadTimeoutMs: 2_000,
  /**
   * Revocation selectors (jti, sub): a token's selector longer than this could never be revoked
   * (a revocation names at most this many characters, and must fit KV's 1024-byte metadata), so
   * such a token is refused as malformed rather than played unrevocably.
   */
  maxRevocationSelectorLength: 200,
  /**
   * A `sub` array rides in every grant minted from its token (so revocation by subject reaches
   * them), and grants travel in URLs: its JSON is bounded like `maxGrantRulesBytes`.
   */
  maxGrantSubjectBytes: 512,
  /** Names and ids. */
  maxKeyNameLength: 200,
  minGrantSecretBytes: 32,
  /** The query parameter that carries child grants (SPEC §5: one name everywhere). */
  grantParam: 'grant',
  /** The Cache API's per-object limit (Cloudflare: 512 MB): larger origin answers stream through unkept. */
  edgeCacheMaxObjectBytes: 512 * 1024 * 1024,
  /**
   * The largest media the edge keeps (HLS/DASH segments, init segments, keys, images), with a known
   * length: a whole answer is teed into the cache as it streams (a slow viewer's unread half is
   * buffered in the isolate meanwhile, so this bounds that buffer), and after a Range miss the whole
   * object is fetched once in the background. Larger objects (a single-file byte-range rendition)
   * stream through unkept: fetching hundreds of MB to answer a few KB costs more than it saves.
   */
  edgeCacheFillMaxBytes: 32 * 1024 * 1024,
} as const;

/** Revocations (issue 7, admin API and the gate's snapshot). */
export const REVOCATION_LIMITS = {
  /** Mux's default playback token lifetime: the default `expiresAt` is now + this. */
  defaultExpiresInSeconds: 7 * 86_400,
  maxExpiresInSeconds: 365 * 86_400,
  /** A `before` further in the future would revoke tokens not issued yet (often epoch ms sent as seconds). */
  maxBeforeAheadSeconds: 300,
  /** Bounds the gate's snapshot: at most this many entries (10 KV list pages) per isolate per TTL. */
  maxRevocations: 10_000,
} as const;

/**
 * Limits of the playback restrictions (issue 8): access rules in the token, playback policies,
 * signed image parameters. None is configurable.
 */
export const POLICY_LIMITS = {
  /** Cloudflare Stream: at most 5 access rules per token. */
  maxAccessRules: 5,
  /** CIDRs or countries in one access rule (the token is ≤ 8 KiB anyway; this bounds the work per request). */
  maxAccessRuleEntries: 100,
  /** Entries of one playback-policy list (domains.allow, userAgents.deny, requireGroups, …). */
  maxPolicyListEntries: 100,
  /** A hostname (RFC 1035 §2.3.4). */
  maxHostnameLength: 253,
  /** A user-agent substring or the source of a `/regex/` entry. */
  maxUserAgentPatternLength: 200,
  /** Only this much of a User-Agent is matched (anti-DoS: bounds the regex input). */
  maxUserAgentMatchLength: 512,
  /** A group name in `requireGroups` and in the token's `groups` claim. */
  maxGroupLength: 128,
  /** Entries of the token's `groups` claim that are looked at. */
  maxTokenGroups: 100,
  /** Isolate policy cache: positive and negative (no policy) entries together. */
  policyCacheMaxEntries: 10_000,
  /** Session binding prefixes (issue 8 §4). */
  viewerNetworkPrefixV4: 24,
  viewerNetworkPrefixV6: 48,
} as const;

/** Signed image parameters of thumbnails and gifs (issue 8). */
export const IMAGE_PARAM_LIMITS = {
  maxTimeSeconds: 86_400,
  maxDimension: 4_096,
  maxFps: 30,
  /** Longest animated gif (end - start). */
  maxGifSeconds: 30,
  fitModes: ['preserve', 'stretch', 'crop', 'smartcrop', 'pad'] as const,
} as const;

/** Defaults of a remote JWKS source (issue 7). Seconds unless the name says otherwise. */
export const REMOTE_JWKS_DEFAULTS = {
  timeoutMs: 5_000,
  maxBytes: 64 * 1024,
  ttlSeconds: 600,
  minTtlSeconds: 60,
  maxTtlSeconds: 86_400,
  cooldownSeconds: 30,
  staleSeconds: 86_400,
} as const;

/** Hard limits: how many sources may be configured, how many keys one source may publish. */
export const REMOTE_JWKS_LIMITS = {
  maxSources: 10,
  maxKeysPerSource: 100,
  maxKidLength: 256,
} as const;

export interface Config {
  adminCredentials: { id: string; secret: string } | null;
  /**
   * `ORIGIN_URL` without its trailing slash, so `${originUrl}/{path}` never has `//`; or ASSETS_ORIGIN.
   * Undefined when not set: only the gate needs it.
   */
  originUrl: string | undefined;
  grantSecrets: string[]; // current first, then previous
  clockSkewSeconds: number;
  maxTokenLifetimeSeconds: number;
  tokenQueryParam: string;
  tokenCookie: string;
  issuer: string;
  keyCacheTtlSeconds: number;
  corsAllowOrigin: string;
  originTimeoutMs: number;
  maxSigningKeys: number;
  /** Share of allowed gate requests written to the decision log (refusals always are). */
  decisionLogSampleRate: number;
  /** EDGE_CACHE: whether authorized media is served through the Cache API (issue 14). */
  edgeCache: boolean;
  /** How long the edge keeps media and VOD playlists whose origin names no lifetime. */
  edgeCacheTtlSeconds: number;
  devMode: boolean;
  /** JWKS_URLS: the trusted remote JWKS sources (issue 7), normalised; empty = none. */
  jwksUrls: string[];
  /** Concurrent-stream limits (issue 16): a session ends after this long without requests. */
  sessionLeaseSeconds: number;
  /** An isolate asks the viewer's Durable Object about a session at most this often. */
  sessionRenewSeconds: number;
  /** The token claim that names the viewer whose sessions `climit` counts. */
  viewerClaim: string;
}

export interface Env {
  KEYS: KVNamespace;
  /** The key registry (src/keys/registry.ts): the one serializing owner of admin writes. */
  REGISTRY: DurableObjectNamespace<KeyRegistry>;
  /** The viewer sessions (src/sessions/viewer-sessions.ts): one object per viewer, the concurrent-stream limit's leases (issue 16). */
  SESSIONS: DurableObjectNamespace<ViewerSessions>;
  /** Workers static assets (the embedded demo stream); used as the origin when ORIGIN_URL is "assets:". */
  ASSETS?: Fetcher;
  ORIGIN_URL?: string;
  ADMIN_TOKEN_ID?: string;
  ADMIN_TOKEN_SECRET?: string;
  GRANT_SECRET?: string;
  GRANT_SECRET_PREVIOUS?: string;
  CLOCK_SKEW_SECONDS?: string;
  MAX_TOKEN_LIFETIME_SECONDS?: string;
  TOKEN_QUERY_PARAM?: string;
  TOKEN_COOKIE?: string;
  ISSUER?: string;
  KEY_CACHE_TTL_SECONDS?: string;
  CORS_ALLOW_ORIGIN?: string;
  ORIGIN_TIMEOUT_MS?: string;
  MAX_SIGNING_KEYS?: string;
  DEV_MODE?: string;
  DECISION_LOG_SAMPLE_RATE?: string;
  EDGE_CACHE?: string;
  EDGE_CACHE_TTL_SECONDS?: string;
  /** Space-separated https URLs of trusted remote JWKS (issue 7); empty = none. */
  JWKS_URLS?: string;
  SESSION_LEASE_SECONDS?: string;
  SESSION_RENEW_SECONDS?: string;
  VIEWER_CLAIM?: string;
}

/** ORIGIN_URL value that makes the bundled static assets (the embedded demo stream) the origin. */
export const ASSETS_ORIGIN = 'assets:';

/**
 * The well-known credentials `npm start` runs with (printed at start). Public by design: the demo
 * page pre-fills them, and it pre-fills nothing else.
 */
export const DEV_DEFAULTS = {
  ADMIN_TOKEN_ID: 'dev',
  ADMIN_TOKEN_SECRET: 'signet-dev-secret',
  GRANT_SECRET: 'signet-dev-grant-secret-not-for-production',
  DEMO_PLAYBACK_ID: 'demo',
} as const;

/** Concurrent-stream limits (issue 16): the claim's range, a viewer's session table, an isolate's verdicts. */
export const SESSION_LIMITS = {
  /** The `climit` claim: integer 1–100 (issue 16). */
  minClimit: 1,
  maxClimit: 100,
  /** Session ids, playback IDs, networks and viewers longer than this are refused (claim strings, as revocation selectors). */
  maxIdLength: LIMITS.maxRevocationSelectorLength,
  /** Rows (active, lapsed and tombstones) one viewer's object keeps; the oldest tombstones are pruned first. */
  maxRowsPerViewer: 1_000,
  /** How long an ended session is remembered: no grant minted for it outlives this. */
  tombstoneMs: LIMITS.maxGrantLifetimeSeconds * 1000,
  /** The longest lease the object grants (a lease past every grant's lifetime would hold a slot for nothing). */
  maxLeaseMs: LIMITS.maxGrantLifetimeSeconds * 1000,
  /** Session verdicts one isolate remembers (sessions/leases.ts). */
  verdictMaxEntries: 10_000,
} as const;

export const DEFAULTS = {
  CLOCK_SKEW_SECONDS: 30,
  MAX_TOKEN_LIFETIME_SECONDS: 0,
  TOKEN_QUERY_PARAM: 'token',
  TOKEN_COOKIE: '',
  ISSUER: '',
  KEY_CACHE_TTL_SECONDS: 60,
  CORS_ALLOW_ORIGIN: '*',
  ORIGIN_TIMEOUT_MS: 10_000,
  MAX_SIGNING_KEYS: 1_000,
  DECISION_LOG_SAMPLE_RATE: 1,
  EDGE_CACHE: 'on',
  EDGE_CACHE_TTL_SECONDS: 86_400,
  SESSION_LEASE_SECONDS: 60,
  SESSION_RENEW_SECONDS: 20,
  VIEWER_CLAIM: 'sub',
} as const;

/** A configuration variable that is present but unusable. */
export class ConfigError extends Error {
  readonly code = 'ERR_CONFIG_INVALID';
  constructor(
    readonly variable: string,
    readonly problem: string,
  ) {
    super(`${variable}: ${problem}`);
  }
}

function integer(env: Env, name: keyof typeof DEFAULTS & keyof Env, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return DEFAULTS[name] as number;
  const text = String(raw).trim();
  if (!/^\d+$/.test(text)) throw new ConfigError(name, `must be a whole number, got ${JSON.stringify(text.slice(0, 40))}`);
  const value = Number(text);
  if (value < min || value > max) throw new ConfigError(name, `must be between ${min} and ${max}, got ${value}`);
  return value;
}

/** A share in [0, 1], written as a decimal (`0.05`, `1`). */
function share(env: Env, name: 'DECISION_LOG_SAMPLE_RATE'): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return DEFAULTS[name];
  const text = String(raw).trim();
  const value = /^(?:0(?:\.\d{1,6})?|1(?:\.0{1,6})?|\.\d{1,6})$/.test(text) ? Number(text) : NaN;
  if (!Number.isFinite(value)) throw new ConfigError(name, `must be a decimal between 0 and 1, got ${JSON.stringify(text.slice(0, 40))}`);
  return value;
}

const PARAM_NAME = /^[A-Za-z0-9_.-]{1,64}$/;

/** A URL for logs and messages: origin and path only (a query may carry an access key). */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.origin}${parsed.pathname}`;
  } catch {
    return '(invalid url)';
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
    if (url.protocol !== 'https:') throw new ConfigError('JWKS_URLS', `${JSON.stringify(redactUrl(text))} must use https`);
    if (url.username || url.password) throw new ConfigError('JWKS_URLS', 'URLs must not carry credentials');
    if (url.hash) throw new ConfigError('JWKS_URLS', `${JSON.stringify(redactUrl(text))} must not have a fragment`);
    if (urls.includes(url.href)) throw new ConfigError('JWKS_URLS', `${JSON.stringify(redactUrl(text))} is listed twice`);
    urls.push(url.href);
  }
  if (urls.length > REMOTE_JWKS_LIMITS.maxSources) {
    throw new ConfigError('JWKS_URLS', `at most ${REMOTE_JWKS_LIMITS.maxSources} sources, got ${urls.length}`);
  }
  return urls;
}

/** Parses the environment. Throws ConfigError naming the first bad variable. */
export function parseConfig(env: Env): Config {
  let originUrl: string | undefined;
  if (env.ORIGIN_URL === ASSETS_ORIGIN) {
    if (!env.ASSETS) throw new ConfigError('ORIGIN_URL', `is "${ASSETS_ORIGIN}" but the worker has no ASSETS binding`);
    originUrl = ASSETS_ORIGIN;
  } else if (env.ORIGIN_URL) {
    let parsed: URL | undefined;
    try {
      parsed = new URL(env.ORIGIN_URL);
    } catch {
      parsed = undefined;
    }
    if (!parsed || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') || parsed.search || parsed.hash) {
      throw new ConfigError('ORIGIN_URL', 'must be an absolute http(s) URL without query or fragment');
    }
    originUrl = parsed.href.replace(/\/+$/, '');
  }

  const grantSecrets: string[] = [];
  for (const name of ['GRANT_SECRET', 'GRANT_SECRET_PREVIOUS'] as const) {
    const secret = env[name];
    if (secret === undefined || secret === '') continue;
    if (new TextEncoder().encode(secret).length < LIMITS.minGrantSecretBytes) {
      throw new ConfigError(name, `must be at least ${LIMITS.minGrantSecretBytes} bytes`);
    }
    if (name === 'GRANT_SECRET_PREVIOUS' && grantSecrets.length === 0) {
      throw new ConfigError('GRANT_SECRET', 'is required when GRANT_SECRET_PREVIOUS is set');
    }
    grantSecrets.push(secret);
  }

  const tokenQueryParam = env.TOKEN_QUERY_PARAM || DEFAULTS.TOKEN_QUERY_PARAM;
  if (!PARAM_NAME.test(tokenQueryParam) || tokenQueryParam === LIMITS.grantParam) {
    throw new ConfigError('TOKEN_QUERY_PARAM', `must match ${PARAM_NAME} and differ from "${LIMITS.grantParam}"`);
  }
  const tokenCookie = env.TOKEN_COOKIE ?? DEFAULTS.TOKEN_COOKIE;
  if (tokenCookie && !PARAM_NAME.test(tokenCookie)) throw new ConfigError('TOKEN_COOKIE', `must match ${PARAM_NAME}`);

  const id = env.ADMIN_TOKEN_ID ?? '';
  const secret = env.ADMIN_TOKEN_SECRET ?? '';
  if ((id === '') !== (secret === '')) {
    throw new ConfigError(id ? 'ADMIN_TOKEN_SECRET' : 'ADMIN_TOKEN_ID', 'must be set together with its pair');
  }
  if (id.includes(':')) throw new ConfigError('ADMIN_TOKEN_ID', 'must not contain ":" (HTTP Basic user id)');

  const devMode = env.DEV_MODE ?? '';
  if (devMode !== '' && devMode !== 'true' && devMode !== 'false') throw new ConfigError('DEV_MODE', 'must be "true" or "false"');
  const sessionLeaseSeconds = integer(env, 'SESSION_LEASE_SECONDS', 10, 3_600);
  const sessionRenewSeconds = integer(env, 'SESSION_RENEW_SECONDS', 1, 3_600);
  // A lease renewed less often than it lasts would end under a session that is still playing.
  if (sessionRenewSeconds * 2 > sessionLeaseSeconds) throw new ConfigError('SESSION_RENEW_SECONDS', `must be at most half of SESSION_LEASE_SECONDS (${sessionLeaseSeconds})`);
  const viewerClaim = env.VIEWER_CLAIM || DEFAULTS.VIEWER_CLAIM;
  if (!PARAM_NAME.test(viewerClaim)) throw new ConfigError('VIEWER_CLAIM', `must be a claim name matching ${PARAM_NAME}`);
  const edgeCache = env.EDGE_CACHE || DEFAULTS.EDGE_CACHE;
  if (edgeCache !== 'on' && edgeCache !== 'off') throw new ConfigError('EDGE_CACHE', 'must be "on" or "off"');

  return {
    adminCredentials: id ? { id, secret } : null,
    originUrl,
    grantSecrets,
    clockSkewSeconds: integer(env, 'CLOCK_SKEW_SECONDS', 0, 3_600),
    maxTokenLifetimeSeconds: integer(env, 'MAX_TOKEN_LIFETIME_SECONDS', 0, 10 * 365 * 86_400),
    tokenQueryParam,
    tokenCookie,
    issuer: env.ISSUER ?? DEFAULTS.ISSUER,
    keyCacheTtlSeconds: integer(env, 'KEY_CACHE_TTL_SECONDS', 0, 3_600),
    corsAllowOrigin: env.CORS_ALLOW_ORIGIN || DEFAULTS.CORS_ALLOW_ORIGIN,
    originTimeoutMs: integer(env, 'ORIGIN_TIMEOUT_MS', 1, 120_000),
    maxSigningKeys: integer(env, 'MAX_SIGNING_KEYS', 1, 100_000),
    decisionLogSampleRate: share(env, 'DECISION_LOG_SAMPLE_RATE'),
    edgeCache: edgeCache === 'on',
    edgeCacheTtlSeconds: integer(env, 'EDGE_CACHE_TTL_SECONDS', 0, 365 * 86_400),
    devMode: devMode === 'true',
    jwksUrls: parseJwksUrls(env.JWKS_URLS),
    sessionLeaseSeconds,
    sessionRenewSeconds,
    viewerClaim,
  };
}

const parsed = new WeakMap<object, Config | ConfigError>();

/**
 * The Config for this env, parsed once per env object (workerd hands the same env to every
 * request of an isolate, so this is once per isolate). The error is remembered too, and logged once.
 */
export function configFor(env: Env): Config {
  let entry = parsed.get(env);
  if (!entry) {
    try {
      entry = parseConfig(env);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      entry = error;
      console.error(JSON.stringify({ event: 'config_invalid', variable: error.variable, problem: error.problem }));
    }
    parsed.set(env, entry);
  }
  if (entry instanceof ConfigError) throw entry;
  return entry;
}
