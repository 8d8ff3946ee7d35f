/**
 * Serving a playlist (SPEC §5 "What is a playlist", "Child grants"). What is a playlist is decided
 * by what the origin answers — an HLS or DASH media type, or a body that starts like one — wherever
 * it sits under `/{P}/`; `/{P}.m3u8` and `/{P}.mpd` are always read as their format. A playlist is
 * read within the size and time caps and rewritten so that every URI the gate would serve under
 * `/{P}/` carries a grant. The DASH rewriter (and its XML parser) is loaded on first use: playback
 * of HLS never pays for it.
 */
import { LIMITS, type Config } from '../config';
import { Refusal } from '../errors';
import { rewriteHlsPlaylist } from '../media/hls';
import { formatOfText, formatOfType, isFinishedPresentation, looksLikeDashManifest, looksLikeHlsPlaylist, SNIFF_BYTES, type PlaylistFormat } from '../media/sniff';
import { viewerCacheControl } from '../origin/cache-policy';
import { mediaHeaders, peekBody, readPlaylist } from '../origin/fetch';
import type { Grants } from './grant';
import type { Authorization } from './index';
import type { PlaybackPath } from './path';

/** The extensions that name a playlist: a hint to read the body when the media type says otherwise. */
function formatOfExtension(originPath: string): PlaylistFormat | undefined {
  if (/\.m3u8?$/i.test(originPath)) return 'hls';
  if (/\.mpd$/i.test(originPath)) return 'dash';
  return undefined;
}

export type OriginAnswer = { format: PlaylistFormat; origin: Response } | { format: undefined; origin: Response };

/**
 * Whether the origin's answer is a playlist, and which. Reads the body's start only when the media
 * type says nothing (absent or generic) or contradicts a playlist extension; the answer it returns
 * still carries the whole body. Media types of segments, keys and images are streamed unread.
 */
export async function classifyAnswer(path: PlaybackPath, origin: Response, method: string, deadlineMs: number): Promise<OriginAnswer> {
  if (origin.status !== 200) return { format: undefined, origin };
  if (path.kind === 'multivariant') return { format: 'hls', origin };
  if (path.kind === 'dash-manifest') return { format: 'dash', origin };
  if (path.kind !== 'child') return { format: undefined, origin };
  const byType = formatOfType(origin.headers.get('Content-Type'));
  if (byType === 'hls' || byType === 'dash') return { format: byType, origin };
  const byExtension = formatOfExtension(path.originPath);
  if (byType === 'media' && byExtension === undefined) return { format: undefined, origin };
  if (method === 'HEAD') return { format: byExtension, origin } as OriginAnswer;
  const { head, response } = await peekBody(origin, SNIFF_BYTES, deadlineMs);
  return { format: formatOfText(head) ?? byExtension, origin: response } as OriginAnswer;
}

export interface PlaylistRequest {
  request: Request;
  path: PlaybackPath;
  format: PlaylistFormat;
  origin: Response;
  authorization: Authorization;
  /** Mints the grant of a playlist opened with a token. */
  grants: Grants;
  config: Config;
  nowMs: number;
  /** When the origin's time budget (ORIGIN_TIMEOUT_MS from the request to the origin) runs out. */
  deadlineMs: number;
  /** Offered the playlist as the origin sent it, before rewriting (the edge cache keeps what it may). */
  keep?: (text: string, finished: boolean) => void;
}

export async function servePlaylist({ request, path, format, origin, authorization, grants, config, nowMs, deadlineMs, keep }: PlaylistRequest): Promise<Response> {
  const headers = mediaHeaders(origin);
  const grant = authorization.presentedGrant ?? (await grants.mint(path.playbackId, authorization.grant));
  // The rewritten playlist carries a grant: no viewer cache may keep it past the grant's expiry.
  headers.set('Cache-Control', viewerCacheControl(origin.headers.get('Cache-Control'), authorization.grant.exp, Math.floor(nowMs / 1000)));
  headers.delete('Content-Length');
  headers.delete('Content-Encoding');
  // No validators: a rewritten playlist carries a grant, so a browser must fetch it again rather
  // than revalidate it (a 304 would extend a body whose grant is bounded by its first fetch).
  headers.delete('ETag');
  headers.delete('Last-Modified');
  headers.delete('Accept-Ranges');
  // The format's own media type, whatever generic type the origin sent (Safari plays only these).
  if (formatOfType(headers.get('Content-Type')) !== format) headers.set('Content-Type', format === 'hls' ? 'application/vnd.apple.mpegurl' : 'application/dash+xml');
  if (request.method === 'HEAD') {
    await origin.body?.cancel();
    return new Response(null, { status: 200, headers });
  }
  const text = await readPlaylist(origin, deadlineMs);
  const rewriteContext = { playlistUrl: new URL(request.url), playbackId: path.playbackId, grantParam: LIMITS.grantParam, grant, stripParams: [config.tokenQueryParam] };
  if (format === 'dash') {
    if (!looksLikeDashManifest(text)) throw new Refusal('origin_error', 'The origin answered something that is not a DASH manifest.');
    const { DashManifestError, rewriteDashManifest } = await import('../media/dash');
    let rewritten: string;
    try {
      rewritten = rewriteDashManifest(text, rewriteContext);
    } catch (error) {
      if (error instanceof DashManifestError) throw new Refusal('origin_error', 'The origin answered a DASH manifest that cannot be parsed.');
      throw error;
    }
    keep?.(text, isFinishedPresentation(format, text));
    return new Response(rewritten, { status: 200, headers });
  }
  // RFC 8216 §4.3.1.1: a playlist starts with #EXTM3U (hls.js and AVPlayer refuse it otherwise too).
  if (!looksLikeHlsPlaylist(text)) throw new Refusal('origin_error', 'The origin answered something that is not an HLS playlist (it must start with #EXTM3U).');
  const rewritten = rewriteHlsPlaylist(text, rewriteContext);
  keep?.(text, isFinishedPresentation(format, text));
  return new Response(rewritten, { status: 200, headers });
}
