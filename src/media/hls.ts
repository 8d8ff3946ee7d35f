/**
 * HLS playlist rewriting for child grants (SPEC §5 "Child grants"). Pure: no I/O, no Workers APIs
 * beyond the standard `URL` class.
 *
 * Every URI a player will fetch from a playlist — plain URI lines and the quoted URI-valued
 * attributes in {@link URI_ATTRIBUTES} — that resolves to a path the gate serves under
 * `/{playbackId}/` on its own origin (the gate's own path rule, `acceptsGrantedPath`) gets the
 * grant query parameter, so an ordinary player (hls.js, AVPlayer, ExoPlayer, Chromecast) carries
 * it on every child request without cookies or custom headers.
 *
 * Everything else is kept byte for byte: other hosts, other playback IDs, non-http(s) schemes
 * (`skd://`, `data:`), lines and tags without URIs, line endings, the BOM, whitespace. The
 * rewriter fails closed: when in doubt a URI is left untouched, which at worst makes one child
 * request be refused; it never attaches a grant to a URI the gate would not accept it for.
 */
import { acceptsGrantedPath, endOfPath, granting, hasControlCharacter, resolvesToGate, schemeOf, type RewriteContext } from './uri';

/**
 * The URI-valued attributes of each tag, quoted, naming a resource the player fetches (RFC 8216bis
 * §4.4; HLS interstitials; content steering). `EXT-X-STREAM-INF` has none: its URI is the next
 * line, handled as a URI line.
 */
const URI_ATTRIBUTES: ReadonlyMap<string, readonly string[]> = new Map([
  ['EXT-X-MEDIA', ['URI']],
  ['EXT-X-MAP', ['URI']],
  ['EXT-X-I-FRAME-STREAM-INF', ['URI']],
  ['EXT-X-KEY', ['URI']],
  ['EXT-X-SESSION-KEY', ['URI']],
  ['EXT-X-SESSION-DATA', ['URI']],
  ['EXT-X-PART', ['URI']],
  ['EXT-X-PRELOAD-HINT', ['URI']],
  ['EXT-X-RENDITION-REPORT', ['URI']],
  ['EXT-X-DATERANGE', ['X-ASSET-URI', 'X-ASSET-LIST']],
  ['EXT-X-CONTENT-STEERING', ['SERVER-URI']],
]);

const BOM = 0xfeff;
const TAB = 0x09;
const CR = 0x0d;
const SPACE = 0x20;
const QUOTE = 0x22;
const HASH = 0x23;
const COMMA = 0x2c;
const DOT = 0x2e;
const SLASH = 0x2f;
const EQUALS = 0x3d;
const BACKSLASH = 0x5c;

const TAG_PREFIX = '#EXT-X-';
/** Distinct `scheme://authority` prefixes remembered per playlist (anti-DoS: memory bound). */
const MAX_ORIGIN_DECISIONS = 64;

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
export function rewriteHlsPlaylist(text: string, ctx: RewriteContext): string {
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
  const names = colon < 0 ? undefined : URI_ATTRIBUTES.get(line.slice(start + 1, colon));
  if (names === undefined || !names.some((name) => line.includes(name, colon))) return undefined;

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
    const isUri = names.some((name) => isAttributeName(line, nameStart, i, name));
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
function uriRewriter(ctx: RewriteContext): UriRewriter {
  const g = granting(ctx);
  const { playlistUrl, playbackId } = ctx;
  const baseHref = playlistUrl.href;
  const baseOrigin = g.origin;
  const basePath = playlistUrl.pathname;
  const baseDirectory = basePath.slice(0, basePath.lastIndexOf('/') + 1);
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
    return isSimplePath(path, 0) ? baseDirectory + path : undefined;
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

  /** The one path rule (gate/path.ts), on the resolved path; the URL parser only when the text is not simple. */
  function isGranted(uri: string, path: string): boolean {
    const simple = simpleResolvedPath(path);
    if (simple !== undefined) return acceptsGrantedPath(simple, playbackId);
    const scheme = schemeOf(path);
    if (scheme !== undefined && scheme !== 'http' && scheme !== 'https') return false;
    const authorityPrefix = authorityPrefixOf(path, scheme);
    if (authorityPrefix !== undefined && !isGateOrigin(authorityPrefix)) return false;
    return resolvesToGate(uri, path, baseHref, g);
  }

  return (uri) => {
    if (hasControlCharacter(uri)) return undefined;
    const pathEnd = endOfPath(uri);
    // A fragment-only reference is the playlist itself, base query included (WHATWG URL): a
    // rewritten `?grant=…#f` would drop that query, and a player never fetches it anyway.
    if (pathEnd === 0 && uri.charCodeAt(0) === HASH) return undefined;
    if (!isGranted(uri, uri.slice(0, pathEnd))) return undefined;
    return g.withGrant(uri, pathEnd);
  };
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

/** Blanks around a URI (RFC 8216 allows none; trimmed for resolution, kept in the output). */
function isBlank(c: number): boolean {
  return c === SPACE || c === TAB;
}

