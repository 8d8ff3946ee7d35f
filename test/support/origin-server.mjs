// A real HTTP media origin on loopback for tests and benchmarks (node:http, no framework).
// It serves a synthetic HLS stream for any playback ID, honours Range and conditional requests,
// records every request it receives (so tests can prove no token or grant ever reached it), and
// misbehaves on demand for playback IDs that start with "fault-". Tests may also place files of
// their own (`PUT /__files/{path}`, media type in `X-Content-Type`, empty for none): a real
// manifest at any path, served byte for byte with Range and HEAD like the synthetic stream, with
// `X-Cache-Control` (empty: no Cache-Control), `X-Set-Cookie` (empty: none) and `X-Vary` if given.
import { createServer } from 'node:http';

const SEGMENT_BYTES = 64 * 1024;
/** What the origin sets on its answers (the gate must never pass it to a player). */
const ORIGIN_COOKIE = 'origin_session=secret; HttpOnly';

// The multivariant playlist lives at /{P}.m3u8, so its relative URIs start with `{P}/` (as a real
// origin laid out this way must write them).
function multivariant(p) {
  return [
    '#EXTM3U',
    '#EXT-X-VERSION:7',
    '#EXT-X-INDEPENDENT-SEGMENTS',
    `#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aud",NAME="English",LANGUAGE="en",DEFAULT=YES,AUTOSELECT=YES,URI="${p}/audio/index.m3u8"`,
    `#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs",NAME="English",LANGUAGE="en",URI="${p}/subs/en.m3u8"`,
    '#EXT-X-STREAM-INF:BANDWIDTH=1280000,RESOLUTION=640x360,CODECS="avc1.64001e,mp4a.40.2",AUDIO="aud",SUBTITLES="subs"',
    `${p}/v0/index.m3u8`,
    '#EXT-X-STREAM-INF:BANDWIDTH=2560000,RESOLUTION=1280x720,CODECS="avc1.64001f,mp4a.40.2",AUDIO="aud",SUBTITLES="subs"',
    `${p}/v1/index.m3u8?quality=hd`,
    `#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=200000,CODECS="avc1.64001e",URI="${p}/v0/iframes.m3u8"`,
    '#EXT-X-STREAM-INF:BANDWIDTH=100000',
    'https://other-cdn.example/ads/index.m3u8',
    '',
  ].join('\n');
}

function mediaPlaylist(count = 4) {
  const lines = ['#EXTM3U', '#EXT-X-VERSION:7', '#EXT-X-TARGETDURATION:2', '#EXT-X-MEDIA-SEQUENCE:0', '#EXT-X-PLAYLIST-TYPE:VOD', '#EXT-X-MAP:URI="init.mp4"'];
  for (let i = 0; i < count; i++) lines.push('#EXTINF:2.000,', `seg${i}.m4s`);
  lines.push('#EXT-X-ENDLIST', '');
  return lines.join('\n');
}

// A static DASH manifest at /{P}.mpd: SegmentTemplate with $Number$ (relative to the MPD, so `{P}/`).
function dashManifest(p) {
  return `<?xml version="1.0" encoding="UTF-8"?>
<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static" mediaPresentationDuration="PT8S" minBufferTime="PT2S" profiles="urn:mpeg:dash:profile:isoff-live:2011">
  <Period id="0">
    <AdaptationSet mimeType="video/mp4" segmentAlignment="true">
      <SegmentTemplate timescale="1000" duration="2000" startNumber="1" initialization="${p}/dash/$RepresentationID$/init.mp4" media="${p}/dash/$RepresentationID$/seg-$Number$.m4s"/>
      <Representation id="v360" bandwidth="400000" codecs="avc1.64001e" width="640" height="360"/>
    </AdaptationSet>
  </Period>
</MPD>
`;
}

function bytes(path, size) {
  const out = Buffer.alloc(size);
  let h = 2166136261;
  for (const ch of path) h = Math.imul(h ^ ch.charCodeAt(0), 16777619);
  for (let i = 0; i < size; i++) {
    h = Math.imul(h ^ i, 16777619);
    out[i] = h & 0xff;
  }
  return out;
}

const TYPES = {
  m3u8: 'application/vnd.apple.mpegurl',
  mpd: 'application/dash+xml',
  m4s: 'video/iso.segment',
  mp4: 'video/mp4',
  ts: 'video/mp2t',
  jpg: 'image/jpeg',
  png: 'image/png',
  webp: 'image/webp',
  gif: 'image/gif',
  vtt: 'text/vtt',
  key: 'application/octet-stream',
};

function resourceFor(pathname, playbackId) {
  const ext = pathname.split('.').pop();
  if (ext === 'm3u8') {
    const isMultivariant = /^\/[^/]+\.m3u8$/.test(pathname);
    return { type: TYPES.m3u8, body: Buffer.from(isMultivariant ? multivariant(playbackId) : mediaPlaylist()), cache: 'public, max-age=2' };
  }
  if (ext === 'mpd') return { type: TYPES.mpd, body: Buffer.from(dashManifest(playbackId)), cache: 'public, max-age=2' };
  const size = ext === 'm4s' || ext === 'ts' ? SEGMENT_BYTES : ext === 'mp4' ? 1024 : 4096;
  return { type: TYPES[ext] ?? 'application/octet-stream', body: bytes(pathname, size), cache: 'public, max-age=31536000, immutable' };
}

export function startOrigin({ port = 0, host = '127.0.0.1', quiet = true, record = true, background = false } = {}) {
  const seen = [];
  const files = new Map(); // path → { type, body, cache, cookie, vary }, placed by tests
  const asked = new Map(); // playback ID → requests received (kept even when `record` is off: the benchmark reads it)
  const server = createServer((req, res) => {
    const url = new URL(req.url, 'http://origin.local');
    if (url.pathname.startsWith('/__files/') && req.method === 'PUT') {
      const chunks = [];
      req.on('data', (chunk) => chunks.push(chunk));
      req.on('end', () => {
        const type = req.headers['x-content-type'] ?? '';
        const cookie = req.headers['x-set-cookie'] ?? ORIGIN_COOKIE;
        const vary = req.headers['x-vary'];
        files.set(url.pathname.slice('/__files'.length), { type: type === '' ? undefined : type, body: Buffer.concat(chunks), cache: req.headers['x-cache-control'] ?? 'public, max-age=2', cookie: cookie === '' ? undefined : cookie, vary });
        res.writeHead(204);
        res.end();
      });
      return;
    }
    if (url.pathname === '/__seen') {
      const filter = url.searchParams.get('p') ?? '';
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(seen.filter((entry) => entry.url.includes(filter))));
      return;
    }
    if (url.pathname === '/__count') {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ count: asked.get(url.searchParams.get('playbackId') ?? '') ?? 0 }));
      return;
    }
    const askedFor = url.pathname.split('/')[1]?.replace(/\.(m3u8|mpd)$/, '') ?? '';
    asked.set(askedFor, (asked.get(askedFor) ?? 0) + 1);
    if (record) {
      seen.push({ method: req.method, url: req.url, headers: req.headers });
      if (seen.length > 20000) seen.splice(0, 10000);
    }
    const playbackId = url.pathname.split('/')[1]?.replace(/\.(m3u8|mpd)$/, '') ?? '';
    if (playbackId.startsWith('fault-')) return fault(playbackId, req, res);
    if (playbackId.startsWith('missing')) {
      res.writeHead(404, { 'Content-Type': 'text/plain' });
      res.end('not found');
      return;
    }
    // The synthetic stream of playback IDs starting "edge" is sent without a cookie, so the edge
    // cache may keep it (an answer with Set-Cookie is never kept); every other answer sets one.
    const resource = files.get(url.pathname) ?? { ...resourceFor(url.pathname, playbackId), cookie: playbackId.startsWith('edge') ? undefined : ORIGIN_COOKIE };
    const etag = `"${resource.body.length}-${url.pathname.length}"`;
    const headers = {
      ...(resource.type && { 'Content-Type': resource.type }),
      ...(resource.cache && { 'Cache-Control': resource.cache }),
      ...(resource.cookie && { 'Set-Cookie': resource.cookie }),
      ...(resource.vary && { Vary: resource.vary }),
      ETag: etag,
      'Last-Modified': 'Sat, 01 Nov 2026 00:00:00 GMT',
      'Accept-Ranges': 'bytes',
      'X-Origin-Internal': 'leak',
    };
    if (req.headers['if-none-match'] === etag) {
      res.writeHead(304, { ETag: etag, ...(resource.cache && { 'Cache-Control': resource.cache }) });
      res.end();
      return;
    }
    const range = /^bytes=(\d*)-(\d*)$/.exec(req.headers.range ?? '');
    if (range) {
      const total = resource.body.length;
      let start = range[1] === '' ? total - Number(range[2]) : Number(range[1]);
      let end = range[1] === '' || range[2] === '' ? total - 1 : Math.min(Number(range[2]), total - 1);
      if (start >= total || start > end || start < 0) {
        res.writeHead(416, { 'Content-Range': `bytes */${total}` });
        res.end();
        return;
      }
      res.writeHead(206, { ...headers, 'Content-Range': `bytes ${start}-${end}/${total}`, 'Content-Length': end - start + 1 });
      res.end(req.method === 'HEAD' ? undefined : resource.body.subarray(start, end + 1));
      return;
    }
    res.writeHead(200, { ...headers, 'Content-Length': resource.body.length });
    res.end(req.method === 'HEAD' ? undefined : resource.body);
  });

  function fault(kind, req, res) {
    const { pathname } = new URL(req.url, 'http://origin.local');
    if (kind.startsWith('fault-500')) {
      res.writeHead(500, { 'Content-Type': 'text/plain' });
      res.end('Traceback (most recent call last): internal origin stack trace');
    } else if (kind.startsWith('fault-503')) {
      res.writeHead(503);
      res.end();
    } else if (kind.startsWith('fault-hang')) {
      // never answers; the gate's timeout must fire
    } else if (kind.startsWith('fault-reset')) {
      req.socket.destroy();
    } else if (kind.startsWith('fault-midbody')) {
      res.writeHead(200, { 'Content-Type': 'video/iso.segment', 'Content-Length': SEGMENT_BYTES });
      res.write(Buffer.alloc(1024));
      setTimeout(() => req.socket.destroy(), 20);
    } else if (kind.startsWith('fault-slow')) {
      // a healthy origin on a slow link: 5 chunks of 1 KiB, 250 ms apart (longer in all than a short ORIGIN_TIMEOUT_MS)
      res.writeHead(200, { 'Content-Type': 'video/iso.segment', 'Content-Length': 5 * 1024 });
      let sent = 0;
      const tick = () => {
        if (req.socket.destroyed) return;
        res.write(Buffer.alloc(1024, sent));
        if (++sent < 5) setTimeout(tick, 250).unref();
        else res.end();
      };
      tick();
    } else if (kind.startsWith('fault-huge')) {
      res.writeHead(200, { 'Content-Type': TYPES.m3u8 });
      const line = Buffer.from('#EXTINF:2.0,\nsegment-with-a-long-name-to-fill-space.m4s\n'.repeat(1000));
      let sent = 0;
      res.write('#EXTM3U\n');
      const pump = () => {
        while (sent < 50 * 1024 * 1024) {
          sent += line.length;
          if (!res.write(line)) return res.once('drain', pump);
        }
        res.end();
      };
      res.on('error', () => {});
      pump();
    } else if (kind.startsWith('fault-stall')) {
      // headers and the first bytes at once, then nothing: a slow-loris origin
      res.writeHead(200, { 'Content-Type': pathname.endsWith('.m3u8') ? TYPES.m3u8 : TYPES.m4s });
      res.write(pathname.endsWith('.m3u8') ? '#EXTM3U\n' : Buffer.alloc(1024));
      setTimeout(() => req.socket.destroy(), 30_000).unref();
    } else if (kind.startsWith('fault-invalid')) {
      res.writeHead(200, { 'Content-Type': TYPES.m3u8 });
      res.end('<html>this is not a playlist</html>');
    } else {
      res.writeHead(404);
      res.end();
    }
  }

  server.keepAliveTimeout = 5000;
  if (background) {
    // Never keep the host process (vitest) alive for the origin's sake.
    server.unref();
    server.on('connection', (socket) => socket.unref());
  }
  return new Promise((resolve) => {
    server.listen(port, host, () => {
      const address = server.address();
      const url = `http://${host}:${address.port}`;
      if (!quiet) console.log(`origin listening on ${url}`);
      resolve({ url, server, seen, close: () => new Promise((done) => { server.closeAllConnections?.(); server.close(() => done()); }) });
    });
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const port = Number(process.env.PORT ?? 8788);
  startOrigin({ port, quiet: false });
}
