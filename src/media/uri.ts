/**
 * The URI forms a playlist may contain, shared by the HLS and DASH rewriters (SPEC §5 "Child
 * grants"). Pure. Which resolved paths get a grant is the gate's own rule (`acceptsGrantedPath`
 * of gate/path.ts), so a playlist grants exactly what the gate serves.
 */
import { PLAYBACK_ID } from '../config';
import { acceptsGrantedPath, hasForbiddenPathText } from '../gate/path';

export { acceptsGrantedPath, hasForbiddenPathText };

/** Context of one rewrite: where the playlist was served and what to attach. */
export interface RewriteContext {
  /** Absolute URL the playlist was requested at (as the client sees it, on the gate's host), e.g. https://gate.example/P.m3u8 or https://gate.example/P/v0/index.m3u8 */
  playlistUrl: URL;
  /** The playback ID; only URIs the gate would serve under `/${playbackId}/` on the same origin (scheme+host+port) as playlistUrl are rewritten. */
  playbackId: string;
  /** Query parameter name carrying the grant, e.g. "grant". */
  grantParam: string;
  /** Grant value to put in that parameter (already URL-safe: base64url and dots). */
  grant: string;
  /** Query parameters to strip from rewritten URIs (e.g. the JWT param "token") so a token never gets copied into child URIs. */
  stripParams?: readonly string[];
}

/** Grants are base64url segments joined by dots: safe in a URL and in XML without escaping. */
const GRANT_PATTERN = /^[A-Za-z0-9_.~-]+$/;
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f]/;

/** What every rewrite needs from a validated context. */
export interface Granting {
  /** `scheme://host[:port]` of the gate. */
  origin: string;
  playbackId: string;
  /**
   * `reference` with the grant as its last query parameter: the path (its first `pathEnd`
   * characters) and fragment kept as written, query pieces kept in order minus empty ones, an old
   * grant and the stripped parameters.
   */
  withGrant(reference: string, pathEnd: number): string;
}

/**
 * Validates a rewrite context once. Throws a `TypeError` when it is invalid (a programming error,
 * not a bad playlist); the message never contains the grant.
 */
export function granting(ctx: RewriteContext): Granting {
  const { playlistUrl, playbackId, grantParam, grant } = ctx;
  if (playlistUrl.protocol !== 'https:' && playlistUrl.protocol !== 'http:') throw new TypeError('playlistUrl must be an http(s) URL');
  if (!PLAYBACK_ID.test(playbackId)) throw new TypeError(`playbackId must match ${PLAYBACK_ID.source}`);
  if (grantParam.length === 0) throw new TypeError('grantParam must not be empty');
  if (!GRANT_PATTERN.test(grant)) throw new TypeError('grant must be URL-safe (base64url and dots)');
  const grantPair = `${encodeURIComponent(grantParam)}=${grant}`;
  // The old grant goes too, so that rewriting is idempotent and a URI never carries two grants.
  const dropped = new Set<string>(ctx.stripParams ?? []);
  dropped.add(grantParam);
  return {
    origin: playlistUrl.origin,
    playbackId,
    withGrant(reference, pathEnd) {
      const fragmentStart = reference.indexOf('#', pathEnd);
      const queryEnd = fragmentStart < 0 ? reference.length : fragmentStart;
      let query = '';
      if (pathEnd < queryEnd) {
        // reference[pathEnd] is '?'. Pieces are kept as written; empty ones carry nothing and go.
        for (const piece of reference.slice(pathEnd + 1, queryEnd).split('&')) {
          if (piece.length > 0 && !dropped.has(parameterName(piece))) query += `${piece}&`;
        }
      }
      return `${reference.slice(0, pathEnd)}?${query}${grantPair}${fragmentStart < 0 ? '' : reference.slice(fragmentStart)}`;
    },
  };
}

/** Where the path of a URI reference ends: its first `?` or `#`, or its length. */
export function endOfPath(reference: string): number {
  for (let i = 0; i < reference.length; i++) {
    const c = reference.charCodeAt(i);
    if (c === 0x3f || c === 0x23) return i;
  }
  return reference.length;
}

/**
 * Control characters (a lone CR, a tab or a line feed included) are line breaks to some players: a
 * URI holding one may be read as two, so it is never touched.
 */
export function hasControlCharacter(text: string): boolean {
  return CONTROL_CHARACTER.test(text);
}

/** The decoded name of one `name=value` query piece, as URLSearchParams reads it. */
export function parameterName(piece: string): string {
  const equals = piece.indexOf('=');
  const raw = equals < 0 ? piece : piece.slice(0, equals);
  if (!raw.includes('%') && !raw.includes('+')) return raw;
  // The leading '&' keeps URLSearchParams from eating a '?' that starts the name.
  for (const name of new URLSearchParams(`&${raw}`).keys()) return name;
  return raw;
}

/** The lower-cased scheme of a URI reference, or undefined when it is relative (RFC 3986 §3.1). */
export function schemeOf(path: string): string | undefined {
  const colon = path.indexOf(':');
  if (colon < 1) return undefined;
  for (let i = 0; i < colon; i++) {
    const c = path.charCodeAt(i);
    const letter = (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
    if (!letter && (i === 0 || !((c >= 0x30 && c <= 0x39) || c === 0x2b || c === 0x2d || c === 0x2e))) {
      return undefined; // a '/' or other character before the colon: a relative path
    }
  }
  return path.slice(0, colon).toLowerCase();
}

/**
 * Whether `reference`, resolved against `base`, is a URL the gate serves with a grant for the
 * playback ID: same origin, and a path {@link acceptsGrantedPath} accepts. Non-http(s) schemes
 * (`skd://`, `data:`) and text the gate refuses as written never are.
 */
export function resolvesToGate(reference: string, path: string, base: string, g: Granting, manifest = false): boolean {
  const scheme = schemeOf(path);
  if (scheme !== undefined && scheme !== 'http' && scheme !== 'https') return false;
  if (hasForbiddenPathText(path)) return false;
  let resolved: URL;
  try {
    resolved = new URL(reference, base);
  } catch {
    return false;
  }
  return resolved.origin === g.origin && acceptsGrantedPath(resolved.pathname, g.playbackId, manifest);
}
