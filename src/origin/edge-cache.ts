/**
 * The edge cache (SPEC §5 "Edge cache", issue 14): Cloudflare's Cache API (`caches.default`) behind
 * the gate's decision, keyed on the token-free origin URL (origin/fetch.ts `originTarget`). The gate
 * asks it only for requests it has already authorized: it never decides who may watch, and a
 * revoked, expired or forged credential is refused before it is consulted.
 *
 * The Cache API is per data center and not tiered: each data center's first viewer of an object
 * costs one origin fetch. Its failures never refuse playback: a broken lookup is a miss, a failed
 * store is logged and forgotten. What may be kept, and for how long, is origin/cache-policy.ts.
 */
import { LIMITS } from '../config';
import { formatOfType } from '../media/sniff';
import { completeLength, edgeKeep, ifRangeHolds, storedCacheControl, type CachedKind, type EdgeKeep } from './cache-policy';
import { fetchFromOrigin, mediaHeaders, originRequestHeaders, PARTIAL_REQUEST_HEADERS, type OriginRequest } from './fetch';

type WaitUntil = (promise: Promise<unknown>) => void;

/** What the edge did for a request: served it, fetched and kept it, fetched it only, or was not asked (off, HEAD miss). */
export type CacheOutcome = 'hit' | 'stored' | 'miss' | 'bypass';

/** RFC 9211 Cache-Status values of gated answers, by outcome. */
export const CACHE_STATUS: Record<CacheOutcome, string> = {
  hit: 'signet; hit',
  stored: 'signet; fwd=miss; stored',
  miss: 'signet; fwd=miss',
  bypass: 'signet; fwd=bypass',
};

/**
 * One authorized request's way to its answer: from the edge, or from the origin — and then what
 * the origin sent is offered back to the edge, as media or, once read, as a playlist.
 */
export class EdgeFetch {
  outcome: CacheOutcome = 'bypass';

  constructor(
    private readonly edge: EdgeCache,
    private readonly origin: OriginRequest,
    private readonly request: Request,
    private readonly waitUntil: WaitUntil,
  ) {}

  /** The answer: the edge's when it has one, else the origin's (origin_error, origin_timeout as fetchFromOrigin). */
  async answer(): Promise<Response> {
    const kept = await this.edge.match(this.origin.target, this.request);
    if (kept) {
      this.outcome = 'hit';
      return kept;
    }
    if (this.edge.enabled && this.origin.method === 'GET') this.outcome = 'miss';
    return fetchFromOrigin(this.origin);
  }

  /** Media from the origin, offered to the edge: the response to stream (teed when kept). */
  keepMedia(media: Response): Response {
    if (this.outcome !== 'miss') return media;
    if (media.status === 206) {
      const whole = { ...this.origin, headers: originRequestHeaders(this.request, PARTIAL_REQUEST_HEADERS) };
      this.edge.fillAfterRange(this.origin.target, media, () => fetchFromOrigin(whole), this.waitUntil);
      return media;
    }
    const { response, outcome } = this.edge.keepMedia(this.origin.target, media, this.waitUntil);
    this.outcome = outcome;
    return response;
  }

  /** A playlist from the origin, as it sent it, offered to the edge once read and found valid. */
  keepPlaylist(origin: Response, text: string, finished: boolean): void {
    if (this.outcome === 'miss') this.outcome = this.edge.keepPlaylist(this.origin.target, origin, text, finished, this.waitUntil);
  }
}

export class EdgeCache {
  /** Keys whose whole object this isolate is fetching after a Range miss: one background fill per object. */
  private readonly filling = new Set<string>();

  /** `cache` null: off (EDGE_CACHE=off, or the origin is the worker's own static assets). */
  constructor(
    private readonly cache: Cache | null,
    private readonly defaultTtlSeconds: number,
    private readonly clock: () => number,
  ) {}

  get enabled(): boolean {
    return this.cache !== null;
  }

  /** The way to `origin`'s answer for one authorized request. */
  open(origin: OriginRequest, request: Request, waitUntil: WaitUntil): EdgeFetch {
    return new EdgeFetch(this, origin, request, waitUntil);
  }

  /**
   * The kept answer to `request` for `key`, or null on a miss. The Cache API answers `Range` (206,
   * or 416 when unsatisfiable), `If-None-Match` and `If-Modified-Since` (304) from the whole object
   * it keeps; `If-Range` is checked here, and a range whose condition fails gets the whole object.
   */
  async match(key: string, request: Request): Promise<Response | null> {
    if (!this.cache) return null;
    const headers = new Headers();
    for (const name of ['If-None-Match', 'If-Modified-Since']) {
      const value = request.headers.get(name);
      if (value !== null) headers.set(name, value);
    }
    const range = request.headers.get('Range');
    const ifRange = request.headers.get('If-Range');
    try {
      if (range !== null && ifRange === null) headers.set('Range', range);
      const kept = await this.cache.match(new Request(key, { headers }));
      if (!kept || range === null || ifRange === null || kept.status !== 200) return kept ?? null;
      if (!ifRangeHolds(ifRange, kept.headers.get('ETag'), kept.headers.get('Last-Modified'))) return kept;
      await kept.body?.cancel();
      headers.set('Range', range);
      return (await this.cache.match(new Request(key, { headers }))) ?? null;
    } catch (error) {
      logCacheFailure('match', error);
      return null;
    }
  }

  /**
   * Keeps an origin media answer the policy allows: the returned response streams to the viewer
   * while the same bytes are stored (the body is teed, never buffered). Otherwise `origin` itself.
   */
  keepMedia(key: string, origin: Response, waitUntil: WaitUntil): { response: Response; outcome: CacheOutcome } {
    if (!this.cache) return { response: origin, outcome: 'bypass' };
    const keep = edgeKeep(origin, 'media', this.defaultTtlSeconds, this.clock());
    // Teed only with a known length within the fill bound: a slow viewer's unread half is buffered in
    // the isolate while the store reads at the origin's pace, so that buffer must stay small.
    if (!keep.keep || !origin.body || !teeable(origin.headers)) return { response: origin, outcome: 'miss' };
    const [viewer, kept] = origin.body.tee();
    waitUntil(this.put(key, new Response(kept, { status: 200, headers: storedHeaders(origin, keep) })));
    return { response: new Response(viewer, { status: origin.status, headers: origin.headers }), outcome: 'stored' };
  }

  /**
   * Keeps a playlist as the origin sent it (before any rewriting: a rewritten answer carries grants
   * and is never stored): a VOD playlist as its origin allows or for the default lifetime, a live
   * one only within the origin's own max-age.
   */
  keepPlaylist(key: string, origin: Response, text: string, vod: boolean, waitUntil: WaitUntil): CacheOutcome {
    if (!this.cache) return 'bypass';
    const kind: CachedKind = vod ? 'vod-playlist' : 'live-playlist';
    const keep = edgeKeep(origin, kind, this.defaultTtlSeconds, this.clock());
    if (!keep.keep) return 'miss';
    const headers = storedHeaders(origin, keep);
    headers.delete('Content-Length'); // the text's own length (a decoded body, re-encoded)
    headers.delete('Content-Encoding');
    waitUntil(this.put(key, new Response(text, { status: 200, headers })));
    return 'stored';
  }

  /**
   * After a Range miss the origin answered `partial` (206): when its headers allow keeping the
   * object and its complete length is at most LIMITS.edgeCacheFillMaxBytes, fetch the whole object
   * once, in the background, and keep it, so later ranges come from the edge. `fetchWhole` asks
   * the origin for the object without the Range and conditional headers.
   */
  fillAfterRange(key: string, partial: Response, fetchWhole: () => Promise<Response>, waitUntil: WaitUntil): void {
    if (!this.cache || this.filling.has(key)) return;
    const length = completeLength(partial.headers.get('Content-Range'));
    if (length === undefined || length > LIMITS.edgeCacheFillMaxBytes) return;
    // Media only: a playlist asked for by range (or one sent with a generic type) is never kept as
    // media — a live one would be frozen at the edge for the default lifetime.
    if (formatOfType(partial.headers.get('Content-Type')) !== 'media' || partial.headers.get('Content-Encoding') !== null) return;
    // The 206's headers describe the same object: if they forbid keeping it, the whole one would too.
    if (!edgeKeep({ status: 200, headers: partial.headers }, 'media', this.defaultTtlSeconds, this.clock()).keep) return;
    this.filling.add(key);
    const fill = async () => {
      try {
        const whole = await fetchWhole();
        const keep = edgeKeep(whole, 'media', this.defaultTtlSeconds, this.clock());
        if (!keep.keep || !whole.body || !teeable(whole.headers)) {
          await whole.body?.cancel();
          return;
        }
        await this.put(key, new Response(whole.body, { status: 200, headers: storedHeaders(whole, keep) }));
      } catch (error) {
        logCacheFailure('fill', error);
      } finally {
        this.filling.delete(key);
      }
    };
    waitUntil(fill());
  }

  private async put(key: string, response: Response): Promise<void> {
    try {
      await this.cache!.put(new Request(key), response);
    } catch (error) {
      logCacheFailure('put', error);
    }
  }
}

/** The headers an answer is kept with: its media headers, the edge lifetime, no Age or Expires (the lifetime says it). */
function storedHeaders(origin: Response, keep: Extract<EdgeKeep, { keep: true }>): Headers {
  const headers = mediaHeaders(origin);
  headers.set('Cache-Control', storedCacheControl(origin.headers.get('Cache-Control'), keep));
  headers.delete('Age');
  headers.delete('Expires');
  return headers;
}

/**
 * Whether media may be kept as it streams: its length is known and within LIMITS.edgeCacheFillMaxBytes,
 * and it is not content-encoded (the body a Worker reads is decoded; its length header is not).
 */
function teeable(headers: Headers): boolean {
  const length = headers.get('Content-Length');
  return length !== null && /^\d+$/.test(length) && Number(length) <= LIMITS.edgeCacheFillMaxBytes && headers.get('Content-Encoding') === null;
}

/** A cache failure is logged by its kind only: the key is a media URL, which stays out of the log. */
function logCacheFailure(operation: 'match' | 'put' | 'fill', error: unknown): void {
  console.error(JSON.stringify({ event: 'edge_cache_error', operation, error: error instanceof Error ? error.name : 'unknown' }));
}
