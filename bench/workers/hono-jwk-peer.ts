/**
 * Benchmark peer: the gate a team would write without signet. A Hono app with hono's own
 * `hono/jwk` middleware, fed from the same KV-stored keys signet writes (`key:{id}` entries,
 * JSON {id, algorithm, publicJwk, ...}), then an asset-binding check and a plain proxy.
 *
 * Written the way a careful team would: the JWK list is read from KV once and kept in memory for
 * KEY_CACHE_TTL_SECONDS (60 s, like signet), with one shared load in flight; so the peer also makes
 * no KV reads on its warm path. What it cannot avoid is hono/jwk itself: it takes the token from
 * `Authorization: Bearer` (or a cookie), never from the query string, and it re-imports the
 * public key with crypto.subtle.importKey on every request (hono's JWT utils cache nothing).
 * Playlists are proxied unchanged (no child grants: a player must send the header on every request).
 */
import { Hono } from 'hono';
import { jwk } from 'hono/jwk';

interface Env {
  KEYS: KVNamespace;
  ORIGIN_URL: string;
  KEY_CACHE_TTL_SECONDS?: string;
}

interface StoredKey {
  id: string;
  algorithm: 'RS256' | 'ES256' | 'EdDSA';
  publicJwk: JsonWebKey;
  expiresAt?: string;
}

type HonoJwk = JsonWebKey & { kid: string; alg: string };

let cached: { keys: HonoJwk[]; loadedAtMs: number } | undefined;

async function loadKeys(store: KVNamespace): Promise<HonoJwk[]> {
  const keys: HonoJwk[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.list({ prefix: 'key:', cursor });
    const records = await Promise.all(page.keys.map((entry) => store.get<StoredKey>(entry.name, 'json')));
    for (const record of records) {
      if (!record || (record.expiresAt && Date.parse(record.expiresAt) <= Date.now())) continue;
      keys.push({ ...record.publicJwk, kid: record.id, alg: record.algorithm });
    }
    cursor = page.list_complete ? undefined : page.cursor;
  } while (cursor);
  return keys;
}

async function publicKeys(env: Env): Promise<HonoJwk[]> {
  const ttlMs = Number(env.KEY_CACHE_TTL_SECONDS ?? '60') * 1000;
  if (cached && Date.now() - cached.loadedAtMs < ttlMs) return cached.keys;
  // No promise shared between requests: workerd cancels continuations of a promise resolved from
  // another request's context (a first version did that and lost requests at every refresh).
  const keys = await loadKeys(env.KEYS);
  cached = { keys, loadedAtMs: Date.now() };
  return keys;
}

const app = new Hono<{ Bindings: Env; Variables: { jwtPayload: Record<string, unknown> } }>();

app.use('/*', jwk({ keys: (c) => publicKeys(c.env), alg: ['RS256', 'ES256', 'EdDSA'] }));

const list = (value: unknown): unknown[] => (value === undefined ? [] : Array.isArray(value) ? value : [value]);

app.get('/*', async (c) => {
  const url = new URL(c.req.url);
  const match = /^\/([A-Za-z0-9_-]{1,128})(\.m3u8|\/.*)$/.exec(url.pathname);
  if (!match) return c.text('bad path', 400);
  const playbackId = match[1]!;
  const resourceClass = /^\/thumbnail\.(jpg|png|webp)$/.test(match[2]!) ? 't' : 'v';
  const payload = c.get('jwtPayload');
  const audiences = list(payload.aud);
  const bound = audiences.includes(`media:${playbackId}`) || (list(payload.sub).includes(playbackId) && audiences.includes(resourceClass));
  if (!bound) return c.text('forbidden', 403);
  const headers = new Headers();
  for (const name of ['Range', 'If-Range', 'If-None-Match', 'If-Modified-Since']) {
    const value = c.req.header(name);
    if (value !== undefined) headers.set(name, value);
  }
  const origin = await fetch(`${c.env.ORIGIN_URL}${url.pathname}`, { headers, redirect: 'manual' });
  return new Response(origin.body, { status: origin.status, headers: origin.headers });
});

export default app;
