/**
 * Issue 8 through HTTP: access rules in the token, playback policies per playback ID, grants
 * bound to the viewer network, signed image parameters, and DASH. CF-Connecting-IP and
 * request.cf are set by Cloudflare's edge in production; here the test sets them, as the edge would.
 */
import { describe, expect, it } from 'vitest';
import { callWorker, admin, createKey, fastpixToken, muxToken, originSaw, playbackId, refusal, type CreatedKey } from '../support/helpers';

let sharedKey: CreatedKey | undefined;
const key = async () => (sharedKey ??= await createKey('ES256'));

async function fetchAs(path: string, viewer: { ip?: string; country?: string; headers?: Record<string, string> } = {}) {
  const headers = new Headers(viewer.headers);
  if (viewer.ip) headers.set('CF-Connecting-IP', viewer.ip);
  const request = new Request(`https://gate.test${path}`, { headers, ...(viewer.country && { cf: { country: viewer.country } }) } as RequestInit);
  return callWorker(request);
}

async function firstChild(p: string, token: string, viewer: Parameters<typeof fetchAs>[1] = {}) {
  const response = await fetchAs(`/${p}.m3u8?token=${token}`, viewer);
  expect(response.status).toBe(200);
  const line = (await response.text()).split('\n').find((l) => l.startsWith(`${p}/v0/`))!;
  return `/${line}`;
}

async function setPolicy(p: string, policy: object) {
  const response = await admin(`/v1/playback-policies/${p}`, { method: 'PUT', body: JSON.stringify(policy) });
  expect(response.status).toBe(200);
}

describe('access rules in the token (Cloudflare Stream style)', () => {
  const rules = [
    { type: 'ip.src', action: 'block', ip: ['198.51.100.0/24', '2001:db8:bad::/48'] },
    { type: 'ip.geoip.country', action: 'allow', country: ['DE', 'FR'] },
    { type: 'any', action: 'block' },
  ];

  it.each([
    ['a viewer in an allowed country', { ip: '203.0.113.9', country: 'DE' }, 200],
    ['a viewer in another country', { ip: '203.0.113.9', country: 'US' }, 403],
    ['a blocked IPv4 range, even from an allowed country (first match wins)', { ip: '198.51.100.7', country: 'DE' }, 403],
    ['a blocked IPv6 range', { ip: '2001:db8:bad:1::5', country: 'FR' }, 403],
    ['an IPv6 viewer outside the blocked range', { ip: '2001:db8:900::1', country: 'FR' }, 200],
  ])('answers %s with %i', async (_name, viewer, status) => {
    const p = playbackId();
    const response = await fetchAs(`/${p}.m3u8?token=${await fastpixToken(await key(), p, 600, { accessRules: rules })}`, viewer);
    expect(response.status).toBe(status);
    if (status === 403) expect((await refusal(response)).reason).toBe('access_denied');
  });

  it('keeps enforcing the rules on every grant request of the session', async () => {
    const p = playbackId();
    const child = await firstChild(p, await fastpixToken(await key(), p, 600, { accessRules: rules }), { ip: '203.0.113.9', country: 'DE' });
    expect((await fetchAs(child, { ip: '203.0.113.9', country: 'DE' })).status).toBe(200);
    expect(await refusal(await fetchAs(child, { ip: '203.0.113.9', country: 'US' }))).toMatchObject({ status: 403, reason: 'access_denied' });
  });

  it.each([
    [{ type: 'ip.src', action: 'allow', ip: ['not-a-cidr'] }],
    [{ type: 'teleport', action: 'allow' }],
    [{ type: 'any', action: 'maybe' }],
  ])('refuses a token with malformed rules (%j) rather than ignoring them', async (rule) => {
    const p = playbackId();
    const response = await fetchAs(`/${p}.m3u8?token=${await fastpixToken(await key(), p, 600, { accessRules: [rule] })}`, { ip: '203.0.113.9' });
    expect(await refusal(response)).toMatchObject({ status: 403, reason: 'token_malformed' });
    expect(await originSaw(p)).toEqual([]);
  });
});

describe('playback policies per playback ID', () => {
  it('allows listed domains (wildcards included) and refuses the others, with or without a referrer', async () => {
    const p = playbackId();
    await setPolicy(p, { domains: { defaultPolicy: 'deny', allow: ['*.example.com', 'example.com'], deny: ['evil.example.com'], allowNoReferrer: false } });
    const token = await fastpixToken(await key(), p);
    const cases: Array<[Record<string, string>, number]> = [
      [{ Referer: 'https://www.example.com/watch' }, 200],
      [{ Referer: 'https://example.com/' }, 200],
      [{ Origin: 'https://player.example.com' }, 200],
      [{ Referer: 'https://evil.example.com/' }, 403],
      [{ Referer: 'https://example.org/' }, 403],
      [{}, 403],
    ];
    for (const [headers, status] of cases) {
      const response = await fetchAs(`/${p}.m3u8?token=${token}`, { headers });
      expect(response.status, JSON.stringify(headers)).toBe(status);
      if (status === 403) expect((await refusal(response)).reason).toBe('access_denied');
    }
  });

  it('lets native apps and Chromecast without a referrer through when allowNoReferrer is set', async () => {
    const p = playbackId();
    await setPolicy(p, { domains: { defaultPolicy: 'deny', allow: ['example.com'], deny: [], allowNoReferrer: true } });
    expect((await fetchAs(`/${p}.m3u8?token=${await fastpixToken(await key(), p)}`)).status).toBe(200);
  });

  it('refuses denied user agents and requires the token groups', async () => {
    const p = playbackId();
    await setPolicy(p, { userAgents: { defaultPolicy: 'allow', allow: [], deny: ['curl/'] }, requireGroups: ['premium'] });
    const premium = await fastpixToken(await key(), p, 600, { groups: ['premium', 'eu'] });
    const basic = await fastpixToken(await key(), p, 600, { groups: ['basic'] });
    expect((await fetchAs(`/${p}.m3u8?token=${premium}`, { headers: { 'User-Agent': 'Mozilla/5.0' } })).status).toBe(200);
    expect((await refusal(await fetchAs(`/${p}.m3u8?token=${premium}`, { headers: { 'User-Agent': 'curl/8.5' } }))).reason).toBe('access_denied');
    expect((await refusal(await fetchAs(`/${p}.m3u8?token=${basic}`, { headers: { 'User-Agent': 'Mozilla/5.0' } }))).reason).toBe('access_denied');
    // the grants of an accepted token keep working (groups were checked when they were minted)
    const child = await firstChild(p, premium, { headers: { 'User-Agent': 'Mozilla/5.0' } });
    expect((await fetchAs(child, { headers: { 'User-Agent': 'Mozilla/5.0' } })).status).toBe(200);
  });

  it('binds grants to the viewer network when the policy asks: the same /24 plays, another network does not', async () => {
    const p = playbackId();
    await setPolicy(p, { bindToViewerNetwork: true });
    const child = await firstChild(p, await fastpixToken(await key(), p), { ip: '203.0.113.5' });
    expect((await fetchAs(child, { ip: '203.0.113.77' })).status).toBe(200);
    expect(await refusal(await fetchAs(child, { ip: '198.51.100.1' }))).toMatchObject({ status: 403, reason: 'grant_invalid' });
  });

  it('is managed through the admin API behind Basic auth, and a deleted policy stops applying', async () => {
    const p = playbackId();
    await setPolicy(p, { domains: { defaultPolicy: 'deny', allow: [], deny: [], allowNoReferrer: false } });
    expect((await admin(`/v1/playback-policies/${p}`)).status).toBe(200);
    const anonymous = await callWorker(`/v1/playback-policies/${p}`);
    expect(anonymous.status).toBe(401);
    const token = await fastpixToken(await key(), p);
    expect((await fetchAs(`/${p}.m3u8?token=${token}`)).status).toBe(403);
    expect((await admin(`/v1/playback-policies/${p}`, { method: 'DELETE' })).status).toBe(200);
    expect((await fetchAs(`/${p}.m3u8?token=${token}`)).status).toBe(200);
  });
});

describe('signed image parameters', () => {
  it('sends the pinned values to the origin and refuses a conflicting query parameter', async () => {
    const p = playbackId();
    const token = await muxToken(await key(), p, 't', 600, { width: '320', time: '5' });
    expect((await fetchAs(`/${p}/thumbnail.jpg?token=${token}&height=180`)).status).toBe(200);
    const [seen] = await originSaw(`/${p}/thumbnail.jpg`);
    const sent = new URL(seen!.url, 'http://origin').searchParams;
    expect([sent.get('width'), sent.get('time'), sent.get('height')]).toEqual(['320', '5', '180']);
    expect(await refusal(await fetchAs(`/${p}/thumbnail.jpg?token=${token}&width=1920`))).toMatchObject({ status: 403, reason: 'access_denied' });
  });

  it('bounds unpinned parameters', async () => {
    const p = playbackId();
    const token = await muxToken(await key(), p, 't');
    expect((await fetchAs(`/${p}/thumbnail.jpg?token=${token}&width=4096`)).status).toBe(200);
    expect(await refusal(await fetchAs(`/${p}/thumbnail.jpg?token=${token}&width=5000`))).toMatchObject({ reason: 'access_denied' });
  });
});

describe('DASH', () => {
  it('rewrites the MPD so the initialization and media templates carry a grant, and the segments play through it', async () => {
    const p = playbackId();
    const response = await fetchAs(`/${p}.mpd?token=${await fastpixToken(await key(), p)}`);
    expect(response.status).toBe(200);
    expect(response.headers.get('Content-Type')).toBe('application/dash+xml');
    expect(response.headers.get('Cache-Control')).toMatch(/^private/);
    const mpd = await response.text();
    const media = /media="([^"]+)"/.exec(mpd)![1]!.replace(/&amp;/g, '&');
    const init = /initialization="([^"]+)"/.exec(mpd)![1]!.replace(/&amp;/g, '&');
    expect(media).toContain('$Number$');
    expect(new URL(media, 'https://gate.test/').searchParams.get('grant')).toBeTruthy();
    for (const template of [init, media]) {
      const url = template.replace('$RepresentationID$', 'v360').replace('$Number$', '2');
      expect((await fetchAs(`/${url}`)).status).toBe(200);
    }
    expect((await originSaw(`/${p}`)).every((r) => !r.url.includes('grant=') && !r.url.includes('token='))).toBe(true);
  });
});
