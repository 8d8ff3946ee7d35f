/**
 * What is a playlist (SPEC §5): decided by what the origin answers — an HLS or DASH media type, or
 * a body that starts like one — not by the file extension. Pure.
 */

/** HLS media types (RFC 8216 §4; the `x-` and audio forms that servers still send). */
const HLS_TYPES = new Set(['application/vnd.apple.mpegurl', 'application/x-mpegurl', 'application/mpegurl', 'audio/mpegurl', 'audio/x-mpegurl']);
const DASH_TYPES = new Set(['application/dash+xml']);
/** Types that say nothing about the body (or that an MPD may be served as): the body decides. */
const GENERIC_TYPES = new Set(['', 'application/octet-stream', 'binary/octet-stream', 'text/plain', 'application/xml', 'text/xml']);

export type PlaylistFormat = 'hls' | 'dash';

/** The essence of a Content-Type value (`type/subtype`, lower-cased, no parameters). */
function essence(contentType: string | null): string {
  return (contentType ?? '').split(';', 1)[0]!.trim().toLowerCase();
}

/**
 * What the origin's media type says: a playlist format, `'unknown'` when the type says nothing
 * (absent or generic, so the body decides), or `'media'` for any other type (a segment, a key, an
 * image: streamed, never read).
 */
export function formatOfType(contentType: string | null): PlaylistFormat | 'unknown' | 'media' {
  const type = essence(contentType);
  if (HLS_TYPES.has(type)) return 'hls';
  if (DASH_TYPES.has(type)) return 'dash';
  return GENERIC_TYPES.has(type) ? 'unknown' : 'media';
}

/** Bytes of a body's start that {@link formatOfText} needs to decide. */
export const SNIFF_BYTES = 4096;

/** The playlist format a body's start (decoded text) shows, if any. */
export function formatOfText(head: string): PlaylistFormat | undefined {
  if (looksLikeHlsPlaylist(head)) return 'hls';
  if (looksLikeDashManifest(head)) return 'dash';
  return undefined;
}

/**
 * True when `text` is an HLS playlist: it starts with `#EXTM3U` (RFC 8216 §4.3.1.1) after an
 * optional UTF-8 BOM and leading whitespace.
 *
 * @example
 * looksLikeHlsPlaylist('\uFEFF#EXTM3U\n#EXT-X-VERSION:3\n'); // true
 */
export function looksLikeHlsPlaylist(text: string): boolean {
  return /^\uFEFF?[ \t\r\n]*#EXTM3U/.test(text.slice(0, 512));
}

/**
 * True when `text` looks like an MPD: after an optional BOM, whitespace, XML declaration and
 * comments, the root element is `MPD` (optionally prefixed). A sniff, not a validation.
 *
 * @example
 * looksLikeDashManifest('<?xml version="1.0"?>\n<MPD xmlns="urn:mpeg:dash:schema:mpd:2011">'); // true
 */
export function looksLikeDashManifest(text: string): boolean {
  const head = text.slice(0, SNIFF_BYTES).replace(/^\uFEFF/, '');
  let i = 0;
  for (;;) {
    while (i < head.length && /\s/.test(head[i]!)) i++;
    if (head.startsWith('<?', i) || head.startsWith('<!--', i)) {
      const end = head.indexOf(head.startsWith('<?', i) ? '?>' : '-->', i + 2);
      if (end < 0) return false;
      i = end + 2;
      if (head[i] === '>') i++;
      continue;
    }
    break;
  }
  return /^<(?:[A-Za-z_][\w.-]*:)?MPD[\s/>]/.test(head.slice(i, i + 200));
}

/**
 * True when a playlist describes a finished presentation, which no longer changes: an HLS playlist
 * with `#EXT-X-ENDLIST` (RFC 8216 §4.3.3.4), an MPD whose `type` is `static` (the default). A
 * multivariant HLS playlist has no ENDLIST and counts as changing: it is kept only as long as its
 * origin says.
 *
 * @example
 * isFinishedPresentation('hls', '#EXTM3U\n#EXTINF:2,\nseg0.ts\n#EXT-X-ENDLIST\n'); // true
 * isFinishedPresentation('dash', '<MPD type="dynamic">'); // false
 */
export function isFinishedPresentation(format: PlaylistFormat, text: string): boolean {
  if (format === 'hls') return /^[ \t]*#EXT-X-ENDLIST[ \t]*\r?$/m.test(text);
  const root = /<(?:[A-Za-z_][\w.-]*:)?MPD\b[^>]*>/.exec(text.slice(0, 64 * 1024));
  return root !== null && !/\stype\s*=\s*["']dynamic["']/.test(root[0]);
}
