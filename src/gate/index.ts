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
import { looksLikeHlsPlaylist, rewriteHlsPlaylist } from '../media/hls';
import { fetchFromOrigin, mediaHeaders, OriginFailure, readPlaylist } from '../origin/fetch';
import type { ClaimPolicy } from '../token/claims';
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
    description = 'The token "kid" is published by more than one key source; it is refused rather than guessed.';
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
  decision.decision = 'allow';

  const origin = await fetchFromOrigin(config.originUrl, path.originPath, originQuery(url, [config.tokenQueryParam, LIMITS.grantParam]), request, config.originTimeoutMs, env.ASSETS);
  const headers = mediaHeaders(origin);
  const isHlsPlaylist = path.kind === 'multivariant' || (path.kind === 'child' && path.originPath.endsWith('.m3u8'));
  if (!isHlsPlaylist || origin.status !== 200) {
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
  if (!looksLikeHlsPlaylist(text)) throw new OriginFailure('origin_error', 'The origin answered something that is not an HLS playlist.');
  const rewritten = rewriteHlsPlaylist(text, { playlistUrl: url, playbackId: path.playbackId, grantParam: LIMITS.grantParam, grant, stripParams: [config.tokenQueryParam] });
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
 * The key for `kid`: the local key store (isolate cache → KV), and the remote JWKS sources when
 * JWKS_URLS is set. A kid known to both is ambiguous and refused, never guessed (issue 7).
 */
async function findKey(env: Env, config: Config, kid: string, nowMs: number, ctx: ExecutionContext): Promise<FoundKey | null> {
  const remote = env.JWKS_URLS ? remoteJwksFor(env) : undefined;
  if (!remote?.enabled) {
    const local = await keyCache.lookup(env.KEYS, kid, nowMs, config.keyCacheTtlSeconds);
    return local && { ...local, local: true };
  }
  const [local, remoteKey] = await Promise.all([
    keyCache.lookup(env.KEYS, kid, nowMs, config.keyCacheTtlSeconds),
    remote.lookup(kid, (promise) => ctx.waitUntil(promise)),
  ]);
  if (local && remoteKey) throw new RemoteJwksAmbiguousKid(kid, ['local signing keys', remoteKey.source]);
  if (local) return { ...local, local: true };
  return remoteKey && { ...remoteKey, local: false };
}

/** Revocations (issue 7): checked for tokens and for the grants minted from them, from a per-isolate snapshot. */
async function assertNotRevoked(env: Env, config: Config, nowMs: number, token: { jti?: string; sub?: string | string[]; iat?: number }, playbackId: string) {
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
      const { jti, sub, iat } = verified.payload;
      const revocable = {
        ...(typeof jti === 'string' && { jti }),
        ...((typeof sub === 'string' || Array.isArray(sub)) && { sub: sub as string | string[] }),
        ...(typeof iat === 'number' && { iat }),
      };
      await assertNotRevoked(env, config, nowMs, revocable, path.playbackId);
      if ((foundKey as FoundKey | null)?.local) lastUsedTracker.note(env.KEYS, verified.kid, nowMs, (promise) => ctx.waitUntil(promise));
      const grant: GrantClaims = { exp: grantExpiry(verified.exp, nowMs / 1000), resourceClass: 'v', kid: verified.kid };
      if (typeof jti === 'string' && jti.length <= 200) grant.jti = jti;
      if (typeof iat === 'number') grant.iat = iat;
      if (typeof sub === 'string' && sub.length <= 200) grant.sub = sub;
      return { kid: verified.kid, grant };
    }
  }
}
