/**
 * Remote JWKS sources (issue 7): a fake JWKS server, the real KV namespace, an injected clock.
 * Nothing sleeps: TTL, cooldown and staleness move with the clock; the hang test uses fake timers.
 */
import { env } from 'cloudflare:test';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ConfigError, type Env } from '../../src/config';
import {
  jwksCopyName,
  RemoteJwksAmbiguousKid,
  RemoteJwksSet,
  RemoteJwksUnavailable,
  ttlFromCacheControl,
  type RemoteJwksOptions,
} from '../../src/keys/remote-jwks';
import { verifySignedToken } from '../../src/token/verify';
import { countingKv } from '../support/helpers';
import { fakeJwksServer, manualClock, published, signingPair, signToken, uniqueUrl } from './jwks-server';

const kv = env.KEYS;

function remoteSet(server: ReturnType<typeof fakeJwksServer>, options: Partial<RemoteJwksOptions> & { urls?: string[] } = {}, store: KVNamespace = kv, clock = manualClock()) {
  const writes: Promise<unknown>[] = [];
  const set = new RemoteJwksSet({ urls: [uniqueUrl()], ...options }, { fetch: server.fetch, kv: store, now: clock.now });
  /** lookup with a waitUntil that the test can drain (KV copy writes). */
  const lookup = (kid: string) => set.lookup(kid, (p) => writes.push(p));
  const flush = () => Promise.all(writes.splice(0));
  return { set, lookup, flush, clock };
}

async function failure(promise: Promise<unknown>) {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(RemoteJwksUnavailable);
  return error as RemoteJwksUnavailable;
}

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

describe('JWKS_URLS', () => {
  it('answers null without any I/O when no source is configured', async () => {
    const server = fakeJwksServer();
    const set = new RemoteJwksSet({ urls: [] }, { fetch: server.fetch, kv, now: Date.now });
    expect(await set.lookup('anything')).toBeNull();
    expect(server.calls).toBe(0);
  });
});

describe('fetching a remote key set', () => {
  it('verifies a token signed elsewhere with a key from the remote set', async () => {
    const pair = await signingPair('idp-key-1', 'RS256');
    const server = fakeJwksServer([published(pair)]);
    const { lookup, clock } = remoteSet(server);
    const token = await signToken(pair, { aud: 'media:abc', exp: Math.floor(clock.now() / 1000) + 600 });
    const verified = await verifySignedToken(token, lookup, { clockSkewSeconds: 30, issuer: '', maxTokenLifetimeSeconds: 0 }, clock.now());
    expect(verified.kid).toBe('idp-key-1');
    expect(server.calls).toBe(1);
    const [request] = server.state.requests;
    expect(request!.init.redirect).toBe('manual');
    expect(request!.init.signal).toBeInstanceOf(AbortSignal);
  });

  it('reports the source of a remote key', async () => {
    const pair = await signingPair('k-src', 'EdDSA');
    const server = fakeJwksServer([published(pair)]);
    const url = uniqueUrl();
    const { lookup } = remoteSet(server, { urls: [url] });
    const key = await lookup('k-src');
    expect(key).toMatchObject({ kid: 'k-src', algorithm: 'EdDSA', source: url, expiresAtMs: undefined });
  });

  it('drops a remote key published under a local kid when the set is loaded, and logs it (issue 11)', async () => {
    const [clash, other] = await Promise.all([signingPair('local-kid', 'ES256'), signingPair('remote-only', 'ES256')]);
    const server = fakeJwksServer([published(clash), published(other)]);
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const set = new RemoteJwksSet({ urls: [uniqueUrl()] }, { fetch: server.fetch, kv, now: manualClock().now, localKids: async () => new Set(['local-kid']) });
    expect(await set.lookup('local-kid')).toBeNull();
    expect(await set.lookup('remote-only')).toMatchObject({ kid: 'remote-only' });
    expect(warn.mock.calls.map(([line]) => JSON.parse(String(line)).event)).toContain('remote_jwks_kid_collision');
    warn.mockRestore();
  });

  it('keeps the set whole when the local kids cannot be listed (the gate looks local kids up first)', async () => {
    const pair = await signingPair('k-kv-down', 'ES256');
    const server = fakeJwksServer([published(pair)]);
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const set = new RemoteJwksSet({ urls: [uniqueUrl()] }, { fetch: server.fetch, kv, now: manualClock().now, localKids: () => Promise.reject(new Error('KV down')) });
    expect(await set.lookup('k-kv-down')).toMatchObject({ kid: 'k-kv-down' });
    warn.mockRestore();
  });

  it('imports each CryptoKey once, across refreshes of the same set', async () => {
    const pair = await signingPair('k-once');
    const server = fakeJwksServer([published(pair)]);
    const { lookup, clock } = remoteSet(server);
    const first = await lookup('k-once');
    clock.advance(601);
    const second = await lookup('k-once');
    expect(server.calls).toBe(2);
    expect(second!.key).toBe(first!.key);
  });
});

describe('the KV copy', () => {
  it('serves a cold isolate from the KV copy without any network', async () => {
    const pair = await signingPair('k-cold');
    const server = fakeJwksServer([published(pair)]);
    const url = uniqueUrl();
    const clock = manualClock();
    const warm = remoteSet(server, { urls: [url] }, kv, clock);
    expect(await warm.lookup('k-cold')).not.toBeNull();
    await warm.flush();
    expect(server.calls).toBe(1);

    clock.advance(10);
    const counting = countingKv(kv);
    const cold = remoteSet(server, { urls: [url] }, counting.kv, clock);
    expect((await cold.lookup('k-cold'))?.kid).toBe('k-cold');
    expect(server.calls).toBe(1);
    expect(counting.calls.get).toBe(1);
    // and then the warm path: zero KV reads, zero fetches
    for (let i = 0; i < 20; i++) await cold.lookup('k-cold');
    expect(counting.calls.get).toBe(1);
    expect(server.calls).toBe(1);
  });

  it('stores {fetchedAt, expiresAt, keys} under jwks:{sha256(url)}, expiring by itself once useless', async () => {
    const pair = await signingPair('k-copy');
    const server = fakeJwksServer([published(pair)]);
    server.state.cacheControl = 'public, max-age=300';
    const url = uniqueUrl();
    const { lookup, flush, clock } = remoteSet(server, { urls: [url] });
    await lookup('k-copy');
    await flush();
    const name = await jwksCopyName(url);
    expect(name).toMatch(/^jwks:[0-9a-f]{64}$/);
    const copy = (await kv.get(name, 'json')) as { url: string; fetchedAt: number; expiresAt: number; keys: { kid: string; alg: string; jwk: Record<string, unknown> }[] };
    expect(copy.url).toBe(url);
    expect(copy.fetchedAt).toBe(clock.start);
    expect(copy.expiresAt).toBe(clock.start + 300_000);
    expect(copy.keys).toEqual([{ kid: 'k-copy', alg: 'ES256', jwk: { kty: 'EC', crv: 'P-256', x: pair.publicJwk.x, y: pair.publicJwk.y } }]);
    const listed = await kv.list({ prefix: name });
    // The copy is worth keeping until it can no longer be served stale (fetchedAt + 24 h).
    expect(listed.keys[0]!.expiration).toBe(Math.ceil((clock.start + 86_400_000) / 1000));
  });

  it('goes to the network when the KV copy cannot be read (a failing KV never decides a kid)', async () => {
    vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const pair = await signingPair('k-kvdown');
    const server = fakeJwksServer([published(pair)]);
    const counting = countingKv(kv);
    counting.behaviour.fail = true;
    const { lookup } = remoteSet(server, {}, counting.kv);
    expect((await lookup('k-kvdown'))?.kid).toBe('k-kvdown');
    expect(server.calls).toBe(1);
  });

  it('adopts a fresher copy written by another isolate instead of fetching', async () => {
    const k1 = await signingPair('k-iso-1');
    const k2 = await signingPair('k-iso-2');
    const server = fakeJwksServer([published(k1)]);
    const url = uniqueUrl();
    const clock = manualClock();
    const a = remoteSet(server, { urls: [url] }, kv, clock);
    const b = remoteSet(server, { urls: [url] }, kv, clock);
    await a.lookup('k-iso-1');
    await a.flush();
    await b.lookup('k-iso-1'); // from the copy
    expect(server.calls).toBe(1);
    // past the TTL, isolate A refreshes and sees the rotation; B then finds A's copy in KV
    server.rotate([published(k1), published(k2)]);
    clock.advance(601);
    expect((await a.lookup('k-iso-2'))?.kid).toBe('k-iso-2');
    await a.flush();
    expect(server.calls).toBe(2);
    expect((await b.lookup('k-iso-2'))?.kid).toBe('k-iso-2');
    expect(server.calls).toBe(2);
  });
});

describe('TTL', () => {
  it('trusts a set for ttlSeconds, then refreshes it (and a key rotated out stops verifying)', async () => {
    const old = await signingPair('k-old');
    const fresh = await signingPair('k-new');
    const server = fakeJwksServer([published(old)]);
    const { lookup, clock } = remoteSet(server);
    expect(await lookup('k-old')).not.toBeNull();
    server.rotate([published(fresh)]);
    clock.advance(599);
    expect(await lookup('k-old')).not.toBeNull();
    expect(server.calls).toBe(1);
    clock.advance(2);
    expect(await lookup('k-old')).toBeNull();
    expect(server.calls).toBe(2);
    expect(await lookup('k-new')).not.toBeNull();
    expect(server.calls).toBe(2);
  });

  it('honours Cache-Control max-age', async () => {
    const pair = await signingPair('k-maxage');
    const server = fakeJwksServer([published(pair)]);
    server.state.cacheControl = 'public, max-age=120';
    const { lookup, clock } = remoteSet(server);
    await lookup('k-maxage');
    clock.advance(119);
    await lookup('k-maxage');
    expect(server.calls).toBe(1);
    clock.advance(2);
    await lookup('k-maxage');
    expect(server.calls).toBe(2);
  });

  it.each([
    [null, 600],
    ['max-age=120', 120],
    ['public, max-age=5', 60],
    ['max-age=9999999', 86_400],
    ['no-store', 60],
    ['no-cache, max-age=600', 60],
    ['s-maxage=30', 600],
    ['max-age=abc', 600],
  ])('Cache-Control %s → %i s', (header, ttl) => {
    expect(ttlFromCacheControl(header, { ttlSeconds: 600, minTtlSeconds: 60, maxTtlSeconds: 86_400 })).toBe(ttl);
  });
});

describe('unknown kids', () => {
  it('refreshes on an unknown kid at most once per cooldown per source', async () => {
    const k1 = await signingPair('k-a');
    const k2 = await signingPair('k-b');
    const server = fakeJwksServer([published(k1)]);
    const counting = countingKv(kv);
    const { lookup, clock } = remoteSet(server, {}, counting.kv);
    await lookup('k-a');
    expect(server.calls).toBe(1);
    server.rotate([published(k1), published(k2)]);

    clock.advance(5);
    const readsBefore = counting.calls.get;
    // anti-DoS: a flood of random kids inside the cooldown costs no fetch and no KV read
    for (let i = 0; i < 50; i++) expect(await lookup(`random-${i}`)).toBeNull();
    expect(await lookup('k-b')).toBeNull();
    expect(server.calls).toBe(1);
    expect(counting.calls.get).toBe(readsBefore);

    clock.advance(26); // 31 s after the fetch
    expect((await lookup('k-b'))?.kid).toBe('k-b');
    expect(server.calls).toBe(2);
    clock.advance(1);
    expect(await lookup('k-c')).toBeNull();
    expect(server.calls).toBe(2);
  });

  it('turns a burst of 200 concurrent lookups of one unknown kid into one fetch per source', async () => {
    const k1 = await signingPair('k-burst');
    const serverA = fakeJwksServer([published(k1)]);
    const serverB = fakeJwksServer([]);
    serverB.behave({ kind: 'raw', body: JSON.stringify({ keys: [published(await signingPair('k-other'))] }) });
    const urlA = uniqueUrl('a');
    const urlB = uniqueUrl('b');
    const clock = manualClock();
    const set = new RemoteJwksSet(
      { urls: [urlA, urlB] },
      { fetch: (url, init) => (url === urlA ? serverA.fetch(url, init) : serverB.fetch(url, init)), kv, now: clock.now },
    );
    const cold = await Promise.all(Array.from({ length: 200 }, () => set.lookup('k-burst')));
    expect(cold.every((key) => key?.kid === 'k-burst')).toBe(true);
    expect([serverA.calls, serverB.calls]).toEqual([1, 1]);

    // warm, past the cooldown: 200 concurrent lookups of a kid nobody knows → one more fetch per source
    clock.advance(31);
    const unknown = await Promise.all(Array.from({ length: 200 }, () => set.lookup('k-nobody')));
    expect(unknown.every((key) => key === null)).toBe(true);
    expect([serverA.calls, serverB.calls]).toEqual([2, 2]);
    expect(set.fetches).toBe(4);
  });

  it('never makes a request for a known kid wait on a refresh another request started', async () => {
    const pair = await signingPair('k-known');
    const server = fakeJwksServer([published(pair)]);
    const { set, lookup, clock } = remoteSet(server);
    await lookup('k-known');
    clock.advance(601); // past the TTL
    server.behave({ kind: 'held' });
    const refreshing = lookup('k-known'); // this one triggers the refresh and waits for it
    await vi.waitFor(() => expect(server.calls).toBe(2));
    const others = await Promise.all(Array.from({ length: 10 }, () => lookup('k-known')));
    expect(others.every((key) => key?.kid === 'k-known')).toBe(true);
    expect(set.fetches).toBe(2);
    server.release();
    expect((await refreshing)?.kid).toBe('k-known');
  });
});

describe('failures', () => {
  it('serves the last good set on fetch errors until fetchedAt + staleSeconds, then fails closed', async () => {
    vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const pair = await signingPair('k-stale');
    const server = fakeJwksServer([published(pair)]);
    const { lookup, clock } = remoteSet(server);
    await lookup('k-stale');
    server.behave({ kind: 'status', status: 503 });

    clock.advance(700); // past the TTL: the refresh fails, the stale key serves
    expect((await lookup('k-stale'))?.kid).toBe('k-stale');
    expect(server.calls).toBe(2);
    expect(await lookup('k-unknown')).toBeNull(); // within the cooldown: no fetch, the stale set decides
    expect(server.calls).toBe(2);

    clock.advance(30); // the failing source is retried once per cooldown, not per request
    expect((await lookup('k-stale'))?.kid).toBe('k-stale');
    expect(server.calls).toBe(3);

    clock.advance(86_400 - 730 - 1); // 1 s before fetchedAt + 24 h
    expect((await lookup('k-stale'))?.kid).toBe('k-stale');
    clock.advance(1);
    const error = await failure(lookup('k-stale'));
    expect(error.code).toBe('ERR_REMOTE_JWKS_UNAVAILABLE');
    expect(error.sources[0]!.failure).toBe('http_status');
    await failure(lookup('k-unknown'));

    server.behave({ kind: 'serve' }); // the source recovers: keys verify again after the cooldown
    clock.advance(30);
    expect((await lookup('k-stale'))?.kid).toBe('k-stale');
  });

  it('fails closed on a cold isolate whose only source is down', async () => {
    vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const server = fakeJwksServer();
    server.behave({ kind: 'network_error' });
    const { lookup } = remoteSet(server);
    const error = await failure(lookup('k-any'));
    expect(error.sources[0]!.failure).toBe('network');
    // and does not hammer the source: within the cooldown no new fetch
    await failure(lookup('k-any'));
    expect(server.calls).toBe(1);
  });

  it('times out a source that never answers (5 s by default), aborting the request', async () => {
    vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    vi.useFakeTimers();
    const server = fakeJwksServer();
    server.behave({ kind: 'hang' });
    // An in-memory KV (no real I/O) so only microtasks stand between the lookup and the fetch:
    // vi.waitFor would move the fake clock while polling.
    const memoryKv = { get: async () => null, put: async () => undefined } as unknown as KVNamespace;
    const { lookup } = remoteSet(server, {}, memoryKv);
    const pending = failure(lookup('k-hang'));
    for (let i = 0; i < 100 && server.calls === 0; i++) await Promise.resolve();
    expect(server.calls).toBe(1);
    await vi.advanceTimersByTimeAsync(4_999);
    expect(server.state.aborted).toBe(0);
    await vi.advanceTimersByTimeAsync(1);
    const error = await pending;
    expect(error.sources[0]!.failure).toBe('timeout');
    expect(server.state.aborted).toBe(1);
  });

  it('refuses a redirect instead of following it', async () => {
    vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const server = fakeJwksServer();
    server.behave({ kind: 'redirect', location: 'https://attacker.example/jwks.json' });
    const { lookup } = remoteSet(server);
    expect((await failure(lookup('k-redirect'))).sources[0]!.failure).toBe('redirect');
    expect(server.state.requests.map((r) => r.url)).not.toContain('https://attacker.example/jwks.json');
  });

  it('stops reading a body past the size cap (64 KiB by default)', async () => {
    vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const server = fakeJwksServer();
    server.behave({ kind: 'huge', bytes: 10 * 1024 * 1024, declareLength: false });
    const { lookup } = remoteSet(server);
    expect((await failure(lookup('k-huge'))).sources[0]!.failure).toBe('too_large');
    expect(server.state.chunksPulled).toBeLessThan(80); // ~65 of 10240 chunks
  });

  it('refuses a body whose Content-Length exceeds the cap without reading it', async () => {
    vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const server = fakeJwksServer();
    server.behave({ kind: 'huge', bytes: 1024 * 1024, declareLength: true });
    const { lookup } = remoteSet(server);
    expect((await failure(lookup('k-huge'))).sources[0]!.failure).toBe('too_large');
    expect(server.state.chunksPulled).toBeLessThanOrEqual(1);
  });

  it.each([
    ['not JSON', '<html>oops</html>', 'invalid_json'],
    ['JSON but not a JWK Set', '{"kty":"EC"}', 'invalid_jwks'],
    ['a set with no usable key', '{"keys":[{"kty":"oct","kid":"x"}]}', 'no_usable_key'],
    ['an empty set', '{"keys":[]}', 'no_usable_key'],
  ])('treats %s as a failing source', async (_name, body, expected) => {
    vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const server = fakeJwksServer();
    server.behave({ kind: 'raw', body });
    const { lookup } = remoteSet(server);
    expect((await failure(lookup('k'))).sources[0]!.failure).toBe(expected);
  });

  it('keeps serving the last good set when a refresh returns an invalid document', async () => {
    vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const pair = await signingPair('k-keep');
    const server = fakeJwksServer([published(pair)]);
    const { lookup, clock } = remoteSet(server);
    await lookup('k-keep');
    server.behave({ kind: 'raw', body: '{"keys":[]}' });
    clock.advance(601);
    expect((await lookup('k-keep'))?.kid).toBe('k-keep');
    expect(server.calls).toBe(2);
  });
});

describe('JWK validation', () => {
  it('refuses a whole set that publishes a private key', async () => {
    vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const good = await signingPair('k-good');
    const { privateKey } = await signingPair('k-private');
    const { exportJWK } = await import('jose');
    const privateJwk = { ...(await exportJWK(privateKey)), kid: 'k-private', alg: 'ES256' };
    const server = fakeJwksServer([published(good), privateJwk]);
    const { lookup } = remoteSet(server);
    expect((await failure(lookup('k-good'))).sources[0]!.failure).toBe('private_key');
  });

  it('refuses RSA keys under 2048 bits', async () => {
    vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const modulus = new Uint8Array(128);
    crypto.getRandomValues(modulus);
    modulus[0]! |= 0x80;
    const n = btoa(String.fromCharCode(...modulus)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
    const rsa1024 = { kty: 'RSA', n, e: 'AQAB', kid: 'k-rsa1024', alg: 'RS256', use: 'sig' };
    const alone = fakeJwksServer([rsa1024]);
    expect((await failure(remoteSet(alone).lookup('k-rsa1024'))).sources[0]!.failure).toBe('no_usable_key');

    const ok = await signingPair('k-rsa2048', 'RS256');
    const mixed = fakeJwksServer([rsa1024, published(ok)]);
    const { lookup } = remoteSet(mixed);
    expect(await lookup('k-rsa1024')).toBeNull();
    expect((await lookup('k-rsa2048'))?.algorithm).toBe('RS256');
  });

  it('derives alg when absent (RSA → RS256, EC P-256 → ES256, OKP Ed25519 → EdDSA) and skips what it cannot use', async () => {
    const rsa = await signingPair('d-rsa', 'RS256');
    const ec = await signingPair('d-ec', 'ES256');
    const ed = await signingPair('d-ed', 'EdDSA');
    const enc = await signingPair('d-enc', 'ES256');
    const hs = await signingPair('d-rs512', 'RS256');
    const noKid = await signingPair('ignored', 'ES256');
    const dup = await signingPair('d-dup', 'ES256');
    const dup2 = await signingPair('d-dup', 'ES256');
    const server = fakeJwksServer([
      { ...rsa.publicJwk, kid: 'd-rsa' },
      { ...ec.publicJwk, kid: 'd-ec' },
      { ...ed.publicJwk, kid: 'd-ed' },
      { ...enc.publicJwk, kid: 'd-enc', use: 'enc' },
      { ...hs.publicJwk, kid: 'd-rs512', alg: 'RS512' },
      { ...noKid.publicJwk },
      { ...ec.publicJwk, kid: 'd-wrong-alg', alg: 'EdDSA' },
      published(dup),
      published(dup2),
      'not an object',
    ]);
    const { lookup } = remoteSet(server);
    expect((await lookup('d-rsa'))?.algorithm).toBe('RS256');
    expect((await lookup('d-ec'))?.algorithm).toBe('ES256');
    expect((await lookup('d-ed'))?.algorithm).toBe('EdDSA');
    for (const kid of ['d-enc', 'd-rs512', 'd-wrong-alg', 'd-dup']) expect(await lookup(kid), kid).toBeNull();
  });

  it('refuses a kid two sources publish with different keys, and accepts a mirrored key', async () => {
    const a = await signingPair('shared');
    const b = await signingPair('shared');
    const mirror = await signingPair('mirrored');
    const urlA = uniqueUrl('a');
    const urlB = uniqueUrl('b');
    const serverA = fakeJwksServer([published(a), published(mirror)]);
    const serverB = fakeJwksServer([published(b), published(mirror)]);
    const set = new RemoteJwksSet(
      { urls: [urlA, urlB] },
      { fetch: (url, init) => (url === urlA ? serverA.fetch(url, init) : serverB.fetch(url, init)), kv, now: manualClock().now },
    );
    const error = await set.lookup('shared').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RemoteJwksAmbiguousKid);
    expect((error as RemoteJwksAmbiguousKid).code).toBe('ERR_JWKS_MULTIPLE_MATCHING_KEYS');
    expect((await set.lookup('mirrored'))?.kid).toBe('mirrored');
  });
});

describe('remoteJwksFor', () => {
  it('builds one set per env from JWKS_URLS, and refuses a bad value naming the variable', async () => {
    const { remoteJwksFor } = await import('../../src/keys/remote-jwks');
    // An env as remoteJwksFor reads it: KEYS, and the variables its configuration is parsed from.
    const envWith = (vars: Partial<Env>) => ({ KEYS: kv, ...vars }) as Env;
    const testEnv = envWith({ JWKS_URLS: 'https://idp.example/jwks.json' });
    const set = remoteJwksFor(testEnv);
    expect(set.enabled).toBe(true);
    expect(remoteJwksFor(testEnv)).toBe(set);
    expect(remoteJwksFor(envWith({})).enabled).toBe(false);
    expect(() => remoteJwksFor(envWith({ JWKS_URLS: 'http://idp.example/jwks.json' }))).toThrow(ConfigError);
  });
});
