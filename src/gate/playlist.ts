/**
 * Serving a playlist (SPEC §5 "Child grants"): the origin's HLS playlist or DASH manifest, read
 * within the size and time caps, rewritten so that every URI under `/{P}/` carries a grant.
 * The DASH rewriter (and its XML parser) is loaded on first use: playback of HLS never pays for it.
 */
import { LIMITS, type Config } from '../config';
import { Refusal } from '../errors';
import { looksLikeHlsPlaylist, rewriteHlsPlaylist } from '../media/hls';
import { mediaHeaders, readPlaylist } from '../origin/fetch';
import { mintGrant } from './grant';
import type { Authorization } from './index';
import type { PlaybackPath } from './path';

export function isPlaylistPath(path: PlaybackPath): boolean {
  return path.kind === 'multivariant' || path.kind === 'dash-manifest' || (path.kind === 'child' && path.originPath.endsWith('.m3u8'));
}

export interface PlaylistRequest {
  request: Request;
  path: PlaybackPath;
  origin: Response;
  authorization: Authorization;
  config: Config;
  nowMs: number;
  /** When the origin's time budget (ORIGIN_TIMEOUT_MS from the request to the origin) runs out. */
  deadlineMs: number;
}

function originMaxAge(cacheControl: string | null): number {
  const match = /(?:^|,)\s*max-age=(\d+)/i.exec(cacheControl ?? '');
  return match ? Number(match[1]) : 0;
}

export async function servePlaylist({ request, path, origin, authorization, config, nowMs, deadlineMs }: PlaylistRequest): Promise<Response> {
  const headers = mediaHeaders(origin);
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
  const text = await readPlaylist(origin, deadlineMs);
  const rewriteContext = { playlistUrl: new URL(request.url), playbackId: path.playbackId, grantParam: LIMITS.grantParam, grant, stripParams: [config.tokenQueryParam] };
  if (path.kind === 'dash-manifest') {
    const { DashManifestError, looksLikeDashManifest, rewriteDashManifest } = await import('../media/dash');
    if (!looksLikeDashManifest(text)) throw new Refusal('origin_error', 'The origin answered something that is not a DASH manifest.');
    let rewritten: string;
    try {
      rewritten = rewriteDashManifest(text, rewriteContext);
    } catch (error) {
      if (error instanceof DashManifestError) throw new Refusal('origin_error', 'The origin answered a DASH manifest that cannot be parsed.');
      throw error;
    }
    headers.set('Content-Type', 'application/dash+xml');
    return new Response(rewritten, { status: 200, headers });
  }
  if (!looksLikeHlsPlaylist(text)) throw new Refusal('origin_error', 'The origin answered something that is not an HLS playlist.');
  const rewritten = rewriteHlsPlaylist(text, rewriteContext);
  if (!headers.has('Content-Type')) headers.set('Content-Type', 'application/vnd.apple.mpegurl');
  return new Response(rewritten, { status: 200, headers });
}
