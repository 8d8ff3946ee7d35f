import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { rewriteHlsPlaylist } from '../../src/media/hls';
import { looksLikeHlsPlaylist } from '../../src/media/sniff';
import type { RewriteContext as HlsRewriteContext } from '../../src/media/uri';

// Expected outputs below are written by hand from SPEC §5, never computed by the code under test.

const P = 'Zu2Jt02kF4';
const GRANT = 'eyJwIjoiWnUy.c2lnbmF0dXJl';
const G = `grant=${GRANT}`;

function context(playlistUrl: string, overrides: Partial<HlsRewriteContext> = {}): HlsRewriteContext {
  return {
    playlistUrl: new URL(playlistUrl),
    playbackId: P,
    grantParam: 'grant',
    grant: GRANT,
    stripParams: ['token'],
    ...overrides,
  };
}

const MULTIVARIANT_URL = `https://gate.example/${P}.m3u8`;
const RENDITION_URL = `https://gate.example/${P}/v1/index.m3u8`;

const lines = (...l: string[]) => l.join('\n') + '\n';

describe('rewriteHlsPlaylist on real-world playlists', () => {
  it('rewrites a multivariant playlist: variants, audio and subtitle groups, I-frame streams', () => {
    const input = lines(
      '#EXTM3U',
      '#EXT-X-VERSION:6',
      '#EXT-X-INDEPENDENT-SEGMENTS',
      `#EXT-X-SESSION-KEY:METHOD=SAMPLE-AES,URI="skd://${P}",KEYFORMAT="com.apple.streamingkeydelivery",KEYFORMATVERSIONS="1"`,
      `#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aac",NAME="English",LANGUAGE="en",DEFAULT=YES,AUTOSELECT=YES,CHANNELS="2",URI="${P}/audio/en/index.m3u8"`,
      `#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aac",NAME="Commentary, URI=${P}/x.m3u8",LANGUAGE="en",AUTOSELECT=NO,URI="/${P}/audio/commentary/index.m3u8"`,
      `#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs",NAME="Español",LANGUAGE="es",DEFAULT=NO,AUTOSELECT=YES,FORCED=NO,URI="${P}/subs/es.m3u8"`,
      '#EXT-X-MEDIA:TYPE=CLOSED-CAPTIONS,GROUP-ID="cc",NAME="English",LANGUAGE="en",INSTREAM-ID="CC1"',
      '#EXT-X-STREAM-INF:BANDWIDTH=2483789,AVERAGE-BANDWIDTH=2224000,CODECS="avc1.640020,mp4a.40.2",RESOLUTION=1280x720,FRAME-RATE=30.000,AUDIO="aac",SUBTITLES="subs",CLOSED-CAPTIONS="cc"',
      `${P}/v1/index.m3u8`,
      '#EXT-X-STREAM-INF:BANDWIDTH=5493000,CODECS="avc1.640028,mp4a.40.2",RESOLUTION=1920x1080,AUDIO="aac",SUBTITLES="subs"',
      `${P}/v2/index.m3u8?rendition=1080p`,
      '#EXT-X-STREAM-INF:BANDWIDTH=800000,CODECS="avc1.64001e,mp4a.40.2",RESOLUTION=640x360',
      `https://backup-cdn.example.net/${P}/v0/index.m3u8`,
      `#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=186000,CODECS="avc1.640020",RESOLUTION=1280x720,URI="${P}/v1/iframes.m3u8"`,
    );
    const expected =
      '#EXTM3U\n' +
      '#EXT-X-VERSION:6\n' +
      '#EXT-X-INDEPENDENT-SEGMENTS\n' +
      '#EXT-X-SESSION-KEY:METHOD=SAMPLE-AES,URI="skd://Zu2Jt02kF4",KEYFORMAT="com.apple.streamingkeydelivery",KEYFORMATVERSIONS="1"\n' +
      '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aac",NAME="English",LANGUAGE="en",DEFAULT=YES,AUTOSELECT=YES,CHANNELS="2",URI="Zu2Jt02kF4/audio/en/index.m3u8?grant=eyJwIjoiWnUy.c2lnbmF0dXJl"\n' +
      '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aac",NAME="Commentary, URI=Zu2Jt02kF4/x.m3u8",LANGUAGE="en",AUTOSELECT=NO,URI="/Zu2Jt02kF4/audio/commentary/index.m3u8?grant=eyJwIjoiWnUy.c2lnbmF0dXJl"\n' +
      '#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs",NAME="Español",LANGUAGE="es",DEFAULT=NO,AUTOSELECT=YES,FORCED=NO,URI="Zu2Jt02kF4/subs/es.m3u8?grant=eyJwIjoiWnUy.c2lnbmF0dXJl"\n' +
      '#EXT-X-MEDIA:TYPE=CLOSED-CAPTIONS,GROUP-ID="cc",NAME="English",LANGUAGE="en",INSTREAM-ID="CC1"\n' +
      '#EXT-X-STREAM-INF:BANDWIDTH=2483789,AVERAGE-BANDWIDTH=2224000,CODECS="avc1.640020,mp4a.40.2",RESOLUTION=1280x720,FRAME-RATE=30.000,AUDIO="aac",SUBTITLES="subs",CLOSED-CAPTIONS="cc"\n' +
      'Zu2Jt02kF4/v1/index.m3u8?grant=eyJwIjoiWnUy.c2lnbmF0dXJl\n' +
      '#EXT-X-STREAM-INF:BANDWIDTH=5493000,CODECS="avc1.640028,mp4a.40.2",RESOLUTION=1920x1080,AUDIO="aac",SUBTITLES="subs"\n' +
      'Zu2Jt02kF4/v2/index.m3u8?rendition=1080p&grant=eyJwIjoiWnUy.c2lnbmF0dXJl\n' +
      '#EXT-X-STREAM-INF:BANDWIDTH=800000,CODECS="avc1.64001e,mp4a.40.2",RESOLUTION=640x360\n' +
      'https://backup-cdn.example.net/Zu2Jt02kF4/v0/index.m3u8\n' +
      '#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=186000,CODECS="avc1.640020",RESOLUTION=1280x720,URI="Zu2Jt02kF4/v1/iframes.m3u8?grant=eyJwIjoiWnUy.c2lnbmF0dXJl"\n';
    expect(rewriteHlsPlaylist(input, context(MULTIVARIANT_URL))).toBe(expected);
  });

  it('rewrites an fMP4 media playlist: EXT-X-MAP, byte ranges, a discontinuity to a sibling rendition', () => {
    const input = lines(
      '#EXTM3U',
      '#EXT-X-VERSION:7',
      '#EXT-X-TARGETDURATION:4',
      '#EXT-X-MEDIA-SEQUENCE:0',
      '#EXT-X-PLAYLIST-TYPE:VOD',
      '#EXT-X-MAP:URI="init.mp4",BYTERANGE="1130@0"',
      '#EXTINF:4.000,',
      'seg_00000.m4s',
      '#EXTINF:4.000,',
      '#EXT-X-BYTERANGE:204800@0',
      'seg_00001.m4s',
      '#EXT-X-DISCONTINUITY',
      '#EXT-X-MAP:URI="../v1-ad/init.mp4"',
      '#EXTINF:3.500,',
      '../v1-ad/seg_00000.m4s',
      '#EXT-X-ENDLIST',
    );
    const expected =
      '#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:4\n#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-PLAYLIST-TYPE:VOD\n' +
      '#EXT-X-MAP:URI="init.mp4?grant=eyJwIjoiWnUy.c2lnbmF0dXJl",BYTERANGE="1130@0"\n' +
      '#EXTINF:4.000,\nseg_00000.m4s?grant=eyJwIjoiWnUy.c2lnbmF0dXJl\n' +
      '#EXTINF:4.000,\n#EXT-X-BYTERANGE:204800@0\nseg_00001.m4s?grant=eyJwIjoiWnUy.c2lnbmF0dXJl\n' +
      '#EXT-X-DISCONTINUITY\n' +
      '#EXT-X-MAP:URI="../v1-ad/init.mp4?grant=eyJwIjoiWnUy.c2lnbmF0dXJl"\n' +
      '#EXTINF:3.500,\n../v1-ad/seg_00000.m4s?grant=eyJwIjoiWnUy.c2lnbmF0dXJl\n' +
      '#EXT-X-ENDLIST\n';
    expect(rewriteHlsPlaylist(input, context(RENDITION_URL))).toBe(expected);
  });

  it('rewrites an https key URI under the playback ID and leaves skd:// and data: keys alone', () => {
    const input = lines(
      '#EXTM3U',
      '#EXT-X-VERSION:5',
      '#EXT-X-TARGETDURATION:6',
      '#EXT-X-MEDIA-SEQUENCE:120',
      `#EXT-X-KEY:METHOD=AES-128,URI="https://gate.example/${P}/keys/k1.key",IV=0x1F2E3D4C5B6A79880706050403020100`,
      '#EXTINF:6.006,',
      'segment120.ts',
      `#EXT-X-KEY:METHOD=SAMPLE-AES,URI="skd://${P}/k2?asset=1",KEYFORMAT="com.apple.streamingkeydelivery",KEYFORMATVERSIONS="1"`,
      '#EXTINF:6.006,',
      'segment121.ts',
      '#EXT-X-KEY:METHOD=AES-128,URI="data:text/plain;base64,AAECAwQFBgcICQoLDA0ODw=="',
      '#EXTINF:6.006,',
      'segment122.ts',
      '#EXT-X-KEY:METHOD=NONE',
      '#EXTINF:6.006,',
      'segment123.ts',
    );
    const expected =
      '#EXTM3U\n#EXT-X-VERSION:5\n#EXT-X-TARGETDURATION:6\n#EXT-X-MEDIA-SEQUENCE:120\n' +
      '#EXT-X-KEY:METHOD=AES-128,URI="https://gate.example/Zu2Jt02kF4/keys/k1.key?grant=eyJwIjoiWnUy.c2lnbmF0dXJl",IV=0x1F2E3D4C5B6A79880706050403020100\n' +
      '#EXTINF:6.006,\nsegment120.ts?grant=eyJwIjoiWnUy.c2lnbmF0dXJl\n' +
      '#EXT-X-KEY:METHOD=SAMPLE-AES,URI="skd://Zu2Jt02kF4/k2?asset=1",KEYFORMAT="com.apple.streamingkeydelivery",KEYFORMATVERSIONS="1"\n' +
      '#EXTINF:6.006,\nsegment121.ts?grant=eyJwIjoiWnUy.c2lnbmF0dXJl\n' +
      '#EXT-X-KEY:METHOD=AES-128,URI="data:text/plain;base64,AAECAwQFBgcICQoLDA0ODw=="\n' +
      '#EXTINF:6.006,\nsegment122.ts?grant=eyJwIjoiWnUy.c2lnbmF0dXJl\n' +
      '#EXT-X-KEY:METHOD=NONE\n' +
      '#EXTINF:6.006,\nsegment123.ts?grant=eyJwIjoiWnUy.c2lnbmF0dXJl\n';
    expect(rewriteHlsPlaylist(input, context(`https://gate.example/${P}/v0/index.m3u8`))).toBe(expected);
  });

  it('rewrites a low-latency playlist: parts, preload hints, rendition reports', () => {
    const input = lines(
      '#EXTM3U',
      '#EXT-X-VERSION:9',
      '#EXT-X-TARGETDURATION:4',
      '#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=1.002,CAN-SKIP-UNTIL=24.0',
      '#EXT-X-PART-INF:PART-TARGET=0.33334',
      '#EXT-X-MEDIA-SEQUENCE:100',
      '#EXT-X-MAP:URI="init.mp4"',
      '#EXT-X-PROGRAM-DATE-TIME:2026-11-28T12:00:00.000Z',
      '#EXTINF:4.00008,',
      'seg100.m4s',
      '#EXT-X-PART:DURATION=0.33334,URI="seg101.part0.m4s",INDEPENDENT=YES',
      '#EXT-X-PART:DURATION=0.33334,URI="seg101.part1.m4s"',
      '#EXT-X-PRELOAD-HINT:TYPE=PART,URI="seg101.part2.m4s"',
      '#EXT-X-RENDITION-REPORT:URI="../v2/index.m3u8",LAST-MSN=101,LAST-PART=1',
      '#EXT-X-RENDITION-REPORT:URI="/other-id/v0/index.m3u8",LAST-MSN=101,LAST-PART=1',
    );
    const expected =
      '#EXTM3U\n#EXT-X-VERSION:9\n#EXT-X-TARGETDURATION:4\n' +
      '#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=1.002,CAN-SKIP-UNTIL=24.0\n' +
      '#EXT-X-PART-INF:PART-TARGET=0.33334\n#EXT-X-MEDIA-SEQUENCE:100\n' +
      '#EXT-X-MAP:URI="init.mp4?grant=eyJwIjoiWnUy.c2lnbmF0dXJl"\n' +
      '#EXT-X-PROGRAM-DATE-TIME:2026-11-28T12:00:00.000Z\n' +
      '#EXTINF:4.00008,\nseg100.m4s?grant=eyJwIjoiWnUy.c2lnbmF0dXJl\n' +
      '#EXT-X-PART:DURATION=0.33334,URI="seg101.part0.m4s?grant=eyJwIjoiWnUy.c2lnbmF0dXJl",INDEPENDENT=YES\n' +
      '#EXT-X-PART:DURATION=0.33334,URI="seg101.part1.m4s?grant=eyJwIjoiWnUy.c2lnbmF0dXJl"\n' +
      '#EXT-X-PRELOAD-HINT:TYPE=PART,URI="seg101.part2.m4s?grant=eyJwIjoiWnUy.c2lnbmF0dXJl"\n' +
      '#EXT-X-RENDITION-REPORT:URI="../v2/index.m3u8?grant=eyJwIjoiWnUy.c2lnbmF0dXJl",LAST-MSN=101,LAST-PART=1\n' +
      '#EXT-X-RENDITION-REPORT:URI="/other-id/v0/index.m3u8",LAST-MSN=101,LAST-PART=1\n';
    // A blocking-reload request carries _HLS_ directives; they must not leak into child URIs.
    const url = `https://gate.example/${P}/v1/index.m3u8?_HLS_msn=101&_HLS_part=2&grant=old`;
    expect(rewriteHlsPlaylist(input, context(url))).toBe(expected);
  });

  it('keeps CRLF, mixed line endings, a BOM and a missing final newline exactly', () => {
    const input = '\uFEFF#EXTM3U\r\n#EXT-X-TARGETDURATION:6\r\n#EXTINF:6,\r\nseg1.ts\n#EXTINF:6,\r\n\r\nseg2.ts';
    const expected =
      '\uFEFF#EXTM3U\r\n#EXT-X-TARGETDURATION:6\r\n#EXTINF:6,\r\nseg1.ts?grant=eyJwIjoiWnUy.c2lnbmF0dXJl\n' +
      '#EXTINF:6,\r\n\r\nseg2.ts?grant=eyJwIjoiWnUy.c2lnbmF0dXJl';
    expect(rewriteHlsPlaylist(input, context(RENDITION_URL))).toBe(expected);
  });

  it('keeps surrounding whitespace of URI lines and of untouched lines', () => {
    const input = '#EXTM3U\n  seg1.ts \t\n\t\n   \n# a comment  \n\tseg2.ts?a=1#t=5\n';
    const expected =
      '#EXTM3U\n  seg1.ts?grant=eyJwIjoiWnUy.c2lnbmF0dXJl \t\n\t\n   \n# a comment  \n' +
      '\tseg2.ts?a=1&grant=eyJwIjoiWnUy.c2lnbmF0dXJl#t=5\n';
    expect(rewriteHlsPlaylist(input, context(RENDITION_URL))).toBe(expected);
  });

  it('returns a playlist without URIs under the playback ID unchanged', () => {
    const input = lines(
      '#EXTM3U',
      '#EXT-X-STREAM-INF:BANDWIDTH=800000',
      'https://cdn.other.example/Zu2Jt02kF4/v0/index.m3u8?token=abc',
    );
    expect(rewriteHlsPlaylist(input, context(MULTIVARIANT_URL))).toBe(input);
    expect(rewriteHlsPlaylist('', context(MULTIVARIANT_URL))).toBe('');
    expect(rewriteHlsPlaylist('\uFEFF', context(MULTIVARIANT_URL))).toBe('\uFEFF');
  });

  it('is idempotent on every fixture', () => {
    const input = lines(
      '#EXTM3U',
      '#EXT-X-MAP:URI="init.mp4?token=t1&grant=old"',
      'seg1.ts?x=1&grant=old&y=2',
      '#EXT-X-PART:DURATION=0.5,URI="seg2.part0.m4s#frag"',
    );
    const once = rewriteHlsPlaylist(input, context(RENDITION_URL));
    expect(once).toBe(
      '#EXTM3U\n' +
        '#EXT-X-MAP:URI="init.mp4?grant=eyJwIjoiWnUy.c2lnbmF0dXJl"\n' +
        'seg1.ts?x=1&y=2&grant=eyJwIjoiWnUy.c2lnbmF0dXJl\n' +
        '#EXT-X-PART:DURATION=0.5,URI="seg2.part0.m4s?grant=eyJwIjoiWnUy.c2lnbmF0dXJl#frag"\n',
    );
    expect(rewriteHlsPlaylist(once, context(RENDITION_URL))).toBe(once);
  });
});

// One URI line per case, served from https://gate.example/P/v1/index.m3u8.
const URI_LINE_CASES: ReadonlyArray<readonly [string, string, string]> = [
  ['a relative segment', 'seg.ts', `seg.ts?${G}`],
  ['a relative path into a sub-directory', 'hi/seg.ts', `hi/seg.ts?${G}`],
  ['a dot-relative path', './seg.ts', `./seg.ts?${G}`],
  ['a sibling rendition of the same playback ID', '../v2/seg.ts', `../v2/seg.ts?${G}`],
  ['a root-relative path under the playback ID', `/${P}/v2/seg.ts`, `/${P}/v2/seg.ts?${G}`],
  ['an absolute URI to the same host (stays absolute)', `https://gate.example/${P}/v1/seg.ts`, `https://gate.example/${P}/v1/seg.ts?${G}`],
  ['an absolute URI with the default port written out', `https://gate.example:443/${P}/seg.ts`, `https://gate.example:443/${P}/seg.ts?${G}`],
  ['an absolute URI with an upper-case scheme and host', `HTTPS://GATE.example/${P}/seg.ts`, `HTTPS://GATE.example/${P}/seg.ts?${G}`],
  ['a scheme-relative URI to the same host', `//gate.example/${P}/seg.ts`, `//gate.example/${P}/seg.ts?${G}`],
  ['existing query parameters (kept, in order)', 'seg.ts?session=42&cdn=a', `seg.ts?session=42&cdn=a&${G}`],
  ['an existing grant (replaced)', 'seg.ts?grant=OLD&x=1', `seg.ts?x=1&${G}`],
  ['an existing percent-encoded grant name (replaced)', 'seg.ts?gr%61nt=OLD', `seg.ts?${G}`],
  ['a repeated grant (all replaced by one)', 'seg.ts?grant=a&grant=b', `seg.ts?${G}`],
  ['a parameter named ?grant after a doubled question mark (kept)', 'seg.ts??gr%61nt=x', `seg.ts??gr%61nt=x&${G}`],
  ['a token parameter (stripped)', 'seg.ts?token=eyJhbGciOiJSUzI1NiJ9.e30.sig&x=1', `seg.ts?x=1&${G}`],
  ['a parameter whose name only starts like the token (kept)', 'seg.ts?tokens=1&xtoken=2', `seg.ts?tokens=1&xtoken=2&${G}`],
  ['an empty query', 'seg.ts?', `seg.ts?${G}`],
  ['a fragment (kept after the query)', 'seg.ts#t=10', `seg.ts?${G}#t=10`],
  ['a query and a fragment', 'seg.ts?a=1#t=10', `seg.ts?a=1&${G}#t=10`],
  ['a non-ASCII file name', 'séquence 1.ts', `séquence 1.ts?${G}`],
  ['a query-only reference (the playlist path with a new query)', '?v=2', `?v=2&${G}`],
];

const UNTOUCHED_URI_CASES: ReadonlyArray<readonly [string, string]> = [
  ['another host', `https://cdn.other.example/${P}/v1/seg.ts`],
  ['the same host on another port', `https://gate.example:8443/${P}/v1/seg.ts`],
  ['the same host over another scheme', `http://gate.example/${P}/v1/seg.ts`],
  ['a scheme-relative URI to another host', `//cdn.other.example/${P}/v1/seg.ts`],
  ['another playback ID, relative', '../../Q/seg.ts'],
  ['another playback ID, root-relative', '/Q/v1/seg.ts'],
  ['a playback ID that only starts like this one', `/${P}x/v1/seg.ts`],
  ['the multivariant path itself', `/${P}.m3u8`],
  ['the playback ID without a trailing slash', `/${P}`],
  ['a path escaping the playback ID with dot segments', `../../${P}/../Q/seg.ts`],
  ['an encoded slash', 'a%2Fb.ts'],
  ['an encoded backslash', 'a%5cb.ts'],
  ['an encoded dot (lower case)', '%2e%2e/seg.ts'],
  ['an encoded dot (upper case)', '%2E%2E/%2E%2E/Q/seg.ts'],
  ['an encoded control character', 'seg%0a.ts'],
  // The gate's own path rule (issue 12 item 5): what it refuses as bad_path is never granted.
  ['an encoded percent sign (the gate refuses %25)', 'seg%25a.ts'],
  ['a segment of three dots (a dot segment to Windows origins)', '.../seg.ts'],
  ['a directory (the gate serves no path ending in /)', 'hi/'],
  ['a thumbnail (a playlist grant opens no image class)', `/${P}/thumbnail.jpg`],
  ['a malformed percent-escape', 'seg%zz.ts'],
  ['a backslash', '..\\v2\\seg.ts'],
  ['an empty path segment', 'a//seg.ts'],
  ['a raw control character', 'seg\u0001.ts'],
  ['a lone carriage return (a line break to some players)', 'seg.ts\r../../Q/seg.ts'],
  ['an skd:// URI', `skd://${P}/seg.ts`],
  ['a data: URI', 'data:video/mp2t;base64,R0lG'],
  ['an ftp URI', `ftp://gate.example/${P}/seg.ts`],
  ['a relative reference with a colon in its first segment (a scheme)', 'seg:1.ts'],
  ['an unparsable URI', 'https://[::1'],
  ['a fragment-only reference (the playlist itself)', '#t=10'],
];

describe('rewriteHlsPlaylist on single URIs', () => {
  it.each(URI_LINE_CASES)('adds the grant to %s', (_name, uri, expected) => {
    const ctx = context(RENDITION_URL);
    expect(rewriteHlsPlaylist(`#EXTM3U\n${uri}\n`, ctx)).toBe(`#EXTM3U\n${expected}\n`);
    expect(rewriteHlsPlaylist(`#EXTM3U\n#EXT-X-MAP:URI="${uri}"\n`, ctx)).toBe(`#EXTM3U\n#EXT-X-MAP:URI="${expected}"\n`);
  });

  it.each(UNTOUCHED_URI_CASES)('leaves %s byte for byte', (_name, uri) => {
    const ctx = context(RENDITION_URL);
    expect(rewriteHlsPlaylist(`#EXTM3U\n${uri}\n`, ctx)).toBe(`#EXTM3U\n${uri}\n`);
    expect(rewriteHlsPlaylist(`#EXTM3U\n#EXT-X-MAP:URI="${uri}"\n`, ctx)).toBe(`#EXTM3U\n#EXT-X-MAP:URI="${uri}"\n`);
  });

  it('resolves from the multivariant playlist at /P.m3u8', () => {
    const ctx = context(MULTIVARIANT_URL);
    const input = `#EXTM3U\n${P}/v0/index.m3u8\nv0/index.m3u8\n/${P}/v1/index.m3u8\n`;
    expect(rewriteHlsPlaylist(input, ctx)).toBe(
      `#EXTM3U\n${P}/v0/index.m3u8?${G}\nv0/index.m3u8\n/${P}/v1/index.m3u8?${G}\n`,
    );
  });

  it('decides each host on its own, beyond any per-playlist cache of origins', () => {
    const foreign = Array.from({ length: 100 }, (_, n) => `https://cdn${n}.other.example/${P}/v1/seg${n}.ts`);
    const input = `#EXTM3U\n${foreign.join('\n')}\nhttps://gate.example/${P}/v1/seg.ts\nhttps://gate.example:443/${P}/v1/seg.ts\n`;
    expect(rewriteHlsPlaylist(input, context(RENDITION_URL))).toBe(
      `#EXTM3U\n${foreign.join('\n')}\nhttps://gate.example/${P}/v1/seg.ts?${G}\nhttps://gate.example:443/${P}/v1/seg.ts?${G}\n`,
    );
  });

  it('strips every configured parameter and encodes a custom grant parameter name', () => {
    const ctx = context(RENDITION_URL, { grantParam: 'sig net', stripParams: ['token', 'jwt'] });
    expect(rewriteHlsPlaylist('seg.ts?jwt=a&token=b&sig+net=c&k=v\n', ctx)).toBe(`seg.ts?k=v&sig%20net=${GRANT}\n`);
  });
});

describe('rewriteHlsPlaylist on tag attributes', () => {
  const ctx = context(RENDITION_URL);
  const cases: ReadonlyArray<readonly [string, string, string]> = [
    ['a comma and URI= inside another quoted attribute', '#EXT-X-MEDIA:TYPE=AUDIO,NAME="a,URI=x.m3u8",URI="en.m3u8"', `#EXT-X-MEDIA:TYPE=AUDIO,NAME="a,URI=x.m3u8",URI="en.m3u8?${G}"`],
    ['an X-URI attribute (not URI)', '#EXT-X-MEDIA:TYPE=AUDIO,X-URI="x.m3u8",URI="en.m3u8"', `#EXT-X-MEDIA:TYPE=AUDIO,X-URI="x.m3u8",URI="en.m3u8?${G}"`],
    ['a lower-case uri attribute', '#EXT-X-MAP:uri="init.mp4"', '#EXT-X-MAP:uri="init.mp4"'],
    ['an unquoted URI attribute', '#EXT-X-MAP:URI=init.mp4', '#EXT-X-MAP:URI=init.mp4'],
    ['an unterminated quoted string', '#EXT-X-MAP:NAME="x,URI="init.mp4', '#EXT-X-MAP:NAME="x,URI="init.mp4'],
    ['blanks inside the quotes', '#EXT-X-MAP:URI=" init.mp4 "', `#EXT-X-MAP:URI=" init.mp4?${G} "`],
    ['the URI attribute first, then others', '#EXT-X-MAP:URI="init.mp4",BYTERANGE="720@0"', `#EXT-X-MAP:URI="init.mp4?${G}",BYTERANGE="720@0"`],
    ['EXT-X-SESSION-DATA', '#EXT-X-SESSION-DATA:DATA-ID="com.example.title",URI="title.json"', `#EXT-X-SESSION-DATA:DATA-ID="com.example.title",URI="title.json?${G}"`],
    // HLS interstitials (RFC 8216bis appendix D): the asset and the asset list; DATERANGE has no URI attribute.
    ['an interstitial X-ASSET-URI (and a URI attribute DATERANGE does not have)', '#EXT-X-DATERANGE:ID="ad1",CLASS="com.apple.hls.interstitial",START-DATE="2026-11-28T12:00:00Z",X-ASSET-URI="ad.m3u8",URI="x.ts"', `#EXT-X-DATERANGE:ID="ad1",CLASS="com.apple.hls.interstitial",START-DATE="2026-11-28T12:00:00Z",X-ASSET-URI="ad.m3u8?${G}",URI="x.ts"`],
    ['an interstitial X-ASSET-LIST', '#EXT-X-DATERANGE:ID="ad2",CLASS="com.apple.hls.interstitial",START-DATE="2026-11-28T12:00:00Z",X-ASSET-LIST="ads.json?slot=2"', `#EXT-X-DATERANGE:ID="ad2",CLASS="com.apple.hls.interstitial",START-DATE="2026-11-28T12:00:00Z",X-ASSET-LIST="ads.json?slot=2&${G}"`],
    ['an interstitial on another host', '#EXT-X-DATERANGE:ID="ad3",CLASS="com.apple.hls.interstitial",START-DATE="2026-11-28T12:00:00Z",X-ASSET-URI="https://ads.example/a.m3u8"', '#EXT-X-DATERANGE:ID="ad3",CLASS="com.apple.hls.interstitial",START-DATE="2026-11-28T12:00:00Z",X-ASSET-URI="https://ads.example/a.m3u8"'],
    ['EXT-X-CONTENT-STEERING SERVER-URI', '#EXT-X-CONTENT-STEERING:SERVER-URI="steering.json",PATHWAY-ID="CDN-A"', `#EXT-X-CONTENT-STEERING:SERVER-URI="steering.json?${G}",PATHWAY-ID="CDN-A"`],
    ['a tag outside the list', '#EXT-X-START:TIME-OFFSET=10,URI="x.ts"', '#EXT-X-START:TIME-OFFSET=10,URI="x.ts"'],
    ['a tag whose name only starts like a listed one', '#EXT-X-MEDIA-SEQUENCE:7', '#EXT-X-MEDIA-SEQUENCE:7'],
    ['a custom tag with a URI attribute', '#EXT-X-FOO:URI="seg.ts"', '#EXT-X-FOO:URI="seg.ts"'],
    ['a comment that looks like a URI', '#seg.ts', '#seg.ts'],
    ['a tag line indented by blanks', '  #EXT-X-MAP:URI="init.mp4"', `  #EXT-X-MAP:URI="init.mp4?${G}"`],
  ];
  it.each(cases)('handles %s', (_name, input, expected) => {
    expect(rewriteHlsPlaylist(`#EXTM3U\n${input}\n`, ctx)).toBe(`#EXTM3U\n${expected}\n`);
  });

  it('stays linear on pathological attribute lists', () => {
    const huge = [
      `#EXT-X-MAP:${'"'.repeat(200_000)}`,
      `#EXT-X-MAP:${','.repeat(200_000)}URI="init.mp4"`,
      `#EXT-X-MAP:${'A='.repeat(100_000)}`,
      `#EXT-X-KEY:URI="${'a'.repeat(200_000)}`,
      `${'../'.repeat(50_000)}seg.ts`,
    ].join('\n');
    // workerd freezes clocks during synchronous code, so the guard is the test timeout: a
    // quadratic scan over these lines would take minutes, the linear one takes milliseconds.
    const output = rewriteHlsPlaylist(huge, ctx);
    expect(output.split('\n')).toHaveLength(5);
  });
});

describe('rewriteHlsPlaylist context checks', () => {
  it.each([
    ['a playback ID with a slash', { playbackId: 'a/b' }],
    ['an empty playback ID', { playbackId: '' }],
    ['an empty grant parameter', { grantParam: '' }],
    ['a grant that needs escaping', { grant: 'a&b=c' }],
    ['a non-http playlist URL', { playlistUrl: new URL('file:///P/index.m3u8') }],
  ] as const)('throws on %s, without echoing the grant', (_name, overrides) => {
    const ctx = { ...context(RENDITION_URL), ...overrides } as HlsRewriteContext;
    expect(() => rewriteHlsPlaylist('#EXTM3U\n', ctx)).toThrow(TypeError);
    try {
      rewriteHlsPlaylist('#EXTM3U\n', ctx);
    } catch (error) {
      expect(String(error)).not.toContain(ctx.grant);
    }
  });
});

describe('looksLikeHlsPlaylist', () => {
  it.each([
    ['#EXTM3U\n#EXT-X-VERSION:3\n', true],
    ['\uFEFF#EXTM3U\r\n', true],
    ['\uFEFF \r\n\t#EXTM3U', true],
    ['#EXTM3U', true],
    ['', false],
    ['\uFEFF', false],
    ['<?xml version="1.0"?><MPD/>', false],
    ['#EXTINF:4,\nseg.ts\n', false],
    ['x#EXTM3U', false],
    ['#extm3u\n', false],
  ] as const)('%j → %s', (text, expected) => {
    expect(looksLikeHlsPlaylist(text)).toBe(expected);
  });
});

// ---------------------------------------------------------------------------------------------
// Properties. Inputs mix URIs that must get the grant, URIs that must not, tags, comments and
// junk; PROPERTY_GRANT never occurs in an input, so any occurrence in an output was added here.

const PROPERTY_GRANT = 'PropGrant.x_y-Z';
const PLAYLIST_URLS = [
  `https://gate.example/${P}.m3u8`,
  `https://gate.example/${P}/v0/index.m3u8`,
  `https://gate.example:8443/${P}/a/b/c.m3u8?x=1`,
  `http://gate.example/${P}/audio/en.m3u8`,
];
const LISTED_TAGS = [
  'EXT-X-MEDIA',
  'EXT-X-MAP',
  'EXT-X-I-FRAME-STREAM-INF',
  'EXT-X-KEY',
  'EXT-X-SESSION-KEY',
  'EXT-X-SESSION-DATA',
  'EXT-X-PART',
  'EXT-X-PRELOAD-HINT',
  'EXT-X-RENDITION-REPORT',
];

const segment = fc.constantFrom(P, `${P}x`, 'Q', '..', '.', '', 'v0', 'seg.ts', 'a b', 'é', '%2F', '%2e', '%50', '%41', 'x\\y', 'x:y', '%', '?', '#');
const origin = fc.constantFrom(
  '',
  '',
  '/',
  'https://gate.example/',
  'https://GATE.example:443/',
  'https://gate.example:8443/',
  'http://gate.example/',
  'http://gate.example:8443/',
  '//gate.example/',
  'https://other.example/',
  '//other.example:8443/',
  'skd://',
  'data:',
  'ftp://gate.example/',
);
const queryPiece = fc.constantFrom('grant=old', 'gr%61nt=old', 'token=jwt', 'a=1', '', 'b', '+', 'x=%zz');
const arbitraryUri = fc.oneof(
  { weight: 5, arbitrary: fc
    .tuple(origin, fc.array(segment, { maxLength: 5 }), fc.option(fc.array(queryPiece, { maxLength: 3 })), fc.option(fc.constantFrom('t=1', '', 'a?b')))
    .map(([o, segments, query, fragment]) =>
      o + segments.join('/') + (query === null ? '' : `?${query.join('&')}`) + (fragment === null ? '' : `#${fragment}`),
    ) },
  { weight: 1, arbitrary: fc.string({ maxLength: 20 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 20 }) },
);
const noLineBreak = (s: string) => !s.includes('\n') && !s.includes('\r');
const blank = fc.constantFrom('', ' ', '\t', '  ');
const arbitraryLine = fc
  .oneof(
    fc.tuple(blank, arbitraryUri, blank).map(([a, uri, b]) => a + uri + b),
    fc
      .tuple(fc.constantFrom(...LISTED_TAGS, 'EXT-X-DATERANGE', 'EXT-X-FOO'), fc.constantFrom('', 'TYPE=AUDIO,', 'NAME="a,URI=b",', 'X-URI="c",'), arbitraryUri, fc.constantFrom('', ',BYTERANGE="1@0"', ',URI="seg.ts"'))
      .map(([tag, before, uri, after]) => `#${tag}:${before}URI="${uri}"${after}`),
    fc.constantFrom('#EXTM3U', '#EXTINF:4.0,', '#EXT-X-MEDIA-SEQUENCE:3', '# comment', '', '   ', '#EXT-X-ENDLIST'),
    fc.string({ maxLength: 30 }),
  )
  .filter(noLineBreak);
const arbitraryPlaylist = fc
  .tuple(
    fc.boolean(),
    fc.array(fc.tuple(arbitraryLine, fc.constantFrom('\n', '\r\n')), { maxLength: 25 }),
    fc.boolean(),
  )
  .map(([bom, body, finalNewline]) => {
    let text = bom ? '\uFEFF' : '';
    body.forEach(([line, ending], index) => {
      text += line + (index < body.length - 1 || finalNewline ? ending : '');
    });
    return text;
  })
  .filter((text) => !text.includes(PROPERTY_GRANT));

function propertyContext(playlistUrl: string): HlsRewriteContext {
  return { playlistUrl: new URL(playlistUrl), playbackId: P, grantParam: 'grant', grant: PROPERTY_GRANT, stripParams: ['token'] };
}

/** Splits into [line, terminator] pairs the way RFC 8216 does: LF or CRLF. */
function splitLines(text: string): Array<[string, string]> {
  const result: Array<[string, string]> = [];
  const body = text.startsWith('\uFEFF') ? text.slice(1) : text;
  if (body === '') return result;
  for (const raw of body.split('\n')) result.push(raw.endsWith('\r') ? [raw.slice(0, -1), '\r\n'] : [raw, '\n']);
  result[result.length - 1]![1] = '';
  return result;
}

/** Every URI candidate of a line: the trimmed line, and each quoted value after `URI=`. */
function uriCandidates(line: string): string[] {
  const trimmed = line.trim();
  if (!trimmed.startsWith('#')) return [trimmed];
  return [...line.matchAll(/URI="([^"]*)"/g)].map((match) => match[1]!.trim());
}

const FORBIDDEN_IN_PATH = /%2f|%5c|%2e|%[01][0-9a-f]|%7f|\\|\/\//i;

describe('rewriteHlsPlaylist properties', () => {
  const url = fc.constantFrom(...PLAYLIST_URLS);

  it('never adds, drops or reorders lines; terminators, BOM and lines without a grant stay byte for byte', () => {
    fc.assert(
      fc.property(arbitraryPlaylist, url, (input, playlistUrl) => {
        const output = rewriteHlsPlaylist(input, propertyContext(playlistUrl));
        expect(output.startsWith('\uFEFF')).toBe(input.startsWith('\uFEFF'));
        const before = splitLines(input);
        const after = splitLines(output);
        expect(after.map(([, ending]) => ending)).toEqual(before.map(([, ending]) => ending));
        after.forEach(([line], index) => {
          if (line !== before[index]![0]) expect(line).toContain(`grant=${PROPERTY_GRANT}`);
        });
      }),
    );
  });

  it('is idempotent', () => {
    fc.assert(
      fc.property(arbitraryPlaylist, url, (input, playlistUrl) => {
        const ctx = propertyContext(playlistUrl);
        const once = rewriteHlsPlaylist(input, ctx);
        expect(rewriteHlsPlaylist(once, ctx)).toBe(once);
      }),
    );
  });

  it('attaches the grant only to URIs under /P/ on the gate origin, once, with no token, path and fragment kept', () => {
    fc.assert(
      fc.property(arbitraryPlaylist, url, (input, playlistUrl) => {
        const base = new URL(playlistUrl);
        const before = splitLines(input);
        splitLines(rewriteHlsPlaylist(input, propertyContext(playlistUrl))).forEach(([line], index) => {
          const original = uriCandidates(before[index]![0]);
          uriCandidates(line).forEach((uri, position) => {
            if (!uri.includes(PROPERTY_GRANT)) return;
            const resolved = new URL(uri, base);
            expect(resolved.origin).toBe(base.origin);
            expect(resolved.pathname.startsWith(`/${P}/`)).toBe(true);
            expect(resolved.pathname).not.toMatch(FORBIDDEN_IN_PATH);
            expect(resolved.searchParams.getAll('grant')).toEqual([PROPERTY_GRANT]);
            expect(resolved.searchParams.has('token')).toBe(false);
            const was = new URL(original[position]!, base);
            expect(resolved.pathname).toBe(was.pathname);
            expect(resolved.hash).toBe(was.hash);
            const others = (u: URL) => [...u.searchParams].filter(([name]) => name !== 'grant' && name !== 'token');
            expect(others(resolved)).toEqual(others(was));
          });
        });
      }),
    );
  });

  it('leaves playlists whose URIs all point to other hosts or other schemes byte for byte', () => {
    const foreignUri = fc
      .tuple(
        fc.constantFrom('https://cdn.other.example', 'http://gate.example', 'https://gate.example:8443', '//other.example', 'skd:/', 'data:,'),
        fc.array(segment, { maxLength: 4 }),
        fc.option(fc.array(queryPiece, { maxLength: 3 })),
      )
      .map(([o, segments, query]) => `${o}/${segments.join('/')}${query === null ? '' : `?${query.join('&')}`}`)
      .filter(noLineBreak);
    const foreignLine = fc.oneof(
      foreignUri,
      fc.tuple(fc.constantFrom(...LISTED_TAGS), foreignUri).map(([tag, uri]) => `#${tag}:URI="${uri}"`),
      fc.constantFrom('#EXTM3U', '#EXTINF:4.0,', ''),
    );
    fc.assert(
      fc.property(fc.array(fc.tuple(foreignLine, fc.constantFrom('\n', '\r\n'))), (body) => {
        const input = body.map(([line, ending]) => line + ending).join('');
        expect(rewriteHlsPlaylist(input, propertyContext(`https://gate.example/${P}/v0/index.m3u8`))).toBe(input);
      }),
    );
  });
});
