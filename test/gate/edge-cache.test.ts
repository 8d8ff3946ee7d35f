/**
 * Issue 14: the edge cache behind the gate's decision. The Cache API here is Miniflare's
 * (`caches.default`, as `wrangler dev` runs it) — the one part of Cloudflare's network that runs
 * locally; its per-data-centre scope and tiering cannot, and are not claimed. The origin is the real
 * loopback test origin, which records every request it is asked (`originSaw`); each request goes
 * through the worker's fetch handler and waits for its `waitUntil` work (`settled`), so "the next
 * request sees what this one stored" holds without sleeping.
 *
 * The synthetic stream of playback IDs starting "edge" comes without the origin's cookie (an answer
 * with Set-Cookie is never kept); segments are `public, max-age=31536000, immutable`, playlists
 * `public, max-age=2`.
 */
import { env } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import { adminAuth, createKey, fastpixToken, muxToken, nowSeconds, originSaw, placeOnOrigin, playbackId, settled, type CreatedKey } from '../support/helpers';

const edgeId = () => playbackId('edge');
const text = (answer: { body: Uint8Array }) => new TextDecoder().decode(answer.body);
const json = (answer: { body: Uint8Array }) => JSON.parse(text(answer)) as { error: { reason: string } };
/** GETs (and HEADs) the origin saw for exactly `path`, whatever their query. */
const originGets = async (path: string) => (await originSaw(path)).filter((seen) => seen.url.split('?')[0] === path);

/** The grant of the first child URI of a playlist the gate served. */
const childGrant = (playlist: string) => /[?&]grant=([^&"\s]+)/.exec(playlist)![1]!;

async function viewers(p: string, count = 2): Promise<{ key: CreatedKey; tokens: string[] }> {
  const key = await createKey('ES256');
  const tokens = [];
  for (let i = 0; i < count; i++) tokens.push(await fastpixToken(key, p, 600, { jti: `viewer-${i}-${p}` }));
  return { key, tokens };
}

// The first admin request of a file loads the admin face and compiles its modules: slow under load,
// so it is paid here (hook timeout), not inside a test's 20 s.
beforeAll(async () => {
  await createKey('ES256');
  await createKey('RS256');
});

describe('the edge cache keeps what the origin allows, behind the gate', () => {
  it('two viewers with different tokens × one segment, twice each → the origin is asked once; every answer the same bytes, private', async () => {
    const p = edgeId();
    const { tokens } = await viewers(p);
    const path = `/${p}/v0/seg1.m4s`;
    const answers = [];
    for (const token of [...tokens, ...tokens]) answers.push(await settled(`${path}?token=${token}`));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200]);
    expect((await originGets(path)).length).toBe(1);
    for (const answer of answers.slice(1)) expect(answer.body).toEqual(answers[0]!.body);
    expect(answers[0]!.body.byteLength).toBe(64 * 1024);
    expect(answers.map((a) => a.headers.get('Cache-Status'))).toEqual(['signet; fwd=miss; stored', 'signet; hit', 'signet; hit', 'signet; hit']);
    // The origin's "public, max-age=31536000" reaches no viewer: private, and no longer than the token (600 s).
    for (const answer of answers) {
      const maxAge = Number(/^private, max-age=(\d+)$/.exec(answer.headers.get('Cache-Control') ?? '')?.[1]);
      expect(maxAge).toBeGreaterThan(500);
      expect(maxAge).toBeLessThanOrEqual(600);
    }
    // What the origin sends that a player must not see stays behind on a hit as on a miss.
    for (const answer of answers) expect(answer.headers.get('X-Origin-Internal')).toBeNull();
  });

  it('answers Range (206 with its Content-Range, 416 when unsatisfiable, If-Range honoured) and HEAD from the kept object', async () => {
    const p = edgeId();
    const { tokens } = await viewers(p, 1);
    const path = `/${p}/v0/seg2.m4s`;
    const whole = await settled(`${path}?token=${tokens[0]}`);
    expect(whole.status).toBe(200);
    const etag = whole.headers.get('ETag')!;
    const ask = (headers: Record<string, string>, method = 'GET') => settled(`${path}?token=${tokens[0]}`, { method, headers });

    const range = await ask({ Range: 'bytes=100-199' });
    expect(range.status).toBe(206);
    expect(range.headers.get('Content-Range')).toBe(`bytes 100-199/${64 * 1024}`);
    expect(range.body).toEqual(whole.body.slice(100, 200));
    const suffix = await ask({ Range: 'bytes=-10' });
    expect(suffix.status).toBe(206);
    expect(suffix.body).toEqual(whole.body.slice(-10));
    const beyond = await ask({ Range: `bytes=${64 * 1024}-` });
    expect(beyond.status).toBe(416);
    expect(beyond.headers.get('Content-Range')).toBe(`bytes */${64 * 1024}`);
    const holds = await ask({ Range: 'bytes=0-9', 'If-Range': etag });
    expect([holds.status, holds.body.byteLength]).toEqual([206, 10]);
    const changed = await ask({ Range: 'bytes=0-9', 'If-Range': '"another-version"' });
    expect([changed.status, changed.body.byteLength]).toEqual([200, 64 * 1024]);
    const head = await ask({}, 'HEAD');
    expect([head.status, head.body.byteLength, head.headers.get('Content-Length'), head.headers.get('Cache-Status')]).toEqual([200, 0, String(64 * 1024), 'signet; hit']);
    const notModified = await ask({ 'If-None-Match': etag });
    expect(notModified.status).toBe(304);

    expect((await originGets(path)).length).toBe(1);
  });

  it('passes a Range miss through, then fetches the whole object once in the background; later ranges come from the edge', async () => {
    const p = edgeId();
    const { tokens } = await viewers(p, 1);
    const path = `/${p}/v1/seg0.m4s`;
    const first = await settled(`${path}?token=${tokens[0]}`, { headers: { Range: 'bytes=0-99' } });
    expect([first.status, first.body.byteLength, first.headers.get('Cache-Status')]).toEqual([206, 100, 'signet; fwd=miss']);
    const seen = await originGets(path);
    expect(seen.map((s) => s.headers.range ?? 'whole')).toEqual(['bytes=0-99', 'whole']);
    const later = await settled(`${path}?token=${tokens[0]}`, { headers: { Range: 'bytes=1000-1099' } });
    expect([later.status, later.body.byteLength, later.headers.get('Cache-Status')]).toEqual([206, 100, 'signet; hit']);
    expect((await originGets(path)).length).toBe(2);
  });

  it('keeps a VOD playlist before rewriting: two viewers, one origin fetch, each answer with its own grant', async () => {
    const p = edgeId();
    const { tokens } = await viewers(p);
    const path = `/${p}/v0/index.m3u8`;
    const a = await settled(`${path}?token=${tokens[0]}`);
    const b = await settled(`${path}?token=${tokens[1]}`);
    expect([a.status, b.status]).toEqual([200, 200]);
    expect([a.headers.get('Cache-Status'), b.headers.get('Cache-Status')]).toEqual(['signet; fwd=miss; stored', 'signet; hit']);
    expect((await originGets(path)).length).toBe(1);
    const grantA = childGrant(text(a));
    const grantB = childGrant(text(b));
    expect(grantA).toBeTruthy();
    expect(grantB).toBeTruthy();
    expect(grantA).not.toBe(grantB); // the rewritten answer was not what the edge kept
    // The grant the second viewer got opens the segments, served from the edge after one fetch.
    const segment = `/${p}/v0/seg0.m4s`;
    expect((await settled(`${segment}?grant=${grantB}`)).status).toBe(200);
    expect((await settled(`${segment}?grant=${grantA}`)).headers.get('Cache-Status')).toBe('signet; hit');
    expect((await originGets(segment)).length).toBe(1);
  });

  it('keeps a VOD playlist without Cache-Control for the default lifetime; a live one without it never', async () => {
    const p = edgeId();
    const { tokens } = await viewers(p, 1);
    const vod = `/${p}/vod.m3u8`;
    const live = `/${p}/live.m3u8`;
    await placeOnOrigin(vod, '#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\nseg0.ts\n#EXT-X-ENDLIST\n', 'application/vnd.apple.mpegurl', '', { setCookie: '' });
    await placeOnOrigin(live, '#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:7\n#EXTINF:2,\nseg7.ts\n', 'application/vnd.apple.mpegurl', '', { setCookie: '' });
    for (let i = 0; i < 2; i++) {
      expect((await settled(`${vod}?token=${tokens[0]}`)).status).toBe(200);
      expect((await settled(`${live}?token=${tokens[0]}`)).status).toBe(200);
    }
    expect((await originGets(vod)).length).toBe(1);
    expect((await originGets(live)).length).toBe(2);
  });

  it('never keeps a playlist asked for by range (a live one would be frozen), and a rewritten playlist has no validators', async () => {
    const p = edgeId();
    const { tokens } = await viewers(p, 1);
    const live = `/${p}/live.m3u8`;
    await placeOnOrigin(live, '#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:7\n#EXTINF:2,\nseg7.ts\n', 'application/vnd.apple.mpegurl', '', { setCookie: '' });
    const ranged = await settled(`${live}?token=${tokens[0]}`, { headers: { Range: 'bytes=0-' } });
    expect(ranged.status).toBe(206);
    for (let i = 0; i < 2; i++) {
      const answer = await settled(`${live}?token=${tokens[0]}`);
      expect([answer.status, answer.headers.get('Cache-Status')]).toEqual([200, 'signet; fwd=miss']);
      expect([answer.headers.get('ETag'), answer.headers.get('Last-Modified')]).toEqual([null, null]);
      expect(answer.headers.get('Cache-Control')).toMatch(/^private, max-age=\d+$/);
    }
    expect((await originGets(live)).length).toBe(3); // the range and both plain requests: nothing filled
  });

  it('keeps the same thumbnail, keyed with its resolved image parameters, once for two viewers', async () => {
    const p = edgeId();
    const key = await createKey('RS256');
    const path = `/${p}/thumbnail.jpg`;
    const one = await muxToken(key, p, 't', 600, { width: '320' });
    const two = await muxToken(key, p, 't', 600, { width: '320', jti: 'second' });
    const wider = await muxToken(key, p, 't', 600, { width: '640' });
    expect((await settled(`${path}?token=${one}`)).status).toBe(200);
    expect((await settled(`${path}?token=${two}`)).headers.get('Cache-Status')).toBe('signet; hit');
    expect((await settled(`${path}?token=${wider}`)).headers.get('Cache-Status')).toBe('signet; fwd=miss; stored');
    expect((await originGets(path)).map((s) => new URL(s.url, 'http://o').searchParams.get('width'))).toEqual(['320', '640']);
  });
});

describe('what the edge never keeps', () => {
  // [what, Cache-Control, Set-Cookie, Vary]
  it.each<[string, string, string, string | undefined]>([
    ['no-store', 'no-store', '', undefined],
    ['private', 'private, max-age=600', '', undefined],
    ['no-cache', 'no-cache', '', undefined],
    ['a Set-Cookie answer', 'public, max-age=600', 'origin_session=secret', undefined],
    ['an answer that varies on User-Agent', 'public, max-age=600', '', 'User-Agent'],
  ])('%s: every request is fetched', async (_what, cacheControl, setCookie, vary) => {
    const p = edgeId();
    const { tokens } = await viewers(p, 1);
    const path = `/${p}/v0/seg.m4s`;
    await placeOnOrigin(path, new Uint8Array(2048).fill(7), 'video/iso.segment', cacheControl, { setCookie, vary });
    for (let i = 0; i < 2; i++) {
      const answer = await settled(`${path}?token=${tokens[0]}`);
      expect([answer.status, answer.headers.get('Cache-Status')]).toEqual([200, 'signet; fwd=miss']);
      expect(answer.headers.get('Set-Cookie')).toBeNull();
    }
    expect((await originGets(path)).length).toBe(2);
  });

  it('an origin 5xx: refused 502 origin_error each time, never kept', async () => {
    const p = playbackId('fault-500-edge');
    const { tokens } = await viewers(p, 1);
    const path = `/${p}/v0/seg1.m4s`;
    for (let i = 0; i < 2; i++) {
      const answer = await settled(`${path}?token=${tokens[0]}`);
      expect([answer.status, json(answer).error.reason]).toEqual([502, 'origin_error']);
    }
    expect((await originGets(path)).length).toBe(2);
  });

  it('a 404 is passed to the player and not kept', async () => {
    const p = playbackId('missing-edge');
    const { tokens } = await viewers(p, 1);
    const path = `/${p}/v0/seg1.m4s`;
    for (let i = 0; i < 2; i++) expect((await settled(`${path}?token=${tokens[0]}`)).status).toBe(404);
    expect((await originGets(path)).length).toBe(2);
  });

  it('EDGE_CACHE=off: every request goes to the origin', async () => {
    const off = { ...env, EDGE_CACHE: 'off' };
    const p = edgeId();
    const { tokens } = await viewers(p, 1);
    const path = `/${p}/v0/seg3.m4s`;
    for (let i = 0; i < 2; i++) expect((await settled(`${path}?token=${tokens[0]}`, {}, off)).headers.get('Cache-Status')).toBe('signet; fwd=bypass');
    expect((await originGets(path)).length).toBe(2);
  });
});

describe('the cache never decides who may watch', () => {
  it('refuses a revoked viewer on a kept segment while another viewer plays it from the edge', async () => {
    const p = edgeId();
    const { tokens } = await viewers(p);
    const [revoked, other] = tokens as [string, string];
    const path = `/${p}/v0/seg1.m4s`;
    expect((await settled(`${path}?token=${revoked}`)).status).toBe(200);
    const revocation = await settled('/v1/iam/revocations', {
      method: 'POST',
      headers: { Authorization: adminAuth(), 'Content-Type': 'application/json' },
      body: JSON.stringify({ jti: `viewer-0-${p}` }),
    });
    expect(revocation.status).toBe(201);
    const refused = await settled(`${path}?token=${revoked}`);
    expect([refused.status, json(refused).error.reason]).toEqual([403, 'token_revoked']);
    const played = await settled(`${path}?token=${other}`);
    expect([played.status, played.headers.get('Cache-Status')]).toEqual([200, 'signet; hit']);
    expect((await originGets(path)).length).toBe(1);
  });

  it('refuses a forged grant, an expired token, another playback ID and no credential on kept media', async () => {
    const p = edgeId();
    const { key, tokens } = await viewers(p, 1);
    const playlist = await settled(`/${p}/v0/index.m3u8?token=${tokens[0]}`);
    const grant = childGrant(text(playlist));
    const path = `/${p}/v0/seg1.m4s`;
    expect((await settled(`${path}?grant=${grant}`)).status).toBe(200); // now kept
    const forged = `${grant.slice(0, -2)}${grant.endsWith('AA') ? 'BB' : 'AA'}`;
    const expired = await fastpixToken(key, p, -120, { iat: nowSeconds() - 600 });
    const elsewhere = await fastpixToken(key, edgeId());
    const cases: [string, string, number, string][] = [
      ['forged grant', `?grant=${forged}`, 403, 'grant_invalid'],
      ['expired token', `?token=${expired}`, 403, 'token_expired'],
      ['token for another playback ID', `?token=${elsewhere}`, 403, 'playback_id_mismatch'],
      ['no credential', '', 401, 'token_missing'],
    ];
    for (const [what, query, status, reason] of cases) {
      const answer = await settled(`${path}${query}`);
      expect([what, answer.status, json(answer).error.reason]).toEqual([what, status, reason]);
      expect(answer.headers.get('Cache-Status')).toBeNull();
    }
    expect((await originGets(path)).length).toBe(1);
  });
});
