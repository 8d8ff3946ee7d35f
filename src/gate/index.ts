/**
 * The playback gate (SPEC §5): path → credential → token or grant check → origin → (rewritten
 * playlist | streamed media), or a refusal with its reason. Fails closed: any error that is not
 * a decision to allow ends in a refusal, never in a proxied response.
 */
import { configFor, LIMITS, type Config, type Env } from '../config';
import { errorResponse, type Reason } from '../errors';
import { keyCache } from '../keys/cache';
import { lastUsedTracker } from '../keys/last-used';
import { RemoteJwksAmbiguousKid, remoteJwksFor, RemoteJwksUnavailable } from '../keys/remote-jwks';
import { findRevocation, revocationCache } from '../keys/revocations';
import { StoreUnavailable } from '../keys/store';
import { DashManifestError, looksLikeDashManifest, rewriteDashManifest } from '../media/dash';
import { looksLikeHlsPlaylist, rewriteHlsPlaylist } from '../media/hls';
import { resolveImageParams } from '../media/image-params';
import { policyCache } from '../policy/cache';
import { evaluatePolicy, GROUPS_CHECKED_AT_GRANT } from '../policy/evaluate';
import { InvalidViewerAddress, viewerNetwork } from '../policy/network';
import { evaluateAccessRules, parseAccessRules } from '../token/access-rules';
import { fetchFromOrigin, mediaHeaders, OriginFailure, readPlaylist } from '../origin/fetch';
import { revocableClaims, type ClaimPolicy, type RevocableClaims } from '../token/claims';
import { TokenRefusal } from '../token/refusal';
import { verifyPlaybackToken, type TokenKey } from '../token/verify';
import { applyCors, preflight } from './cors';
import { originQuery, readCredential } from './credentials';
import { checkGrant, grantExpiry, mintGrant, type GrantClaims } from './grant';
import { logDecision, type Decision } from './log';
import { parsePlaybackPath, type PlaybackPath } from './path';

class GateRefusal extends Error {
  constructor(
    readonly reason: Reason,
    readonly description: string,
  ) {
    super(reason);
  }
}

const policies = new WeakMap<Config, ClaimPolicy>();
function claimPolicy(config: Config): ClaimPolicy {
  let policy = policies.get(config);
  if (!policy) {
    policy = { clockSkewSeconds: config.clockSkewSeconds, issuer: config.issuer, maxTokenLifetimeSeconds: config.maxTokenLifetimeSeconds };
    policies.set(config, policy);
  }
  return policy;
}

/** What an allowed request was allowed by: the claims any grant minted from it must carry. */
interface Authorization {
  kid: string;
  grant: GrantClaims;
  /** The grant string the request came with, reused for its own playlist's children. */
  presentedGrant?: string;
  /** The verified token payload, when the request carried a token (not a grant). */
  payload?: Record<string, unknown>;
}

/** Who is asking, as far as restrictions care (issue 8). CF-Connecting-IP and request.cf are set by Cloudflare's edge. */
function viewerOf(request: Request) {
  const cf = (request as Request & { cf?: { country?: unknown } }).cf;
  return {
    ip: request.headers.get('CF-Connecting-IP'),
    country: typeof cf?.country === 'string' ? cf.country : null,
    referer: request.headers.get('Referer'),
    origin: request.headers.get('Origin'),
    userAgent: request.headers.get('User-Agent'),
  };
}

/**
 * Playback restrictions (issue 8), after the token or grant is known good: the token's access
 * rules (Cloudflare Stream style), the playback ID's policy (domains, user agents, groups), and
 * the session binding of grants to the viewer's network. Mutates `authorization.grant` so grants
 * minted for this request carry what later requests must be checked against.
 */
async function enforceRestrictions(request: Request, env: Env, config: Config, path: PlaybackPath, nowMs: number, authorization: Authorization): Promise<void> {
  const viewer = viewerOf(request);
  const rulesClaim = authorization.payload ? authorization.payload.accessRules : authorization.grant.accessRules;
  if (rulesClaim !== undefined) {
    const verdict = evaluateAccessRules(parseAccessRules(rulesClaim), viewer);
    if (!verdict.allowed) throw new GateRefusal('access_denied', verdict.description);
    if (authorization.payload) {
      if (JSON.stringify(rulesClaim).length > LIMITS.maxGrantRulesBytes) throw new TokenRefusal('token_malformed', `The accessRules claim is larger than ${LIMITS.maxGrantRulesBytes} bytes.`);
      authorization.grant.accessRules = rulesClaim;
    }
  }
  const policy = await policyCache.lookup(env.KEYS, path.playbackId, nowMs, config.keyCacheTtlSeconds);
  if (policy) {
    const verdict = evaluatePolicy(policy, { ...viewer, groups: authorization.payload ? authorization.payload.groups : GROUPS_CHECKED_AT_GRANT });
    if (!verdict.allowed) throw new GateRefusal('access_denied', verdict.description);
  }
  const boundNetwork = authorization.presentedGrant === undefined ? undefined : authorization.grant.network;
  if (boundNetwork !== undefined || (policy?.bindToViewerNetwork && authorization.presentedGrant !== undefined)) {
    const here = networkOf(viewer.ip);
    if (boundNetwork === undefined || here !== boundNetwork) {
      throw new GateRefusal('grant_invalid', 'This grant is bound to another network; reload the playlist with a fresh token.');
    }
  } else if (policy?.bindToViewerNetwork) {
    const here = networkOf(viewer.ip);
    if (here === undefined) throw new GateRefusal('access_denied', 'This playback ID binds playback to the viewer network, and the viewer address is unknown.');
    authorization.grant.network = here;
  }
}

function networkOf(ip: string | null): string | undefined {
  if (!ip) return undefined;
  try {
    return viewerNetwork(ip);
  } catch (error) {
    if (error instanceof InvalidViewerAddress) return undefined;
    throw error;
  }
}

export async function gate(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
  const startedMs = Date.now();
  const config = configFor(env);
  const decision: Decision = { decision: 'deny', status: 0 };
  let response: Response;
  try {
    if (request.method === 'OPTIONS') return preflight(config.corsAllowOrigin);
    response = await serve(request, env, config, startedMs, decision, ctx);
  } catch (error) {
    response = refusalResponse(error, decision);
  }
  applyCors(response.headers, config.corsAllowOrigin);
  decision.status = response.status;
  logDecision(decision, startedMs);
  return response;
}

function refusalResponse(error: unknown, decision: Decision): Response {
  let reason: Reason;
  let description: string;
  if (error instanceof GateRefusal || error instanceof TokenRefusal || error instanceof OriginFailure) {
    ({ reason, description } = error);
  } else if (error instanceof RemoteJwksAmbiguousKid) {
    reason = 'key_unknown';
    description = 'The token "kid" is published with different keys by more than one remote JWKS source; it is refused rather than guessed.';
  } else if (error instanceof StoreUnavailable || error instanceof RemoteJwksUnavailable) {
    reason = 'keys_unavailable';
    description = 'Signing keys cannot be loaded right now; playback is refused until they can (fail closed).';
  } else {
    reason = 'internal_error';
    description = 'The gate failed to decide; the request is refused.';
    console.error(JSON.stringify({ event: 'gate_error', error: error instanceof Error ? error.name : 'unknown' }));
  }
  decision.decision = 'deny';
  decision.reason = reason;
  const headers: Record<string, string> = {};
  if (reason === 'token_missing') headers['WWW-Authenticate'] = 'Bearer error="invalid_token"';
  if (reason === 'method_not_allowed') headers.Allow = 'GET, HEAD, OPTIONS';
  return errorResponse(reason, description, { headers });
}

async function serve(request: Request, env: Env, config: Config, nowMs: number, decision: Decision, ctx: ExecutionContext): Promise<Response> {
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    throw new GateRefusal('method_not_allowed', 'The gate serves GET, HEAD and OPTIONS.');
  }
  if (!config.originUrl) throw new GateRefusal('config_invalid', 'Configuration variable ORIGIN_URL is required for the gate.');
  if (config.grantSecrets.length === 0) throw new GateRefusal('config_invalid', 'Configuration variable GRANT_SECRET is required for the gate.');

  const url = new URL(request.url);
  const parsed = parsePlaybackPath(url.pathname);
  if (!parsed.ok) throw new GateRefusal('bad_path', parsed.description);
  const path = parsed.path;
  decision.playbackId = path.playbackId;
  decision.resourceClass = path.resourceClass;

  const authorization = await authorize(request, url, env, config, path, nowMs, decision, ctx);
  await enforceRestrictions(request, env, config, path, nowMs, authorization);

  let query = originQuery(url, [config.tokenQueryParam, LIMITS.grantParam]);
  if (path.kind === 'thumbnail' || path.kind === 'gif') {
    // Signed image parameters (issue 8): pinned values win, conflicts are refused, bounds enforced.
    const image = resolveImageParams(path.kind, new URLSearchParams(query), authorization.payload ?? {});
    if (!image.ok) throw new GateRefusal('access_denied', image.description);
    query = image.query.toString();
  }
  decision.decision = 'allow';

  const origin = await fetchFromOrigin(config.originUrl, path.originPath, query, request, config.originTimeoutMs, env.ASSETS);
  const headers = mediaHeaders(origin);
  const isHlsPlaylist = path.kind === 'multivariant' || (path.kind === 'child' && path.originPath.endsWith('.m3u8'));
  const isDashManifest = path.kind === 'dash-manifest';
  if (!(isHlsPlaylist || isDashManifest) || origin.status !== 200) {
    return new Response(origin.body, { status: origin.status, headers });
  }

  const grant = authorization.presentedGrant ?? (await mintGrant(config.grantSecrets[0]!, path.playbackId, authorization.grant));
  const maxAge = Math.max(0, Math.min(authorization.grant.exp - Math.floor(nowMs / 1000), originMaxAge(origin.headers.get('Cache-Control'))));
  headers.set('Cache-Control', `private, max-age=${maxAge}`);
  headers.delete('Content-Length');
  headers.delete('Content-Encoding');
  headers.delete('ETag');
  headers.delete('Accept-Ranges');
  if (request.method === 'HEAD') {
    await origin.body?.cancel();
    return new Response(null, { status: 200, headers });
  }
  const text = await readPlaylist(origin);
  const rewriteContext = { playlistUrl: url, playbackId: path.playbackId, grantParam: LIMITS.grantParam, grant, stripParams: [config.tokenQueryParam] };
  if (isDashManifest) {
    if (!looksLikeDashManifest(text)) throw new OriginFailure('origin_error', 'The origin answered something that is not a DASH manifest.');
    let rewritten: string;
    try {
      rewritten = rewriteDashManifest(text, rewriteContext);
    } catch (error) {
      if (error instanceof DashManifestError) throw new OriginFailure('origin_error', 'The origin answered a DASH manifest that cannot be parsed.');
      throw error;
    }
    headers.set('Content-Type', 'application/dash+xml');
    return new Response(rewritten, { status: 200, headers });
  }
  if (!looksLikeHlsPlaylist(text)) throw new OriginFailure('origin_error', 'The origin answered something that is not an HLS playlist.');
  const rewritten = rewriteHlsPlaylist(text, rewriteContext);
  if (!headers.has('Content-Type')) headers.set('Content-Type', 'application/vnd.apple.mpegurl');
  return new Response(rewritten, { status: 200, headers });
}

function originMaxAge(cacheControl: string | null): number {
  const match = /(?:^|,)\s*max-age=(\d+)/i.exec(cacheControl ?? '');
  return match ? Number(match[1]) : 0;
}

interface FoundKey extends TokenKey {
  /** A key of this deployment's admin API (not a remote JWKS): its use is recorded for lastUsedAt. */
  local: boolean;
}

/**
 * The key for `kid`: the local key store (isolate cache → KV) first, then the remote JWKS sources
 * when JWKS_URLS is set. A local key never waits on, or depends on, a remote source (issue 11):
 * a remote key published under a local kid was dropped when its set was loaded.
 */
async function findKey(env: Env, config: Config, kid: string, nowMs: number, ctx: ExecutionContext): Promise<FoundKey | null> {
  const local = await keyCache.lookup(env.KEYS, kid, nowMs, config.keyCacheTtlSeconds);
  if (local) return { ...local, local: true };
  const remote = env.JWKS_URLS ? remoteJwksFor(env) : undefined;
  if (!remote?.enabled) return null;
  const remoteKey = await remote.lookup(kid, (promise) => ctx.waitUntil(promise));
  return remoteKey && { ...remoteKey, local: false };
}

/** Revocations (issue 7): checked for tokens and for the grants minted from them, from a per-isolate snapshot. */
async function assertNotRevoked(env: Env, config: Config, nowMs: number, token: RevocableClaims, playbackId: string) {
  const snapshot = await revocationCache.snapshot(env.KEYS, nowMs, config.keyCacheTtlSeconds);
  const revocation = findRevocation(snapshot, { ...token, playbackId });
  if (revocation) throw new TokenRefusal('token_revoked', `The token was revoked (revocation ${revocation.id}, ${revocation.kind}).`);
}

async function authorize(request: Request, url: URL, env: Env, config: Config, path: PlaybackPath, nowMs: number, decision: Decision, ctx: ExecutionContext): Promise<Authorization> {
  const credential = readCredential(url, request.headers, { tokenQueryParam: config.tokenQueryParam, grantParam: LIMITS.grantParam, tokenCookie: config.tokenCookie });
  decision.credential = credential.kind === 'token' ? credential.source : credential.kind;
  switch (credential.kind) {
    case 'duplicate':
      throw new GateRefusal('duplicate_token', `More than one credential in ${credential.what}.`);
    case 'none':
      throw new GateRefusal('token_missing', `Send a playback token in the "${config.tokenQueryParam}" query parameter${config.tokenCookie ? `, the "${config.tokenCookie}" cookie` : ''} or an Authorization: Bearer header.`);
    case 'grant': {
      const result = await checkGrant(credential.value, config.grantSecrets, path.playbackId, path.resourceClass, Math.floor(nowMs / 1000));
      if (!result.ok) throw new GateRefusal(result.reason, result.description);
      decision.kid = result.claims.kid;
      // A grant dies with its key and its token: deleting the signing key or revoking the token
      // stops the grants minted from it within the same bound.
      const key = await findKey(env, config, result.claims.kid, nowMs, ctx);
      if (!key) throw new TokenRefusal('key_unknown', 'The signing key this grant came from no longer exists.');
      if (key.expiresAtMs !== undefined && nowMs >= key.expiresAtMs) throw new TokenRefusal('key_expired', 'The signing key this grant came from has expired.');
      await assertNotRevoked(env, config, nowMs, result.claims, path.playbackId);
      return { kid: result.claims.kid, grant: result.claims, presentedGrant: credential.value };
    }
    case 'token': {
      if (credential.value.length > LIMITS.maxTokenBytes) throw new GateRefusal('token_too_large', `Tokens are limited to ${LIMITS.maxTokenBytes} bytes.`);
      let foundKey: FoundKey | null = null;
      const verified = await verifyPlaybackToken(
        credential.value,
        async (kid) => {
          decision.kid = kid;
          return (foundKey = await findKey(env, config, kid, nowMs, ctx));
        },
        claimPolicy(config),
        nowMs,
        path.playbackId,
        path.resourceClass,
      );
      // Every selector a revocation can name rides in the grants, so a revocation stops them too.
      const revocable = revocableClaims(verified.payload);
      await assertNotRevoked(env, config, nowMs, revocable, path.playbackId);
      if ((foundKey as FoundKey | null)?.local) lastUsedTracker.note(env.KEYS, verified.kid, nowMs, (promise) => ctx.waitUntil(promise));
      const grant: GrantClaims = { exp: grantExpiry(verified.exp, nowMs / 1000), resourceClass: 'v', kid: verified.kid, ...revocable };
      return { kid: verified.kid, grant, payload: verified.payload };
    }
  }
}
