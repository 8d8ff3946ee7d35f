/**
 * What the caches may keep (SPEC §5 "Edge cache", issue 14), as pure decisions on headers: whether
 * the edge may keep an origin answer and for how long, what a viewer's private cache may keep of a
 * gated answer, and whether a Range request's If-Range still holds. origin/edge-cache.ts does the
 * I/O around them; nothing here decides who may watch.
 */
import { LIMITS } from '../config';

/** The Cache-Control directives the caches act on (RFC 9111 §5.2.2). */
export interface CacheDirectives {
  noStore: boolean;
  noCache: boolean;
  private: boolean;
  /** Seconds; an unreadable value counts as 0 (stale), as RFC 9111 §1.2.2 asks. */
  maxAge?: number;
  sMaxAge?: number;
}

export function parseCacheControl(value: string | null): CacheDirectives {
  const directives: CacheDirectives = { noStore: false, noCache: false, private: false };
  if (!value) return directives;
  for (const part of value.split(',')) {
    const equals = part.indexOf('=');
    const name = (equals < 0 ? part : part.slice(0, equals)).trim().toLowerCase();
    const argument = equals < 0 ? undefined : part.slice(equals + 1).trim().replace(/^"(.*)"$/, '$1');
    const seconds = () => (argument !== undefined && /^\d{1,10}$/.test(argument) ? Number(argument) : 0);
    // `private="Set-Cookie"` and `no-cache="…"` (field-name forms) count as the whole directive: stricter, never looser.
    if (name === 'no-store') directives.noStore = true;
    else if (name === 'no-cache') directives.noCache = true;
    else if (name === 'private') directives.private = true;
    else if (name === 'max-age') directives.maxAge = seconds();
    else if (name === 's-maxage') directives.sMaxAge = seconds();
  }
  return directives;
}

/** What an answer is, for how long the edge may keep it without the origin saying so. */
export type CachedKind = 'media' | 'vod-playlist' | 'live-playlist';

/** Why the edge did not keep an origin answer (for the decision log and the tests). */
export type NotKept = 'status' | 'no-store' | 'private' | 'no-cache' | 'set-cookie' | 'vary' | 'too-large' | 'stale' | 'live-without-max-age';

export type EdgeKeep = { keep: true; ttlSeconds: number; defaulted: boolean } | { keep: false; why: NotKept };

interface Answer {
  status: number;
  headers: { get(name: string): string | null };
}

/**
 * Whether the edge may keep `answer` (an origin's 200 for `kind`), and for how long: the origin's
 * `s-maxage`, `max-age` or `Expires` less its `Age`; else `defaultTtlSeconds` for media and VOD
 * playlists, and nothing for a live playlist (it changes every target duration). Never an error,
 * a partial answer, `no-store`, `private`, `no-cache`, a `Set-Cookie` answer, one that varies on
 * more than its encoding, or one over the platform's per-object limit.
 */
export function edgeKeep(answer: Answer, kind: CachedKind, defaultTtlSeconds: number, nowMs: number): EdgeKeep {
  const { headers } = answer;
  if (answer.status !== 200) return { keep: false, why: 'status' };
  if (headers.get('Set-Cookie') !== null) return { keep: false, why: 'set-cookie' };
  const directives = parseCacheControl(headers.get('Cache-Control'));
  if (directives.noStore) return { keep: false, why: 'no-store' };
  if (directives.private) return { keep: false, why: 'private' };
  if (directives.noCache) return { keep: false, why: 'no-cache' };
  const vary = headers.get('Vary');
  if (vary !== null && vary.split(',').some((field) => field.trim() !== '' && field.trim().toLowerCase() !== 'accept-encoding')) return { keep: false, why: 'vary' };
  if (Number(headers.get('Content-Length') ?? 0) > LIMITS.edgeCacheMaxObjectBytes) return { keep: false, why: 'too-large' };

  const explicit = directives.sMaxAge ?? directives.maxAge ?? expiresIn(headers, nowMs);
  if (explicit === undefined) {
    if (kind === 'live-playlist') return { keep: false, why: 'live-without-max-age' };
    return defaultTtlSeconds > 0 ? { keep: true, ttlSeconds: defaultTtlSeconds, defaulted: true } : { keep: false, why: 'stale' };
  }
  const age = Number(headers.get('Age') ?? 0);
  const ttlSeconds = explicit - (Number.isFinite(age) && age > 0 ? Math.floor(age) : 0);
  return ttlSeconds > 0 ? { keep: true, ttlSeconds, defaulted: false } : { keep: false, why: 'stale' };
}

/** Seconds left by `Expires` (against the origin's `Date`, else now); an unreadable Expires is already stale. */
function expiresIn(headers: Answer['headers'], nowMs: number): number | undefined {
  const expires = headers.get('Expires');
  if (expires === null) return undefined;
  const at = Date.parse(expires);
  if (!Number.isFinite(at)) return 0;
  const date = Date.parse(headers.get('Date') ?? '');
  return Math.floor((at - (Number.isFinite(date) ? date : nowMs)) / 1000);
}

/**
 * The Cache-Control a kept answer is stored with: `s-maxage` of the edge lifetime edgeKeep decided
 * (the origin's lifetime less its `Age`, or the default), and the origin's `max-age`, which still
 * bounds what a viewer is told on a hit. The stored answer carries no `Age` or `Expires`.
 */
export function storedCacheControl(originCacheControl: string | null, keep: Extract<EdgeKeep, { keep: true }>): string {
  const { maxAge } = parseCacheControl(originCacheControl);
  return maxAge === undefined ? `s-maxage=${keep.ttlSeconds}` : `max-age=${maxAge}, s-maxage=${keep.ttlSeconds}`;
}

/**
 * The Cache-Control of every gated answer: `private`, so no shared cache in front of the gate can
 * serve it without the gate, and a max-age no longer than the origin's nor than the credential
 * the answer was authorized by (`credentialExp`, epoch seconds) has left.
 */
export function viewerCacheControl(originCacheControl: string | null, credentialExp: number, nowSeconds: number): string {
  const directives = parseCacheControl(originCacheControl);
  if (directives.noStore) return 'private, no-store';
  const left = Math.max(0, Math.floor(credentialExp - nowSeconds));
  return `private, max-age=${directives.noCache ? 0 : Math.min(directives.maxAge ?? 0, left)}`;
}

/**
 * RFC 9110 §13.1.5: whether a Range request's `If-Range` holds for a stored answer, i.e. the range
 * may be answered from it. An entity tag must match the stored strong ETag; a date must equal the
 * stored Last-Modified. Anything else answers the whole object.
 */
export function ifRangeHolds(ifRange: string, etag: string | null, lastModified: string | null): boolean {
  const condition = ifRange.trim();
  if (condition.startsWith('"')) return etag !== null && !etag.startsWith('W/') && etag.trim() === condition;
  if (condition.startsWith('W/')) return false;
  const date = Date.parse(condition);
  return lastModified !== null && Number.isFinite(date) && Date.parse(lastModified) === date;
}

/** The complete length of the object a `Content-Range: bytes a-b/total` describes; undefined for `*` or anything unreadable. */
export function completeLength(contentRange: string | null): number | undefined {
  const match = /^bytes \d+-\d+\/(\d+)$/.exec(contentRange?.trim() ?? '');
  return match ? Number(match[1]) : undefined;
}
