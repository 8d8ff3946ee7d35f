/**
 * The playback gate (SPEC §5), built once per environment by `createGate`. A request follows one
 * pipeline, top to bottom:
 *
 *   path → credential → authorize (token or grant) → restrictions → screens → origin → rewrite or stream → answer
 *
 * Each step returns its result or throws a Refusal (the one refusal type, errors.ts). Anything
 * else thrown is mapped to a reason in `asRefusal`, never to a proxied response: the gate fails
 * closed. The decision log is written in one place, from the pipeline's outcome.
 */
import { ASSETS_ORIGIN, LIMITS, type Config } from '../config';
import { errorResponse, Refusal } from '../errors';
import type { KeyCache } from '../keys/cache';
import type { LastUsedTracker } from '../keys/last-used';
import type { RemoteJwksSet } from '../keys/remote-jwks';
import { findRevocation, type RevocationCache } from '../keys/revocations';
import { StoreUnavailable } from '../keys/store';
import { resolveImageParams } from '../media/image-params';
import { viewerCacheControl } from '../origin/cache-policy';
import { CACHE_STATUS, type EdgeCache } from '../origin/edge-cache';
import { mediaHeaders, originRequestHeaders, originTarget, type OriginRequest } from '../origin/fetch';
import { networkOfRequest } from '../policy/network';
import type { PolicyCache } from '../policy/cache';
import { sessionIdOf, streamLimitOf, viewerRefOf, type StreamLimit } from '../sessions/claims';
import type { SessionConsult, SessionLeases } from '../sessions/leases';
import { revocableClaims, type RevocableClaims } from '../token/claims';
import { TokenRefusal } from '../token/refusal';
import { SignatureMemo, verifyPlaybackToken, type TokenKey } from '../token/verify';
import { applyCors, preflight } from './cors';
import { readCredential, splitRequestUrl, type Credential } from './credentials';
import { grantExpiry, Grants, type GrantClaims } from './grant';
import { logDecision, type DecisionFacts } from './log';
import { parsePlaybackPath, type PlaybackPath } from './path';
import { classifyAnswer, servePlaylist } from './playlist';
import { enforceRestrictions } from './restrictions';

/** What the gate is built from: the parsed configuration, its stores and caches, and a clock. */
export interface GateDeps {
  config: Config;
  kv: KVNamespace;
  /** Static assets: the origin when ORIGIN_URL is "assets:". */
  assets: Fetcher | undefined;
  /** The edge cache in front of the origin (off: EDGE_CACHE=off, or the origin is the static assets). */
  edge: EdgeCache;
  keys: KeyCache;
  revocations: RevocationCache;
  policies: PolicyCache;
  lastUsed: LastUsedTracker;
  /** Concurrent-stream limits (issue 16): asked only for tokens with `climit` and their grants. */
  sessions: SessionLeases;
  /** Null when JWKS_URLS is empty. */
  remoteJwks: RemoteJwksSet | null;
  /** Epoch milliseconds. */
  clock: () => number;
  /** In [0, 1): decides which allowed requests are logged (DECISION_LOG_SAMPLE_RATE). */
  random?: () => number;
}

export type Gate = (request: Request, ctx: ExecutionContext) => Promise<Response>;

/** What an allowed request was allowed by: the claims any grant minted from it must carry. */
export interface Authorization {
  kid: string;
  grant: GrantClaims;
  /** The grant string the request came with, reused for its own playlist's children. */
  presentedGrant?: string;
  /** The verified token payload, when the request carried a token (not a grant). */
  payload?: Record<string, unknown>;
  /** A limited token's stream limit (issue 16), and the token its session is named after. */
  limit?: StreamLimit & { token: string };
}

/** A refusal that knows the kid it concerns (for the decision log; never shown to the player). */
type Traced = Refusal & { kid?: string };

export function createGate(deps: GateDeps): Gate {
  const { config, clock } = deps;
  const random = deps.random ?? Math.random;
  const gateParams = [config.tokenQueryParam, LIMITS.grantParam];
  const credentialOptions = { tokenQueryParam: config.tokenQueryParam, grantParam: LIMITS.grantParam, tokenCookie: config.tokenCookie };
  // Decided once per environment, not per request: a gate without its origin or grant secret refuses everything.
  const missing = !config.originUrl ? 'ORIGIN_URL' : config.grantSecrets.length === 0 ? 'GRANT_SECRET' : undefined;
  const originUrl = config.originUrl!;
  const assets = originUrl === ASSETS_ORIGIN ? deps.assets : undefined;
  // Credentials verified in this isolate, remembered (LIMITS.credentialMemo*): a grant's MAC, a token's signature.
  const grants = new Grants(config.grantSecrets);
  const signatures = new SignatureMemo();

  return async function gate(request, ctx) {
    const startedMs = clock();
    if (request.method === 'OPTIONS') return preflight(config.corsAllowOrigin);
    const facts: DecisionFacts = {};
    let response: Response;
    try {
      response = await pipeline(request, ctx, startedMs, facts);
    } catch (error) {
      const refusal = asRefusal(error);
      facts.reason = refusal.reason;
      facts.kid ??= (refusal as Traced).kid;
      response = refusalResponse(refusal);
    }
    applyCors(response.headers, config.corsAllowOrigin);
    if (facts.reason !== undefined || config.decisionLogSampleRate >= 1 || random() < config.decisionLogSampleRate) {
      logDecision(facts, response.status, clock() - startedMs);
    }
    return response;
  };

  async function pipeline(request: Request, ctx: ExecutionContext, nowMs: number, facts: DecisionFacts): Promise<Response> {
    if (request.method !== 'GET' && request.method !== 'HEAD') throw new Refusal('method_not_allowed', 'The gate serves GET, HEAD and OPTIONS.');
    if (missing) throw new Refusal('config_invalid', `Configuration variable ${missing} is required for the gate.`);

    // 1. path
    const url = splitRequestUrl(request.url, gateParams);
    const parsed = parsePlaybackPath(url.pathname);
    if (!parsed.ok) throw new Refusal('bad_path', parsed.description);
    const path = parsed.path;
    facts.playbackId = path.playbackId;
    facts.resourceClass = path.resourceClass;

    // 2. credential
    const credential = readCredential(url.gateParams, request.headers, credentialOptions);
    facts.credential = credential.kind === 'token' ? credential.source : credential.kind;

    // 3. authorize
    const authorization = await authorize(credential, path, nowMs, ctx);
    facts.kid = authorization.kid;

    // 4. restrictions
    await enforceRestrictions(request, { kv: deps.kv, policies: deps.policies, ttlSeconds: config.keyCacheTtlSeconds }, path, nowMs, authorization);

    // 4b. screens (issue 16): only now, so a request refused above takes no session's slot
    if (authorization.limit || authorization.grant.session) {
      if ((await screens(authorization, path, request, nowMs, ctx)) === 'asked') facts.session = 'asked';
    }
    let query = url.originQuery;
    if (path.kind === 'thumbnail' || path.kind === 'gif') {
      // Signed image parameters (issue 8): pinned values win, conflicts are refused, bounds enforced.
      const image = resolveImageParams(path.kind, new URLSearchParams(query), authorization.payload ?? {});
      if (!image.ok) throw new Refusal('access_denied', image.description);
      query = image.query.toString();
    }

    // 5. origin, through the edge cache (consulted only now, for an authorized request)
    const deadlineMs = nowMs + config.originTimeoutMs;
    const origin: OriginRequest = {
      target: originTarget(originUrl, path.originPath, query),
      method: request.method === 'HEAD' ? 'HEAD' : 'GET',
      headers: originRequestHeaders(request),
      timeoutMs: config.originTimeoutMs,
      assets,
    };
    const fetched = deps.edge.open(origin, request, (promise) => ctx.waitUntil(promise));
    const answer = await classifyAnswer(path, await fetched.answer(), request.method, deadlineMs);

    // 6. rewrite or stream; what the origin sent is offered to the edge cache
    const response = answer.format
      ? await servePlaylist({ request, path, format: answer.format, origin: answer.origin, authorization, grants, config, nowMs, deadlineMs, keep: (text, finished) => fetched.keepPlaylist(answer.origin, text, finished) })
      : streamMedia(fetched.keepMedia(answer.origin), request.method, authorization, nowMs);
    facts.cache = fetched.outcome;
    response.headers.set('Cache-Status', CACHE_STATUS[fetched.outcome]);
    return response;
  }

  async function authorize(credential: Credential, path: PlaybackPath, nowMs: number, ctx: ExecutionContext): Promise<Authorization> {
    switch (credential.kind) {
      case 'duplicate':
        throw new Refusal('duplicate_token', `More than one credential in ${credential.what}.`);
      case 'none':
        throw new Refusal(
          'token_missing',
          `Send a playback token in the "${config.tokenQueryParam}" query parameter${config.tokenCookie ? `, the "${config.tokenCookie}" cookie` : ''} or an Authorization: Bearer header.`,
        );
      case 'grant':
        return authorizeGrant(credential.value, path, nowMs, ctx);
      case 'token':
        return authorizeToken(credential.value, path, nowMs, ctx);
    }
  }

  async function authorizeGrant(presented: string, path: PlaybackPath, nowMs: number, ctx: ExecutionContext): Promise<Authorization> {
    const result = await grants.check(presented, path.playbackId, path.resourceClass, nowMs);
    if (!result.ok) throw new Refusal(result.reason, result.description);
    const { claims } = result;
    try {
      // A grant dies with its key and its token: deleting the signing key or revoking the token
      // stops the grants minted from it within the same bound.
      const key = await findKey(claims.kid, nowMs, ctx);
      if (!key) throw new TokenRefusal('key_unknown', 'The signing key this grant came from no longer exists.');
      if (key.expiresAtMs !== undefined && nowMs >= key.expiresAtMs) throw new TokenRefusal('key_expired', 'The signing key this grant came from has expired.');
      await assertNotRevoked(claims, path.playbackId, nowMs);
    } catch (error) {
      throw traced(error, claims.kid);
    }
    return { kid: claims.kid, grant: claims, presentedGrant: presented };
  }

  async function authorizeToken(token: string, path: PlaybackPath, nowMs: number, ctx: ExecutionContext): Promise<Authorization> {
    if (token.length > LIMITS.maxTokenBytes) throw new Refusal('token_too_large', `Tokens are limited to ${LIMITS.maxTokenBytes} bytes.`);
    let kid: string | undefined;
    let local = false;
    try {
      const verified = await verifyPlaybackToken(
        token,
        async (tokenKid) => {
          kid = tokenKid;
          const key = await findKey(tokenKid, nowMs, ctx);
          local = key?.local ?? false;
          return key;
        },
        config,
        nowMs,
        path.playbackId,
        path.resourceClass,
        signatures,
      );
      // Every selector a revocation can name rides in the grants, so a revocation stops them too.
      const revocable = revocableClaims(verified.payload);
      const limit = streamLimitOf(verified.payload, config.viewerClaim);
      // A Mux-dialect `sub` is the playback ID: counted as the viewer, every subscriber would share one limit.
      if (limit && limit.viewer === path.playbackId) {
        throw new TokenRefusal('token_malformed', `The "climit" viewer ("${config.viewerClaim}") is the playback ID itself; name the viewer in another claim and set VIEWER_CLAIM to it.`);
      }
      await assertNotRevoked(revocable, path.playbackId, nowMs);
      if (local) deps.lastUsed.note(deps.kv, verified.kid, nowMs, (promise) => ctx.waitUntil(promise));
      const grant: GrantClaims = { exp: grantExpiry(verified.exp, nowMs / 1000), resourceClass: 'v', kid: verified.kid, ...revocable };
      return { kid: verified.kid, grant, payload: verified.payload, ...(limit && { limit: { ...limit, token } }) };
    } catch (error) {
      throw traced(error, kid);
    }
  }

  /**
   * Concurrent-stream limits (issue 16). A limited token's video request opens (or continues) its
   * session, and the grants it mints carry the session (thumbnails and storyboards are no screen);
   * a grant of a session plays while the session does. Tokens without `climit` pass untouched.
   */
  async function screens(authorization: Authorization, path: PlaybackPath, request: Request, nowMs: number, ctx: ExecutionContext): Promise<SessionConsult | undefined> {
    const waitUntil = (promise: Promise<unknown>) => ctx.waitUntil(promise);
    const { limit, grant } = authorization;
    if (limit) {
      if (path.resourceClass !== 'v') return undefined;
      const [viewerRef, id] = await Promise.all([viewerRefOf(limit.viewer), sessionIdOf(limit.token, grant.jti)]);
      const consult = await deps.sessions.open(viewerRef, limit, id, path.playbackId, networkOfRequest(request), nowMs, waitUntil);
      grant.session = { viewerRef, id };
      return consult;
    }
    if (authorization.presentedGrant !== undefined && grant.session) return deps.sessions.check(grant.session.viewerRef, grant.session.id, nowMs, waitUntil);
    return undefined;
  }

  /**
   * The key for `kid`: the local key store (isolate cache → KV) first, then the remote JWKS sources
   * when JWKS_URLS is set. A local key never waits on, or depends on, a remote source (issue 11):
   * a remote key published under a local kid was dropped when its set was loaded.
   */
  async function findKey(kid: string, nowMs: number, ctx: ExecutionContext): Promise<(TokenKey & { local: boolean }) | null> {
    const local = await deps.keys.lookup(deps.kv, kid, nowMs, config.keyCacheTtlSeconds);
    if (local) return { ...local, local: true };
    if (!deps.remoteJwks) return null;
    const remote = await deps.remoteJwks.lookup(kid, (promise) => ctx.waitUntil(promise));
    return remote && { ...remote, local: false };
  }

  /** Revocations (issue 7): checked for tokens and for the grants minted from them, from a per-isolate snapshot. */
  async function assertNotRevoked(token: RevocableClaims, playbackId: string, nowMs: number): Promise<void> {
    const snapshot = await deps.revocations.snapshot(deps.kv, nowMs, config.keyCacheTtlSeconds);
    const revocation = findRevocation(snapshot, { ...token, playbackId });
    if (revocation) throw new TokenRefusal('token_revoked', `The token was revoked (revocation ${revocation.id}, ${revocation.kind}).`);
  }
}

/**
 * A media answer (origin or edge) to the viewer: its media headers, `Cache-Control: private`
 * bounded by the credential (no shared cache in front of the gate may serve it without the
 * gate), and no body for HEAD (an answer from the edge has one).
 */
function streamMedia(media: Response, method: string, authorization: Authorization, nowMs: number): Response {
  const headers = mediaHeaders(media);
  headers.set('Cache-Control', viewerCacheControl(media.headers.get('Cache-Control'), authorization.grant.exp, Math.floor(nowMs / 1000)));
  if (method === 'HEAD') {
    media.body?.cancel().catch(() => {});
    return new Response(null, { status: media.status, headers });
  }
  return new Response(media.body, { status: media.status, headers });
}

function traced(error: unknown, kid: string | undefined): unknown {
  if (error instanceof Refusal && kid !== undefined) (error as Traced).kid = kid;
  return error;
}

/** Everything the pipeline can throw, as the reason it stands for. Unknown errors refuse (fail closed). */
function asRefusal(error: unknown): Refusal {
  if (error instanceof Refusal) return error;
  // Remote JWKS errors by their stable codes (keys/remote-jwks/ is loaded only when JWKS_URLS is set).
  const code = (error as { code?: unknown } | null)?.code;
  if (code === 'ERR_JWKS_MULTIPLE_MATCHING_KEYS') {
    return new Refusal('key_unknown', 'The token "kid" is published with different keys by more than one remote JWKS source; it is refused rather than guessed.');
  }
  if (error instanceof StoreUnavailable || code === 'ERR_REMOTE_JWKS_UNAVAILABLE') {
    return new Refusal('keys_unavailable', 'Signing keys cannot be loaded right now; playback is refused until they can (fail closed).');
  }
  console.error(JSON.stringify({ event: 'gate_error', error: error instanceof Error ? error.name : 'unknown' }));
  return new Refusal('internal_error', 'The gate failed to decide; the request is refused.');
}

function refusalResponse(refusal: Refusal): Response {
  const headers: Record<string, string> = {};
  if (refusal.reason === 'token_missing') headers['WWW-Authenticate'] = 'Bearer error="invalid_token"';
  if (refusal.reason === 'method_not_allowed') headers.Allow = 'GET, HEAD, OPTIONS';
  return errorResponse(refusal.reason, refusal.description, { headers });
}
