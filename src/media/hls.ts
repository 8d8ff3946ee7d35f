/**
 * HLS playlist rewriting for child grants (SPEC §5 "Child grants"). Pure: no I/O, no Workers APIs
 * beyond the standard `URL` class.
 *
 * Every URI a player will fetch from a playlist — plain URI lines and the quoted `URI` attribute
 * of the tags in {@link URI_TAGS} — that resolves to a path under `/{playbackId}/` on the gate's
 * own origin gets the grant query parameter, so an ordinary player (hls.js, AVPlayer, ExoPlayer,
 * Chromecast) carries it on every child request without cookies or custom headers.
 *
 * Everything else is kept byte for byte: other hosts, other playback IDs, non-http(s) schemes
 * (`skd://`, `data:`), lines and tags without URIs, line endings, the BOM, whitespace. The
 * rewriter fails closed: when in doubt a URI is left untouched, which at worst makes one child
 * request be refused; it never attaches a grant to a URI the gate would not accept it for.
 */

/** Context of one rewrite: where the playlist was served and what to attach. */
export interface HlsRewriteContext {
  /** Absolute URL the playlist was requested at (as the client sees it, on the gate's host), e.g. https://gate.example/P.m3u8 or https://gate.example/P/v0/index.m3u8 */
  playlistUrl: URL;
  /** The playback ID; only URIs resolving to a path under `/${playbackId}/` on the same origin (scheme+host+port) as playlistUrl are rewritten. */
  playbackId: string;
  /** Query parameter name carrying the grant, e.g. "grant". */
  grantParam: string;
  /** Grant value to put in that parameter (already URL-safe: base64url and dots). */
  grant: string;
  /** Query parameters to strip from rewritten URIs (e.g. the JWT param "token") so a token never gets copied into child URIs. */
  stripParams?: readonly string[];
}

/**
 * Tags whose quoted `URI` attribute names a resource the player fetches (RFC 8216bis §4.4).
 * `EXT-X-STREAM-INF` has none: its URI is the next line, handled as a URI line.
 */
const URI_TAGS: ReadonlySet<string> = new Set([
  'EXT-X-MEDIA',
  'EXT-X-MAP',
  'EXT-X-I-FRAME-STREAM-INF',
  'EXT-X-KEY',
  'EXT-X-SESSION-KEY',
  'EXT-X-SESSION-DATA',
  'EXT-X-PART',
  'EXT-X-PRELOAD-HINT',
  'EXT-X-RENDITION-REPORT',
]);

/** SPEC §5: the playback ID grammar. */
const PLAYBACK_ID_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;
/** Grants are base64url segments joined by dots; anything else would need escaping. */
const GRANT_PATTERN = /^[A-Za-z0-9_.~-]+$/;

const BOM = 0xfeff;
const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const QUOTE = 0x22;
const HASH = 0x23;
const COMMA = 0x2c;
const DOT = 0x2e;
const SLASH = 0x2f;
const EQUALS = 0x3d;
const BACKSLASH = 0x5c;
const DEL = 0x7f;

const TAG_PREFIX = '#EXT-X-';
// Single-character classes: native scans, nothing to backtrack over.
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f]/;
const QUERY_OR_FRAGMENT = /[?#]/;
/** Distinct `scheme://authority` prefixes remembered per playlist (anti-DoS: memory bound). */
const MAX_ORIGIN_DECISIONS = 64;

/**
 * True when `text` is an HLS playlist: it starts with `#EXTM3U` (RFC 8216 §4.3.1.1) after an
 * optional UTF-8 BOM and leading whitespace.
 *
 * @example
 * looksLikeHlsPlaylist('\uFEFF#EXTM3U\n#EXT-X-VERSION:3\n'); // true
 */
export function looksLikeHlsPlaylist(text: string): boolean {
  let i = text.charCodeAt(0) === BOM ? 1 : 0;
  while (i < text.length && isWhitespace(text.charCodeAt(i))) i++;
  return text.startsWith('#EXTM3U', i);
}

/**
 * Adds `ctx.grantParam=ctx.grant` to every URI of an HLS playlist that resolves to a path under
 * `/${ctx.playbackId}/` on the origin of `ctx.playlistUrl`, replacing any grant already there and
 * removing `ctx.stripParams`. Rewritten URIs keep their form (relative stays relative, fragment
 * kept); nothing else changes, byte for byte. Idempotent on its own output.
 *
 * Throws a `TypeError` when the context itself is invalid (a programming error, not a bad
 * playlist); the message never contains the grant.
 *
 * @example
 * rewriteHlsPlaylist('#EXTM3U\n#EXTINF:4,\nseg1.ts?token=eyJ\n', {
 *   playlistUrl: new URL('https://gate.example/P/v0/index.m3u8'),
 *   playbackId: 'P', grantParam: 'grant', grant: 'g.sig', stripParams: ['token'],
 * }); // '#EXTM3U\n#EXTINF:4,\nseg1.ts?grant=g.sig\n'
 */
export function rewriteHlsPlaylist(text: string, ctx: HlsRewriteContext): string {
  const rewriteUri = uriRewriter(ctx);
  const length = text.length;
  // Only changed lines are copied out; an untouched playlist is returned as the same string.
  let out = '';
  let copiedUpTo = 0;
  let changed = false;
  let pos = text.charCodeAt(0) === BOM ? 1 : 0;
  while (pos < length) {
    const lf = text.indexOf('\n', pos);
    const next = lf < 0 ? length : lf + 1;
    // RFC 8216 §4.1: lines end with LF or CRLF; the CR belongs to the terminator, not the line.
    const end = lf < 0 ? length : lf > pos && text.charCodeAt(lf - 1) === CR ? lf - 1 : lf;
    const rewritten = rewriteLine(text.slice(pos, end), rewriteUri);
    if (rewritten !== undefined) {
      out += text.slice(copiedUpTo, pos) + rewritten;
      copiedUpTo = end;
      changed = true;
    }
    pos = next;
  }
  return changed ? out + text.slice(copiedUpTo) : text;
}

type UriRewriter = (uri: string) => string | undefined;

/** Returns the new line, or undefined when the line stays as it is. */
function rewriteLine(line: string, rewriteUri: UriRewriter): string | undefined {
  let start = 0;
  while (start < line.length && isBlank(line.charCodeAt(start))) start++;
  if (start === line.length) return undefined;
  if (line.charCodeAt(start) === HASH) return rewriteTag(line, start, rewriteUri);
  return rewritePadded(line, rewriteUri);
}

/** Rewrites the quoted `URI` attributes of a tag line whose `#` is at `start`. */
function rewriteTag(line: string, start: number, rewriteUri: UriRewriter): string | undefined {
  // Cheap rejections first: most lines of a media playlist are #EXTINF and friends.
  if (!line.startsWith(TAG_PREFIX, start)) return undefined;
  const colon = line.indexOf(':', start + TAG_PREFIX.length);
  if (colon < 0 || !URI_TAGS.has(line.slice(start + 1, colon))) return undefined;
  if (line.indexOf('URI', colon) < 0) return undefined;

  // RFC 8216 §4.2 attribute list: NAME=VALUE pairs separated by commas; quoted strings may
  // contain commas (and `URI=`), never a quote. Each step moves forward: linear, no backtracking.
  const n = line.length;
  let out = '';
  let copiedUpTo = 0;
  let i = colon + 1;
  while (i < n) {
    const nameStart = i;
    while (i < n) {
      const c = line.charCodeAt(i);
      if (c === EQUALS || c === COMMA) break;
      i++;
    }
    if (i >= n) break;
    if (line.charCodeAt(i) === COMMA) {
      i++;
      continue;
    }
    const isUri = isAttributeName(line, nameStart, i, 'URI');
    i++; // past '='
    if (line.charCodeAt(i) === QUOTE) {
      const close = line.indexOf('"', i + 1);
      if (close < 0) break; // unterminated quoted string: leave the rest as it is
      if (isUri) {
        const rewritten = rewritePadded(line.slice(i + 1, close), rewriteUri);
        if (rewritten !== undefined) {
          out += line.slice(copiedUpTo, i + 1) + rewritten;
          copiedUpTo = close;
        }
      }
      i = close + 1;
    }
    // Skip the rest of the value (an unquoted value, or stray bytes after a closing quote).
    const comma = line.indexOf(',', i);
    if (comma < 0) break;
    i = comma + 1;
  }
  return copiedUpTo === 0 ? undefined : out + line.slice(copiedUpTo);
}

/** Whether line[from, to) is `name`, ignoring surrounding blanks (hls.js trims attribute names). */
function isAttributeName(line: string, from: number, to: number, name: string): boolean {
  while (from < to && isBlank(line.charCodeAt(from))) from++;
  while (to > from && isBlank(line.charCodeAt(to - 1))) to--;
  return to - from === name.length && line.startsWith(name, from);
}

/** Rewrites the URI inside surrounding blanks, which are kept as they are. */
function rewritePadded(text: string, rewriteUri: UriRewriter): string | undefined {
  let start = 0;
  let end = text.length;
  while (start < end && isBlank(text.charCodeAt(start))) start++;
  while (end > start && isBlank(text.charCodeAt(end - 1))) end--;
  if (start === end) return undefined;
  const rewritten = rewriteUri(start === 0 && end === text.length ? text : text.slice(start, end));
  return rewritten === undefined ? undefined : text.slice(0, start) + rewritten + text.slice(end);
}

/** Validates the context once and returns the per-URI rewriter. */
function uriRewriter(ctx: HlsRewriteContext): UriRewriter {
  const { playlistUrl, playbackId, grantParam, grant } = ctx;
  if (playlistUrl.protocol !== 'https:' && playlistUrl.protocol !== 'http:') {
    throw new TypeError('playlistUrl must be an http(s) URL');
  }
  if (!PLAYBACK_ID_PATTERN.test(playbackId)) {
    throw new TypeError('playbackId must match [A-Za-z0-9_-]{1,128}');
  }
  if (grantParam.length === 0) throw new TypeError('grantParam must not be empty');
  if (!GRANT_PATTERN.test(grant)) throw new TypeError('grant must be URL-safe (base64url and dots)');

  const baseHref = playlistUrl.href;
  const baseOrigin = playlistUrl.origin;
  const basePath = playlistUrl.pathname;
  const baseDirectory = basePath.slice(0, basePath.lastIndexOf('/') + 1);
  const baseDirectoryAcceptable = isAcceptableResolvedPath(baseDirectory);
  const prefix = `/${playbackId}/`;
  const grantPair = `${encodeURIComponent(grantParam)}=${grant}`;
  // The old grant goes too, so that rewriting is idempotent and a URI never carries two grants.
  const dropped = new Set<string>(ctx.stripParams ?? []);
  dropped.add(grantParam);

  const originSlash = `${baseOrigin}/`;

  /**
   * Fast path for the common shapes — `seg_00042.m4s`, `v0/index.m3u8`, `/P/v0/seg.ts`,
   * `https://gate.example/P/v0/seg.ts` — made only of unreserved characters and slashes, with no
   * dot or empty segments: WHATWG resolution leaves such a path as written, so the resolved
   * pathname is known without a URL parse per segment line. Undefined when not that simple.
   */
  function simpleResolvedPath(path: string): string | undefined {
    if (path.startsWith(originSlash)) {
      const rest = path.slice(originSlash.length - 1);
      return isSimplePath(rest, 1) ? rest : undefined;
    }
    if (path.charCodeAt(0) === SLASH) return isSimplePath(path, 1) ? path : undefined;
    return baseDirectoryAcceptable && isSimplePath(path, 0) ? baseDirectory + path : undefined;
  }

  // Origin decisions by `scheme://authority` text, so a playlist of absolute URIs to another
  // host costs one URL parse per distinct host, not one per line. Bounded: the text is untrusted.
  const originDecisions = new Map<string, boolean>();
  function isGateOrigin(authorityPrefix: string): boolean {
    let same = originDecisions.get(authorityPrefix);
    if (same === undefined) {
      try {
        same = new URL(`${authorityPrefix}/`, baseHref).origin === baseOrigin;
      } catch {
        same = false;
      }
      if (originDecisions.size < MAX_ORIGIN_DECISIONS) originDecisions.set(authorityPrefix, same);
    }
    return same;
  }

  function isUnderPlaybackId(uri: string, path: string): boolean {
    const simple = simpleResolvedPath(path);
    if (simple !== undefined) return simple.startsWith(prefix);
    const scheme = schemeOf(path);
    if (scheme !== undefined && scheme !== 'http' && scheme !== 'https') return false;
    const authorityPrefix = authorityPrefixOf(path, scheme);
    if (authorityPrefix !== undefined && !isGateOrigin(authorityPrefix)) return false;
    // SPEC §5: the gate refuses such paths (bad_path); a grant on them would be useless, and
    // their meaning may differ between this parser, the player and the origin.
    if (hasForbiddenPathText(path)) return false;
    let resolved: URL;
    try {
      resolved = new URL(uri, baseHref);
    } catch {
      return false;
    }
    return (
      resolved.origin === baseOrigin &&
      resolved.pathname.startsWith(prefix) &&
      isAcceptableResolvedPath(resolved.pathname)
    );
  }

  return (uri) => {
    // Control characters (a lone CR included) are line breaks to some players: a URI holding
    // one may be read as two, so it is never touched.
    if (CONTROL_CHARACTER.test(uri)) return undefined;
    let pathEnd = uri.search(QUERY_OR_FRAGMENT);
    if (pathEnd < 0) pathEnd = uri.length;
    // A fragment-only reference is the playlist itself, base query included (WHATWG URL): a
    // rewritten `?grant=…#f` would drop that query, and a player never fetches it anyway.
    if (pathEnd === 0 && uri.charCodeAt(0) === HASH) return undefined;
    const path = uri.slice(0, pathEnd);
    if (!isUnderPlaybackId(uri, path)) return undefined;

    const fragmentStart = uri.indexOf('#', pathEnd);
    const queryEnd = fragmentStart < 0 ? uri.length : fragmentStart;
    let query = '';
    if (pathEnd < queryEnd) {
      // uri[pathEnd] is '?'. Pieces are kept as written; empty ones carry nothing and go.
      for (const piece of uri.slice(pathEnd + 1, queryEnd).split('&')) {
        if (piece.length > 0 && !dropped.has(parameterName(piece))) query += piece + '&';
      }
    }
    return `${path}?${query}${grantPair}${fragmentStart < 0 ? '' : uri.slice(fragmentStart)}`;
  };
}

/** The decoded name of one `name=value` query piece, as URLSearchParams reads it. */
function parameterName(piece: string): string {
  const equals = piece.indexOf('=');
  const raw = equals < 0 ? piece : piece.slice(0, equals);
  if (!raw.includes('%') && !raw.includes('+')) return raw;
  // The leading '&' keeps URLSearchParams from eating a '?' that starts the name.
  for (const name of new URLSearchParams(`&${raw}`).keys()) return name;
  return raw;
}

/**
 * The `scheme://authority` (or `//authority`) text a URI reference starts with, when WHATWG
 * parsing takes its host from exactly that text: after `//` comes neither `/` nor `\\`, and the
 * authority ends at the first `/`, `\\`, `?` or `#`. Undefined otherwise (then the URL parser
 * decides alone).
 */
function authorityPrefixOf(path: string, scheme: string | undefined): string | undefined {
  const start = scheme === undefined ? 0 : scheme.length + 1;
  if (path.charCodeAt(start) !== SLASH || path.charCodeAt(start + 1) !== SLASH) return undefined;
  const hostStart = start + 2;
  let end = hostStart;
  while (end < path.length) {
    const c = path.charCodeAt(end);
    if (c === SLASH || c === BACKSLASH) break;
    end++;
  }
  // The path is cut before '?' and '#' already.
  return end === hostStart ? undefined : path.slice(0, end);
}

/** The lower-cased scheme of a URI reference, or undefined when it is relative (RFC 3986 §3.1). */
function schemeOf(path: string): string | undefined {
  const colon = path.indexOf(':');
  if (colon < 1) return undefined;
  for (let i = 0; i < colon; i++) {
    const c = path.charCodeAt(i);
    const letter = (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
    if (!letter && (i === 0 || !((c >= 0x30 && c <= 0x39) || c === 0x2b || c === 0x2d || c === DOT))) {
      return undefined; // a '/' or other character before the colon: a relative path
    }
  }
  return path.slice(0, colon).toLowerCase();
}

/**
 * SPEC §5 bad_path, on the text as written: backslashes, encoded separators and dots
 * (`%2F`, `%5C`, `%2E`), encoded control characters, and malformed percent-escapes.
 */
function hasForbiddenPathText(path: string): boolean {
  if (path.includes('\\')) return true;
  for (let i = path.indexOf('%'); i >= 0; i = path.indexOf('%', i + 1)) {
    const high = hexValue(path.charCodeAt(i + 1));
    const low = hexValue(path.charCodeAt(i + 2));
    if (high < 0 || low < 0) return true;
    const byte = high * 16 + low;
    if (byte < 0x20 || byte === DEL || byte === SLASH || byte === BACKSLASH || byte === DOT) return true;
  }
  return false;
}

/** A resolved pathname the gate accepts: no empty segment (`//`) and nothing from {@link hasForbiddenPathText}. */
function isAcceptableResolvedPath(pathname: string): boolean {
  return !pathname.includes('//') && !hasForbiddenPathText(pathname);
}

/**
 * Whether path[from…] is non-empty, made of {@link isSimplePathChar} only, and has no `.`, `..`
 * or empty segment (a trailing slash is fine): text that URL parsing keeps exactly as written.
 */
function isSimplePath(path: string, from: number): boolean {
  if (from >= path.length) return false;
  let segmentStart = from;
  for (let i = from; i <= path.length; i++) {
    const c = i < path.length ? path.charCodeAt(i) : SLASH;
    if (c !== SLASH) {
      if (!isSimplePathChar(c)) return false;
      continue;
    }
    const size = i - segmentStart;
    if (size === 0 && i < path.length) return false;
    if (size === 1 && path.charCodeAt(segmentStart) === DOT) return false;
    if (size === 2 && path.charCodeAt(segmentStart) === DOT && path.charCodeAt(segmentStart + 1) === DOT) return false;
    segmentStart = i + 1;
  }
  return true;
}

/** RFC 3986 unreserved characters and `/`: path text that URL parsing leaves exactly as is. */
function isSimplePathChar(c: number): boolean {
  return (
    (c >= 0x61 && c <= 0x7a) ||
    (c >= 0x41 && c <= 0x5a) ||
    (c >= 0x30 && c <= 0x39) ||
    c === 0x2d ||
    c === DOT ||
    c === 0x5f ||
    c === 0x7e ||
    c === SLASH
  );
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

/** Blanks around a URI (RFC 8216 allows none; trimmed for resolution, kept in the output). */
function isBlank(c: number): boolean {
  return c === SPACE || c === TAB;
}

function isWhitespace(c: number): boolean {
  return c === SPACE || c === TAB || c === LF || c === CR;
}
