/**
 * Stream layouts (issue 12, SPEC §5 "What is a playlist"): a playlist is what the origin answers
 * as one — an HLS or DASH media type, or a body that starts like one — wherever it sits under
 * `/{P}/`, and its URIs are granted from its own location. Each case places a file on the real
 * loopback origin, plays it through the gate with a token, and follows what the gate granted.
 */
import { describe, expect, it } from 'vitest';
import { createKey, fastpixToken, originSaw, placeOnOrigin, play, playbackId, refusal, type CreatedKey } from '../support/helpers';

let signingKey: CreatedKey | undefined;
const key = async () => (signingKey ??= await createKey('ES256'));

const MEDIA_PLAYLIST = ['#EXTM3U', '#EXT-X-VERSION:7', '#EXT-X-TARGETDURATION:2', '#EXT-X-MAP:URI="init.mp4"', '#EXTINF:2.000,', 'seg0.m4s', '#EXTINF:2.000,', 'seg1.m4s', '#EXT-X-ENDLIST', ''].join('\n');
const MPD = `<?xml version="1.0" encoding="UTF-8"?>
<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static" mediaPresentationDuration="PT4S" minBufferTime="PT2S" profiles="urn:mpeg:dash:profile:isoff-live:2011">
  <Period id="0">
    <AdaptationSet mimeType="video/mp4">
      <SegmentTemplate timescale="1000" duration="2000" startNumber="1" initialization="$RepresentationID$/init.mp4" media="$RepresentationID$/seg-$Number%05d$.m4s"/>
      <Representation id="v360" bandwidth="400000" codecs="avc1.64001e" width="640" height="360"/>
    </AdaptationSet>
  </Period>
</MPD>
`;

/** The granted references of a served playlist: URI lines and URI="…" of HLS, media/initialization of the MPD. */
function references(text: string): string[] {
  // The one Representation (v360) and its first segment, as a player substitutes the template.
  const substituted = (template: string) => template.replace('$RepresentationID$', 'v360').replace('$Number%05d$', '00001');
  if (text.includes('<MPD')) return [...text.matchAll(/(?:media|initialization)="([^"]*)"/g)].map((m) => substituted(m[1]!));
  return text.split('\n').flatMap((line) => (line.startsWith('#') ? [...line.matchAll(/URI="([^"]*)"/g)].map((m) => m[1]!) : line.trim() ? [line.trim()] : []));
}

interface Layout {
  name: string;
  /** Where the playlist sits, under `/{P}`. */
  at: string;
  body: string;
  type: string;
  /** The media type the gate answers with. */
  answers: string;
  /** Paths (under /{P}) the granted references resolve to; the first is followed through the gate. */
  resolves: string[];
}

const LAYOUTS: Layout[] = [
  { name: 'an extensionless child playlist (…/playlist) with an HLS media type', at: '/v0/playlist', body: MEDIA_PLAYLIST, type: 'application/vnd.apple.mpegurl', answers: 'application/vnd.apple.mpegurl', resolves: ['/v0/init.mp4', '/v0/seg0.m4s', '/v0/seg1.m4s'] },
  { name: 'a .m3u child playlist served as audio/mpegurl', at: '/v0/prog_index.m3u', body: MEDIA_PLAYLIST, type: 'audio/mpegurl', answers: 'audio/mpegurl', resolves: ['/v0/init.mp4', '/v0/seg0.m4s', '/v0/seg1.m4s'] },
  { name: "LL-HLS's waitForMSN.php served as text/plain (the body decides)", at: '/ll/waitForMSN.php', body: MEDIA_PLAYLIST, type: 'text/plain', answers: 'application/vnd.apple.mpegurl', resolves: ['/ll/init.mp4', '/ll/seg0.m4s', '/ll/seg1.m4s'] },
  { name: 'an extensionless playlist with no media type (the body decides)', at: '/v1/chunklist', body: MEDIA_PLAYLIST, type: '', answers: 'application/vnd.apple.mpegurl', resolves: ['/v1/init.mp4', '/v1/seg0.m4s', '/v1/seg1.m4s'] },
  { name: 'a .m3u8 the origin mislabels as video/mp2t (the extension asks, the body decides)', at: '/v2/index.m3u8', body: MEDIA_PLAYLIST, type: 'video/mp2t', answers: 'application/vnd.apple.mpegurl', resolves: ['/v2/init.mp4', '/v2/seg0.m4s', '/v2/seg1.m4s'] },
  { name: 'a DASH manifest beside its segments (/{P}/manifest.mpd), relative to its own location', at: '/manifest.mpd', body: MPD, type: 'application/dash+xml', answers: 'application/dash+xml', resolves: ['/v360/init.mp4', '/v360/seg-00001.m4s'] },
  { name: 'a DASH manifest two levels down served as application/xml', at: '/a/b/stream.mpd', body: MPD, type: 'application/xml', answers: 'application/dash+xml', resolves: ['/a/b/v360/init.mp4', '/a/b/v360/seg-00001.m4s'] },
  { name: 'an extensionless DASH manifest with a UTF-8 BOM and no media type', at: '/dash/manifest', body: `\uFEFF${MPD}`, type: '', answers: 'application/dash+xml', resolves: ['/dash/v360/init.mp4', '/dash/v360/seg-00001.m4s'] },
];

describe('playlists are recognised by what the origin answers, wherever they sit under /{P}/', () => {
  it.each(LAYOUTS.map((layout) => [layout.name, layout] as const))('%s', async (_name, layout) => {
    const p = playbackId('layout');
    await placeOnOrigin(`/${p}${layout.at}`, layout.body, layout.type);
    const token = await fastpixToken(await key(), p);
    const served = await play(`/${p}${layout.at}?token=${token}`);
    expect(served.status).toBe(200);
    expect(served.headers.get('Content-Type')).toBe(layout.answers);
    expect(served.headers.get('Cache-Control')).toMatch(/^private, max-age=\d+$/);
    const text = await served.text();
    const base = `https://gate.test/${p}${layout.at}`;
    const granted = references(text).map((reference) => new URL(reference, base));
    expect(granted.map((url) => url.pathname)).toEqual(layout.resolves.map((path) => `/${p}${path}`));
    for (const url of granted) expect(url.searchParams.getAll('grant')).toHaveLength(1);
    // What was granted plays, and reaches the origin with neither grant nor token.
    const first = granted[0]!;
    const segment = await play(first.pathname + first.search);
    expect(segment.status).toBe(200);
    await segment.arrayBuffer();
    const seen = await originSaw(first.pathname);
    expect(seen.length).toBeGreaterThan(0);
    for (const request of seen) expect(request.url).not.toMatch(/[?&](grant|token)=/);
  });

  it('answers HEAD of a sniffed child playlist with the playlist media type and no stale length', async () => {
    const p = playbackId('layout');
    await placeOnOrigin(`/${p}/v0/playlist`, MEDIA_PLAYLIST, 'application/vnd.apple.mpegurl');
    const served = await play(`/${p}/v0/playlist?token=${await fastpixToken(await key(), p)}`, { method: 'HEAD' });
    expect(served.status).toBe(200);
    expect(served.headers.get('Content-Type')).toBe('application/vnd.apple.mpegurl');
    expect(served.headers.get('Content-Length')).toBeNull();
  });
});

describe('media is streamed byte for byte, whatever generic type it comes with', () => {
  const bytes = new Uint8Array(70_000).map((_, i) => (i * 31 + 7) & 0xff); // starts with 0x07: no text

  it.each([
    ['application/octet-stream', 'seg.bin'],
    ['', 'seg'],
    ['binary/octet-stream', 'seg.m4s'],
    ['text/plain', 'caption.txt'],
  ])('a %s answer at …/%s (read past the first chunk, never rewritten)', async (type, name) => {
    const p = playbackId('layout');
    await placeOnOrigin(`/${p}/v0/${name}`, bytes, type);
    const token = await fastpixToken(await key(), p);
    const whole = await play(`/${p}/v0/${name}?token=${token}`);
    expect(whole.status).toBe(200);
    expect(new Uint8Array(await whole.arrayBuffer())).toEqual(bytes);
    const range = await play(`/${p}/v0/${name}?token=${token}`, { headers: { Range: 'bytes=100-199' } });
    expect(range.status).toBe(206);
    expect(range.headers.get('Content-Range')).toBe(`bytes 100-199/${bytes.length}`);
    expect(new Uint8Array(await range.arrayBuffer())).toEqual(bytes.slice(100, 200));
  });

  it('a text file that starts with "#" but is no playlist streams as it is', async () => {
    const p = playbackId('layout');
    const notes = '# release notes\nnothing to rewrite here\n';
    await placeOnOrigin(`/${p}/notes`, notes, 'text/plain');
    const served = await play(`/${p}/notes?token=${await fastpixToken(await key(), p)}`);
    expect(served.status).toBe(200);
    expect(await served.text()).toBe(notes);
  });
});

describe('what the gate refuses from an origin', () => {
  it.each([
    ['an HLS media type whose body does not start with #EXTM3U (RFC 8216 §4.3.1.1)', '/v0/index.m3u8', '#EXTINF:2,\nseg0.m4s\n', 'application/vnd.apple.mpegurl'],
    ['comments before #EXTM3U', '/v0/late.m3u8', '# made by a packager\n#EXTM3U\n#EXTINF:2,\nseg0.m4s\n', 'application/x-mpegurl'],
    ['a DASH media type whose body is no MPD', '/manifest.mpd', '<html><body>not found</body></html>', 'application/dash+xml'],
    ['an MPD that is not well-formed XML', '/broken.mpd', '<MPD xmlns="urn:mpeg:dash:schema:mpd:2011"><Period></MPD>', 'application/dash+xml'],
  ])('%s → 502 origin_error', async (_name, at, body, type) => {
    const p = playbackId('layout');
    await placeOnOrigin(`/${p}${at}`, body, type);
    const answer = await refusal(await play(`/${p}${at}?token=${await fastpixToken(await key(), p)}`));
    expect(answer).toMatchObject({ status: 502, reason: 'origin_error' });
    expect(answer.description).not.toContain(p); // nothing of the origin's body is echoed
  });
});
