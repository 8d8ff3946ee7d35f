import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { createKey, fastpixToken, muxToken, originSaw, play, playbackId, refusal, sign, nowSeconds, type CreatedKey } from '../support/helpers';

const keys: Record<string, CreatedKey> = {};
async function key(algorithm: CreatedKey['algorithm'] = 'ES256') {
  return (keys[algorithm] ??= await createKey(algorithm));
}

/** Every URI line and URI="…" attribute of a playlist, resolved against its URL. */
function playlistUris(text: string, base: string): URL[] {
  const out: URL[] = [];
  for (const line of text.split(/\r?\n/)) {
    if (line.startsWith('#')) {
      for (const match of line.matchAll(/URI="([^"]*)"/g)) out.push(new URL(match[1]!, base));
    } else if (line.trim()) out.push(new URL(line.trim(), base));
  }
  return out;
}

describe('the full HLS flow', () => {
  it('plays multivariant → media playlist → init segment → segment, every child request carried by a grant', async () => {
    const signingKey = await key('RS256');
    const p = playbackId();
    const token = await fastpixToken(signingKey, p);
    const master = await play(`/${p}.m3u8?token=${token}`);
    expect(master.status).toBe(200);
    expect(master.headers.get('Cache-Control')).toMatch(/^private/);
    expect(master.headers.get('Access-Control-Allow-Origin')).toBe('*');
    const masterText = await master.text();
    expect(masterText).not.toContain(token);
    const uris = playlistUris(masterText, `https://gate.test/${p}.m3u8`);
    const local = uris.filter((u) => u.host === 'gate.test');
    expect(local.length).toBeGreaterThanOrEqual(5); // audio, subtitles, 2 variants, i-frames
    for (const uri of local) expect(uri.searchParams.get('grant')).toBeTruthy();
    // the ad URI on another host is left byte for byte
    expect(masterText).toContain('\nhttps://other-cdn.example/ads/index.m3u8\n');

    const variant = local.find((u) => u.pathname === `/${p}/v0/index.m3u8`)!;
    const media = await play(variant.pathname + variant.search);
    expect(media.status).toBe(200);
    const mediaText = await media.text();
    const children = playlistUris(mediaText, variant.href);
    expect(children.map((u) => u.pathname)).toEqual([`/${p}/v0/init.mp4`, ...[0, 1, 2, 3].map((i) => `/${p}/v0/seg${i}.m4s`)]);
    for (const child of children) {
      const response = await play(child.pathname + child.search);
      expect(response.status).toBe(200);
      expect((await response.arrayBuffer()).byteLength).toBeGreaterThan(0);
    }

    const seen = await originSaw(`/${p}`);
    expect(seen.length).toBe(2 + children.length);
    for (const request of seen) {
      expect(request.url).not.toMatch(/token=|grant=/);
      expect(JSON.stringify(request.headers)).not.toContain(token.slice(-20));
    }
  });

  it('keeps the variant query parameters and strips only the gate parameters on the way to the origin', async () => {
    const signingKey = await key();
    const p = playbackId();
    const master = await (await play(`/${p}.m3u8?token=${await fastpixToken(signingKey, p)}`)).text();
    const hd = playlistUris(master, `https://gate.test/${p}.m3u8`).find((u) => u.pathname.endsWith('/v1/index.m3u8'))!;
    expect(hd.searchParams.get('quality')).toBe('hd');
    expect((await play(hd.pathname + hd.search)).status).toBe(200);
    const seen = await originSaw(`/${p}/v1/index.m3u8`);
    expect(seen.map((s) => s.url)).toEqual([`/${p}/v1/index.m3u8?quality=hd`]);
  });
});

describe('token sources', () => {
  it.each([
    ['the query parameter', (t: string) => [`?token=${t}`, {}] as const],
    ['an Authorization: Bearer header', (t: string) => ['', { headers: { Authorization: `Bearer ${t}` } }] as const],
  ])('accepts a token in %s', async (_name, place) => {
    const signingKey = await key();
    const p = playbackId();
    const [query, init] = place(await fastpixToken(signingKey, p));
    const response = await play(`/${p}/v0/seg0.m4s${query}`, init);
    expect(response.status).toBe(200);
  });

  it('refuses a request without any credential with 401 token_missing and a Bearer challenge', async () => {
    const p = playbackId();
    const response = await play(`/${p}.m3u8`);
    expect(response.headers.get('WWW-Authenticate')).toBe('Bearer error="invalid_token"');
    expect(await refusal(response)).toMatchObject({ status: 401, code: 401, reason: 'token_missing' });
    expect(await originSaw(p)).toEqual([]);
  });

  it('refuses two token query parameters with 400 duplicate_token', async () => {
    const signingKey = await key();
    const p = playbackId();
    const token = await fastpixToken(signingKey, p);
    expect(await refusal(await play(`/${p}.m3u8?token=${token}&token=${token}`))).toMatchObject({ status: 400, reason: 'duplicate_token' });
  });

  it('refuses a token over 8 KiB with 400 token_too_large before any crypto', async () => {
    const p = playbackId();
    expect(await refusal(await play(`/${p}.m3u8?token=${'a'.repeat(9000)}`))).toMatchObject({ status: 400, reason: 'token_too_large' });
  });
});

describe('asset binding', () => {
  it.each([
    ['v', `/{P}.m3u8`],
    ['v', `/{P}/v0/seg0.m4s`],
    ['t', `/{P}/thumbnail.jpg`],
    ['g', `/{P}/animated.gif`],
    ['s', `/{P}/storyboard.vtt`],
    ['s', `/{P}/spritesheet.png`],
  ] as const)('accepts a Mux token with aud "%s" for %s', async (aud, template) => {
    const signingKey = await key('RS256');
    const p = playbackId();
    const response = await play(`${template.replace('{P}', p)}?token=${await muxToken(signingKey, p, aud)}`);
    expect(response.status).toBe(200);
  });

  it.each([
    ['t', `/{P}.m3u8`],
    ['v', `/{P}/thumbnail.jpg`],
    ['v', `/{P}/animated.gif`],
    ['t', `/{P}/storyboard.vtt`],
  ] as const)('refuses a Mux token with aud "%s" for %s (audience_mismatch)', async (aud, template) => {
    const signingKey = await key('RS256');
    const p = playbackId();
    const response = await play(`${template.replace('{P}', p)}?token=${await muxToken(signingKey, p, aud)}`);
    expect(await refusal(response)).toMatchObject({ status: 403, reason: 'audience_mismatch' });
    expect(await originSaw(p)).toEqual([]);
  });

  it.each(['/{P}.m3u8', '/{P}/thumbnail.webp', '/{P}/animated.webp', '/{P}/spritesheet.jpg'])('accepts a FastPix token (aud media:P) for %s', async (template) => {
    const signingKey = await key('EdDSA');
    const p = playbackId();
    expect((await play(`${template.replace('{P}', p)}?token=${await fastpixToken(signingKey, p)}`)).status).toBe(200);
  });

  it('refuses a token signed for another playback ID (playback_id_mismatch), in both dialects', async () => {
    const signingKey = await key();
    const p = playbackId();
    const other = playbackId();
    for (const token of [await fastpixToken(signingKey, other), await muxToken(signingKey, other, 'v')]) {
      expect(await refusal(await play(`/${p}.m3u8?token=${token}`))).toMatchObject({ status: 403, reason: 'playback_id_mismatch' });
    }
    expect(await originSaw(p)).toEqual([]);
  });
});

describe('grants', () => {
  async function grantFor(p: string) {
    const signingKey = await key();
    const text = await (await play(`/${p}.m3u8?token=${await fastpixToken(signingKey, p)}`)).text();
    return playlistUris(text, `https://gate.test/${p}.m3u8`).find((u) => u.host === 'gate.test')!.searchParams.get('grant')!;
  }

  it('a grant for one playback ID opens nothing of another', async () => {
    const p = playbackId();
    const q = playbackId();
    const grant = await grantFor(p);
    expect(await refusal(await play(`/${q}/v0/seg0.m4s?grant=${grant}`))).toMatchObject({ status: 403, reason: 'grant_invalid' });
    expect(await originSaw(q)).toEqual([]);
  });

  it('a playlist grant opens no thumbnail', async () => {
    const p = playbackId();
    const grant = await grantFor(p);
    expect(await refusal(await play(`/${p}/thumbnail.jpg?grant=${grant}`))).toMatchObject({ status: 403, reason: 'grant_invalid' });
  });

  it('a tampered grant is refused', async () => {
    const p = playbackId();
    const grant = await grantFor(p);
    const tampered = grant.slice(0, -2) + (grant.endsWith('AA') ? 'BB' : 'AA');
    expect(await refusal(await play(`/${p}/v0/seg0.m4s?grant=${tampered}`))).toMatchObject({ status: 403, reason: 'grant_invalid' });
  });

  it('a grant expires no later than the token it came from', async () => {
    const signingKey = await key();
    const p = playbackId();
    const exp = nowSeconds() + 40;
    const text = await (await play(`/${p}.m3u8?token=${await fastpixToken(signingKey, p, 40)}`)).text();
    const grant = playlistUris(text, `https://gate.test/${p}.m3u8`)[0]!.searchParams.get('grant')!;
    const payload = JSON.parse(atob(grant.split('.')[0]!.replace(/-/g, '+').replace(/_/g, '/')));
    expect(payload.e).toBeLessThanOrEqual(exp);
  });
});

describe('proxying', () => {
  it('passes Range through and answers 206 with Content-Range', async () => {
    const signingKey = await key();
    const p = playbackId();
    const response = await play(`/${p}/v0/seg1.m4s?token=${await fastpixToken(signingKey, p)}`, { headers: { Range: 'bytes=100-199' } });
    expect(response.status).toBe(206);
    expect(response.headers.get('Content-Range')).toBe('bytes 100-199/65536');
    expect((await response.arrayBuffer()).byteLength).toBe(100);
    expect(response.headers.get('Access-Control-Expose-Headers')).toContain('Content-Range');
    const [seen] = await originSaw(`/${p}/v0/seg1.m4s`);
    expect(seen!.headers.range).toBe('bytes=100-199');
  });

  it('passes 416 and 304 back', async () => {
    const signingKey = await key();
    const p = playbackId();
    const token = await fastpixToken(signingKey, p);
    expect((await play(`/${p}/v0/seg1.m4s?token=${token}`, { headers: { Range: 'bytes=999999-' } })).status).toBe(416);
    const first = await play(`/${p}/v0/seg1.m4s?token=${token}`);
    const etag = first.headers.get('ETag')!;
    await first.arrayBuffer();
    expect((await play(`/${p}/v0/seg1.m4s?token=${token}`, { headers: { 'If-None-Match': etag } })).status).toBe(304);
  });

  it('passes the origin 404 back', async () => {
    const signingKey = await key();
    const p = playbackId('missing');
    expect((await play(`/${p}/v0/seg1.m4s?token=${await fastpixToken(signingKey, p)}`)).status).toBe(404);
  });

  it('never forwards cookies, authorization or the origin Set-Cookie', async () => {
    const signingKey = await key();
    const p = playbackId();
    const token = await fastpixToken(signingKey, p);
    const response = await play(`/${p}/v0/seg2.m4s`, { headers: { Authorization: `Bearer ${token}`, Cookie: 'a=b' } });
    expect(response.status).toBe(200);
    expect(response.headers.get('Set-Cookie')).toBeNull();
    expect(response.headers.get('X-Origin-Internal')).toBeNull();
    const [seen] = await originSaw(`/${p}/v0/seg2.m4s`);
    expect(seen!.headers.authorization).toBeUndefined();
    expect(seen!.headers.cookie).toBeUndefined();
  });

  it.each([
    ['fault-500', 502, 'origin_error'],
    ['fault-reset', 502, 'origin_error'],
    ['fault-hang', 504, 'origin_timeout'],
    ['fault-invalid', 502, 'origin_error'],
  ])('answers %s from the origin with %i %s', async (prefix, status, reason) => {
    const signingKey = await key();
    const p = playbackId(prefix);
    const response = await play(`/${p}.m3u8?token=${await fastpixToken(signingKey, p)}`);
    const body = await refusal(response);
    expect(body).toMatchObject({ status, reason });
    expect(JSON.stringify(body)).not.toContain('Traceback');
  });

  it('answers an OPTIONS preflight without a token', async () => {
    const response = await play(`/${playbackId()}.m3u8`, { method: 'OPTIONS' });
    expect(response.status).toBe(204);
    expect(response.headers.get('Access-Control-Allow-Methods')).toContain('GET');
  });

  it('refuses POST with 405', async () => {
    const response = await play(`/${playbackId()}.m3u8`, { method: 'POST' });
    expect(response.status).toBe(405);
    expect(response.headers.get('Allow')).toBe('GET, HEAD, OPTIONS');
  });
});

describe('claims', () => {
  it.each([
    ['an expired token', { exp: nowSeconds() - 120 }, 'token_expired'],
    ['a token not yet valid', { exp: nowSeconds() + 600, nbf: nowSeconds() + 300 }, 'token_not_yet_valid'],
    ['a token issued in the future', { exp: nowSeconds() + 600, iat: nowSeconds() + 300 }, 'token_not_yet_valid'],
    ['a token without exp', {}, 'token_malformed'],
  ])('refuses %s', async (_name, claims, reason) => {
    const signingKey = await key();
    const p = playbackId();
    const token = await sign(signingKey, { kid: signingKey.id, aud: `media:${p}`, ...claims });
    expect(await refusal(await play(`/${p}.m3u8?token=${token}`))).toMatchObject({ status: 403, reason });
  });

  it('refuses a token whose kid is unknown', async () => {
    const signingKey = await key();
    const p = playbackId();
    const token = await sign(signingKey, { kid: 'nope', aud: `media:${p}`, exp: nowSeconds() + 60 });
    expect(await refusal(await play(`/${p}.m3u8?token=${token}`))).toMatchObject({ status: 403, reason: 'key_unknown' });
  });

  it('refuses a token signed by another key under a known kid (signature_invalid)', async () => {
    const signingKey = await key();
    const impostor = await createKey('ES256');
    const p = playbackId();
    const token = await sign(impostor, { kid: signingKey.id, aud: `media:${p}`, exp: nowSeconds() + 60 });
    expect(await refusal(await play(`/${p}.m3u8?token=${token}`))).toMatchObject({ status: 403, reason: 'signature_invalid' });
  });

  it('refuses alg "none"', async () => {
    const p = playbackId();
    const enc = (o: object) => btoa(JSON.stringify(o)).replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');
    const token = `${enc({ alg: 'none' })}.${enc({ kid: 'x', aud: `media:${p}`, exp: nowSeconds() + 60 })}.AAAA`;
    expect(await refusal(await play(`/${p}.m3u8?token=${token}`))).toMatchObject({ status: 403, reason: 'algorithm_not_allowed' });
  });

  it('refuses a malformed path before anything is fetched', async () => {
    expect(await refusal(await play(`/abc%2F..%2Fsecret/seg.ts`))).toMatchObject({ status: 400, reason: 'bad_path' });
  });
});

describe('key lifecycle at the gate', () => {
  it('stops verifying a deleted key at once in the isolate that deleted it, grants included', async () => {
    const signingKey = await createKey('ES256');
    const p = playbackId();
    const token = await fastpixToken(signingKey, p);
    const text = await (await play(`/${p}.m3u8?token=${token}`)).text();
    const child = playlistUris(text, `https://gate.test/${p}.m3u8`).find((u) => u.host === 'gate.test')!;
    const { admin } = await import('../support/helpers');
    expect((await admin(`/v1/iam/signing-keys/${signingKey.id}`, { method: 'DELETE' })).status).toBe(200);
    expect(await refusal(await play(`/${p}.m3u8?token=${token}`))).toMatchObject({ reason: 'key_unknown' });
    expect(await refusal(await play(child.pathname + child.search))).toMatchObject({ reason: 'key_unknown' });
  });

  it('refuses a key whose expiresAt has passed with key_expired', async () => {
    const signingKey = await createKey('ES256');
    const record = JSON.parse((await env.KEYS.get(`key:${signingKey.id}`))!);
    record.expiresAt = new Date(Date.now() - 1000).toISOString();
    await env.KEYS.put(`key:${signingKey.id}`, JSON.stringify(record), { metadata: { algorithm: record.algorithm, createdAt: record.createdAt, expiresAt: record.expiresAt } });
    const p = playbackId();
    expect(await refusal(await play(`/${p}.m3u8?token=${await fastpixToken(signingKey, p)}`))).toMatchObject({ reason: 'key_expired' });
  });
});

describe('the playback ID "demo"', () => {
  it('is served by the gate under /demo/…, though the admin face owns the demo player script paths', async () => {
    const key = await createKey('ES256');
    expect((await play(`/demo/thumbnail.jpg?token=${await muxToken(key, 'demo', 't')}`)).status).toBe(200);
    expect((await play(`/demo/v0/seg0.m4s?token=${await fastpixToken(key, 'demo')}`)).status).toBe(200);
    expect(await refusal(await play('/demo/v0/seg0.m4s'))).toMatchObject({ status: 401, reason: 'token_missing' });
  });
});
