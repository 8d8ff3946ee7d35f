/**
 * Gate path parsing (SPEC §5). Pure. Decides the playback ID and resource class of a request
 * path, and refuses anything that could reach the origin outside `/{P}` and `/{P}/`.
 */
import type { ResourceClass } from '../token/binding';

import { PLAYBACK_ID, PLAYBACK_ID_GRAMMAR } from '../config';

export { PLAYBACK_ID };

export type PathKind = 'multivariant' | 'dash-manifest' | 'child' | 'thumbnail' | 'gif' | 'storyboard';

export interface PlaybackPath {
  playbackId: string;
  /** The path to ask the origin for, exactly as received (percent-encoding kept), starting with `/`. */
  originPath: string;
  kind: PathKind;
  resourceClass: ResourceClass;
}

export type PathResult = { ok: true; path: PlaybackPath } | { ok: false; description: string };

// Threat: traversal or request smuggling to the origin. workerd collapses plain dot segments,
// but encoded separators, dots and controls survive into the path and an origin may decode them.
const FORBIDDEN_ENCODED = /%(2f|5c|2e|25|00|0[1-9a-f]|1[0-9a-f]|7f)/i;
// Unreserved, sub-delims, ':' '@' '/' and percent-escapes: anything else (raw controls, spaces,
// backslashes, non-ASCII) is refused.
const ALLOWED = /^[A-Za-z0-9\-._~!$&'()*+,;=:@/%]*$/;

/** Empty, or only dots and spaces. */
const DOT_LIKE = /^[. ]*$/;

const CHILD_CLASS: Array<[RegExp, PathKind, ResourceClass]> = [
  [/^thumbnail\.(jpg|png|webp)$/, 'thumbnail', 't'],
  [/^animated\.(gif|webp)$/, 'gif', 'g'],
  [/^(spritesheet\.(jpg|png|webp)|storyboard\.(vtt|json))$/, 'storyboard', 's'],
];

const BROKEN_ESCAPE = /%(?![0-9A-Fa-f]{2})/;

/**
 * Path text the gate refuses wherever it stands, before any resolution: backslashes, encoded
 * separators, dots, percent signs and control characters, broken percent-escapes. The playlist
 * rewriters apply it to a URI as written, since a player may resolve such text otherwise than
 * WHATWG `URL` does.
 */
export function hasForbiddenPathText(text: string): boolean {
  return text.includes('\\') || FORBIDDEN_ENCODED.test(text) || BROKEN_ESCAPE.test(text);
}

/**
 * The one path rule of the playlist rewriters (SPEC §5 "Child grants"): whether the gate would
 * serve `pathname` (a resolved URL's pathname) with a grant for `playbackId` — a path under
 * `/{playbackId}/` that {@link parsePlaybackPath} accepts, or, with `manifest`, the DASH
 * manifest `/{playbackId}.mpd` itself (its `Location`). A playlist grants exactly what this accepts.
 */
export function acceptsGrantedPath(pathname: string, playbackId: string, manifest = false): boolean {
  const parsed = parsePlaybackPath(pathname);
  // Playlists mint grants for class `v` only: a thumbnail path would refuse them anyway.
  if (!parsed.ok || parsed.path.playbackId !== playbackId || parsed.path.resourceClass !== 'v') return false;
  return parsed.path.kind === 'multivariant' ? false : parsed.path.kind === 'dash-manifest' ? manifest : true;
}

/** Parses a request pathname (as `new URL(request.url).pathname` gives it). */
export function parsePlaybackPath(pathname: string): PathResult {
  if (!ALLOWED.test(pathname)) return { ok: false, description: 'The path contains characters that are not allowed.' };
  if (FORBIDDEN_ENCODED.test(pathname)) return { ok: false, description: 'The path contains encoded separators, dots or control characters.' };
  if (!pathname.startsWith('/') || pathname.includes('//')) return { ok: false, description: 'The path contains an empty segment.' };
  const segments = pathname.slice(1).split('/');
  if (segments.some((segment) => segment === '.' || segment === '..')) return { ok: false, description: 'The path contains a dot segment.' };
  if (BROKEN_ESCAPE.test(pathname)) return { ok: false, description: 'The path contains a broken percent-escape.' };
  // Overlong or otherwise invalid UTF-8 escapes (%c0%ae is "." to a lax decoder): refused.
  if (pathname.includes('%')) {
    try {
      decodeURIComponent(pathname);
    } catch {
      return { ok: false, description: 'The path contains percent-escapes that are not valid UTF-8.' };
    }
  }

  // Threat: origins that resolve more than RFC 3986 dot segments. Tomcat and Jetty drop ";params"
  // from a segment ("..;" is ".."); Windows servers drop trailing dots and spaces ("...", ".. " are
  // ".."). A segment that is only dots and spaces once decoded and stripped of its parameters is refused.
  if (segments.some((segment) => DOT_LIKE.test(decodeURIComponent(segment).split(';')[0]!))) {
    return { ok: false, description: 'The path contains a segment that an origin could read as a dot segment.' };
  }

  const first = segments[0]!;
  if (segments.length === 1) {
    const match = /^(.+)\.(m3u8|mpd)$/.exec(first);
    if (!match || !PLAYBACK_ID.test(match[1]!)) {
      return { ok: false, description: 'Expected /{playbackId}.m3u8, /{playbackId}.mpd or /{playbackId}/{resource}.' };
    }
    const kind: PathKind = match[2] === 'm3u8' ? 'multivariant' : 'dash-manifest';
    return { ok: true, path: { playbackId: match[1]!, originPath: pathname, kind, resourceClass: 'v' } };
  }
  if (!PLAYBACK_ID.test(first)) return { ok: false, description: `The playback ID must match ${PLAYBACK_ID_GRAMMAR}.` };
  const rest = segments.slice(1);
  if (rest.some((segment) => segment === '')) return { ok: false, description: 'The path names no resource under the playback ID.' };
  if (rest.length === 1) {
    for (const [pattern, kind, resourceClass] of CHILD_CLASS) {
      if (pattern.test(rest[0]!)) return { ok: true, path: { playbackId: first, originPath: pathname, kind, resourceClass } };
    }
  }
  return { ok: true, path: { playbackId: first, originPath: pathname, kind: 'child', resourceClass: 'v' } };
}
