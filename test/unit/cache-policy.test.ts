/**
 * Issue 14: the pure decisions of the edge cache (src/origin/cache-policy.ts) and of what counts as
 * a finished presentation (src/media/sniff.ts), as tables of cases and properties.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LIMITS } from '../../src/config';
import { isFinishedPresentation } from '../../src/media/sniff';
import { completeLength, edgeKeep, ifRangeHolds, parseCacheControl, storedCacheControl, viewerCacheControl, type CachedKind } from '../../src/origin/cache-policy';

const NOW = Date.parse('2026-12-01T12:00:00Z'); // calendar-safe: passed as `now` to pure decisions; nothing here meets the real clock
const DAY = 86_400;
const answer = (headers: Record<string, string>, status = 200) => ({ status, headers: new Headers(headers) });

describe('parseCacheControl', () => {
  it.each<[string | null, ReturnType<typeof parseCacheControl>]>([
    [null, { noStore: false, noCache: false, private: false }],
    ['', { noStore: false, noCache: false, private: false }],
    ['public, max-age=31536000, immutable', { noStore: false, noCache: false, private: false, maxAge: 31_536_000 }],
    ['Max-Age=60, S-MAXAGE=600', { noStore: false, noCache: false, private: false, maxAge: 60, sMaxAge: 600 }],
    ['max-age="30"', { noStore: false, noCache: false, private: false, maxAge: 30 }],
    ['max-age=soon', { noStore: false, noCache: false, private: false, maxAge: 0 }],
    ['max-age=-5', { noStore: false, noCache: false, private: false, maxAge: 0 }],
    ['private="Set-Cookie", max-age=60', { noStore: false, noCache: false, private: true, maxAge: 60 }],
    ['no-cache="Set-Cookie"', { noStore: false, noCache: true, private: false }],
    [' no-store ,no-cache', { noStore: true, noCache: true, private: false }],
  ])('%j', (value, expected) => {
    expect(parseCacheControl(value)).toEqual(expected);
  });
});

describe('edgeKeep: whether the edge may keep an origin answer, and for how long', () => {
  // [case, status, headers, kind, expected]
  it.each<[string, number, Record<string, string>, CachedKind, ReturnType<typeof edgeKeep>]>([
    ['max-age', 200, { 'Cache-Control': 'public, max-age=600' }, 'media', { keep: true, ttlSeconds: 600, defaulted: false }],
    ['s-maxage wins over max-age', 200, { 'Cache-Control': 'max-age=10, s-maxage=600' }, 'media', { keep: true, ttlSeconds: 600, defaulted: false }],
    ['Age is subtracted', 200, { 'Cache-Control': 'max-age=600', Age: '100' }, 'media', { keep: true, ttlSeconds: 500, defaulted: false }],
    ['older than its max-age', 200, { 'Cache-Control': 'max-age=600', Age: '600' }, 'media', { keep: false, why: 'stale' }],
    ['max-age=0', 200, { 'Cache-Control': 'max-age=0' }, 'vod-playlist', { keep: false, why: 'stale' }],
    ['Expires against Date', 200, { Expires: 'Tue, 01 Dec 2026 13:00:00 GMT', Date: 'Tue, 01 Dec 2026 12:00:00 GMT' }, 'media', { keep: true, ttlSeconds: 3600, defaulted: false }],
    ['Expires against now without Date', 200, { Expires: 'Tue, 01 Dec 2026 12:10:00 GMT' }, 'media', { keep: true, ttlSeconds: 600, defaulted: false }],
    ['unreadable Expires', 200, { Expires: '0' }, 'media', { keep: false, why: 'stale' }],
    ['max-age wins over Expires', 200, { 'Cache-Control': 'max-age=5', Expires: 'Tue, 01 Dec 2026 13:00:00 GMT' }, 'media', { keep: true, ttlSeconds: 5, defaulted: false }],
    ['no lifetime: media gets the default', 200, {}, 'media', { keep: true, ttlSeconds: DAY, defaulted: true }],
    ['no lifetime: a VOD playlist gets the default', 200, { 'Cache-Control': 'public' }, 'vod-playlist', { keep: true, ttlSeconds: DAY, defaulted: true }],
    ['no lifetime: a live playlist is not kept', 200, {}, 'live-playlist', { keep: false, why: 'live-without-max-age' }],
    ['a live playlist within its max-age', 200, { 'Cache-Control': 'max-age=1' }, 'live-playlist', { keep: true, ttlSeconds: 1, defaulted: false }],
    ['partial answer', 206, { 'Cache-Control': 'max-age=600' }, 'media', { keep: false, why: 'status' }],
    ['not modified', 304, { 'Cache-Control': 'max-age=600' }, 'media', { keep: false, why: 'status' }],
    ['not found', 404, { 'Cache-Control': 'max-age=600' }, 'media', { keep: false, why: 'status' }],
    ['no-store', 200, { 'Cache-Control': 'no-store, max-age=600' }, 'media', { keep: false, why: 'no-store' }],
    ['private', 200, { 'Cache-Control': 'private, max-age=600' }, 'media', { keep: false, why: 'private' }],
    ['no-cache', 200, { 'Cache-Control': 'no-cache, max-age=600' }, 'media', { keep: false, why: 'no-cache' }],
    ['Set-Cookie', 200, { 'Cache-Control': 'max-age=600', 'Set-Cookie': 'a=b' }, 'media', { keep: false, why: 'set-cookie' }],
    ['Vary: Accept-Encoding is fine', 200, { 'Cache-Control': 'max-age=600', Vary: 'Accept-Encoding' }, 'media', { keep: true, ttlSeconds: 600, defaulted: false }],
    ['Vary: User-Agent', 200, { 'Cache-Control': 'max-age=600', Vary: 'accept-encoding, User-Agent' }, 'media', { keep: false, why: 'vary' }],
    ['Vary: *', 200, { 'Cache-Control': 'max-age=600', Vary: '*' }, 'media', { keep: false, why: 'vary' }],
    ['over the per-object limit', 200, { 'Cache-Control': 'max-age=600', 'Content-Length': String(LIMITS.edgeCacheMaxObjectBytes + 1) }, 'media', { keep: false, why: 'too-large' }],
    ['at the per-object limit', 200, { 'Cache-Control': 'max-age=600', 'Content-Length': String(LIMITS.edgeCacheMaxObjectBytes) }, 'media', { keep: true, ttlSeconds: 600, defaulted: false }],
  ])('%s', (_case, status, headers, kind, expected) => {
    expect(edgeKeep(answer(headers, status), kind, DAY, NOW)).toEqual(expected);
  });

  it('keeps nothing for a default lifetime of 0 (EDGE_CACHE_TTL_SECONDS=0): only what the origin names', () => {
    expect(edgeKeep(answer({}), 'media', 0, NOW)).toEqual({ keep: false, why: 'stale' });
    expect(edgeKeep(answer({ 'Cache-Control': 'max-age=9' }), 'media', 0, NOW)).toEqual({ keep: true, ttlSeconds: 9, defaulted: false });
  });

  it('never keeps what the origin forbids, whatever else it says (property)', () => {
    const forbidding = fc.constantFrom('no-store', 'private', 'no-cache', 'PRIVATE="x"');
    const other = fc.array(fc.constantFrom('public', 'max-age=600', 's-maxage=60', 'immutable', 'must-revalidate'), { maxLength: 4 });
    fc.assert(
      fc.property(forbidding, other, fc.nat(), fc.constantFrom<CachedKind>('media', 'vod-playlist', 'live-playlist'), (forbid, rest, at, kind) => {
        const parts: string[] = [...rest];
        parts.splice(at % (rest.length + 1), 0, forbid);
        return !edgeKeep(answer({ 'Cache-Control': parts.join(', ') }), kind, DAY, NOW).keep;
      }),
    );
  });
});

describe('storedCacheControl', () => {
  it('stores the edge lifetime as s-maxage (the origin lifetime less its Age, or the default) and keeps the origin max-age for viewers', () => {
    expect(storedCacheControl('public, max-age=60', { keep: true, ttlSeconds: 60, defaulted: false })).toBe('max-age=60, s-maxage=60');
    // max-age=600 with Age: 590 leaves the edge 10 s, not 600 again
    const aged = edgeKeep(answer({ 'Cache-Control': 'public, max-age=600', Age: '590' }), 'media', DAY, NOW);
    expect(aged.keep && storedCacheControl('public, max-age=600', aged)).toBe('max-age=600, s-maxage=10');
    expect(storedCacheControl(null, { keep: true, ttlSeconds: DAY, defaulted: true })).toBe(`s-maxage=${DAY}`);
    expect(storedCacheControl('public', { keep: true, ttlSeconds: DAY, defaulted: true })).toBe(`s-maxage=${DAY}`);
    // What was stored decides the same again on a later look (the edge's own TTL).
    expect(edgeKeep(answer({ 'Cache-Control': storedCacheControl(null, { keep: true, ttlSeconds: DAY, defaulted: true })! }), 'live-playlist', 0, NOW)).toEqual({ keep: true, ttlSeconds: DAY, defaulted: false });
  });
});

describe('viewerCacheControl: every gated answer is private, bounded by the origin and the credential', () => {
  const now = 1_800_000_000;
  it.each<[string | null, number, string]>([
    ['public, max-age=31536000, immutable', now + 600, 'private, max-age=600'],
    ['public, max-age=2', now + 600, 'private, max-age=2'],
    ['s-maxage=600', now + 600, 'private, max-age=0'],
    [null, now + 600, 'private, max-age=0'],
    ['no-cache, max-age=60', now + 600, 'private, max-age=0'],
    ['no-store', now + 600, 'private, no-store'],
    ['max-age=60', now - 5, 'private, max-age=0'],
  ])('%j with %i s left', (origin, exp, expected) => {
    expect(viewerCacheControl(origin, exp, now)).toBe(expected);
  });

  it('never lets a viewer keep an answer past its credential, nor past the origin (property)', () => {
    fc.assert(
      fc.property(fc.nat(10 * 365 * DAY), fc.integer({ min: -DAY, max: 10 * DAY }), (originMaxAge, left) => {
        const value = viewerCacheControl(`public, max-age=${originMaxAge}`, now + left, now);
        const maxAge = Number(/^private, max-age=(\d+)$/.exec(value)![1]);
        return maxAge <= Math.max(0, left) && maxAge <= originMaxAge;
      }),
    );
  });
});

describe('ifRangeHolds (RFC 9110 §13.1.5)', () => {
  const etag = '"abc"';
  const lastModified = 'Sat, 01 Nov 2026 00:00:00 GMT';
  it.each<[string, string | null, string | null, boolean]>([
    ['"abc"', etag, lastModified, true],
    ['"abd"', etag, lastModified, false],
    ['W/"abc"', etag, lastModified, false],
    ['"abc"', 'W/"abc"', lastModified, false],
    ['"abc"', null, lastModified, false],
    [lastModified, etag, lastModified, true],
    ['Sun, 02 Nov 2026 00:00:00 GMT', etag, lastModified, false],
    [lastModified, etag, null, false],
    ['yesterday', etag, lastModified, false],
  ])('If-Range %j against ETag %j, Last-Modified %j', (ifRange, stored, modified, holds) => {
    expect(ifRangeHolds(ifRange, stored, modified)).toBe(holds);
  });
});

describe('completeLength', () => {
  it.each<[string | null, number | undefined]>([
    ['bytes 0-99/65536', 65_536],
    ['bytes 100-199/200', 200],
    ['bytes 0-99/*', undefined],
    ['bytes */65536', undefined],
    [null, undefined],
    ['items 0-1/2', undefined],
  ])('%j', (value, expected) => {
    expect(completeLength(value)).toBe(expected);
  });
});

describe('isFinishedPresentation', () => {
  it.each<['hls' | 'dash', string, boolean]>([
    ['hls', '#EXTM3U\n#EXTINF:2,\nseg0.ts\n#EXT-X-ENDLIST\n', true],
    ['hls', '#EXTM3U\r\n#EXTINF:2,\r\nseg0.ts\r\n#EXT-X-ENDLIST\r\n', true],
    ['hls', '#EXTM3U\n#EXTINF:2,\nseg0.ts\n#EXT-X-ENDLIST', true],
    ['hls', '#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:7\n#EXTINF:2,\nseg7.ts\n', false],
    ['hls', '#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\nv0.m3u8\n', false],
    ['hls', '#EXTM3U\n#EXT-X-ENDLIST-NOT\nseg.ts\n', false],
    ['hls', '#EXTM3U\nseg-#EXT-X-ENDLIST.ts\n', false],
    ['dash', '<?xml version="1.0"?><MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static">', true],
    ['dash', '<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" mediaPresentationDuration="PT8S">', true],
    ['dash', "<MPD type='dynamic' availabilityStartTime=\"2026-01-01T00:00:00Z\">", false],
    ['dash', '<mpd:MPD xmlns:mpd="urn:mpeg:dash:schema:mpd:2011" type="dynamic">', false],
    ['dash', 'not a manifest', false],
  ])('%s %j', (format, text, finished) => {
    expect(isFinishedPresentation(format, text)).toBe(finished);
  });
});
