/**
 * Secrets hygiene (issue 4): across a realistic session — create keys, sign, play a multivariant
 * playlist and its segments, get refused, rotate, revoke, delete — no log line and no response
 * body contains a JWT, a grant, the admin secret, the grant secret or a private key — except the
 * grants in the rewritten playlists, which is how grants are delivered.
 */
import { env, SELF } from 'cloudflare:test';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { callWorker, admin, BASE, createKey, fastpixToken, muxToken, originSaw, playbackId, sign, nowSeconds, type CreatedKey } from '../support/helpers';

const lines: string[] = [];
const bodies: string[] = [];
const playlists: string[] = [];
const secrets = new Set<string>();
const grantSet = new Set<string>();

beforeAll(() => {
  for (const method of ['log', 'error', 'warn', 'info', 'debug'] as const) {
    const original = console[method];
    vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
      lines.push(args.map(String).join(' '));
      original.apply(console, args);
    });
  }
});
afterAll(() => vi.restoreAllMocks());

async function record(response: Response, carriesGrants = false) {
  (carriesGrants ? playlists : bodies).push(await response.clone().text());
  return response;
}

function addPrivateKey(key: CreatedKey) {
  secrets.add(key.privateKeyBase64);
  // every full line of the PEM body, and its base64 without line breaks
  for (const line of key.privateKeyPem.split('\n').filter((l) => l.length >= 40)) secrets.add(line);
  secrets.add(key.privateKeyPem.replace(/-----[^-]+-----|\s/g, '').slice(0, 60));
}

it('never writes a token, grant, secret or private key to a log line or a response body', async () => {
  secrets.add(env.ADMIN_TOKEN_SECRET!);
  secrets.add(env.GRANT_SECRET!);
  const key = await createKey('RS256');
  addPrivateKey(key);
  const esKey = await createKey('ES256');
  addPrivateKey(esKey);
  const edKey = await createKey('EdDSA');
  addPrivateKey(edKey);
  const p = playbackId();
  const token = await fastpixToken(key, p, 600, { jti: `hyg-${p}` });
  secrets.add(token);
  secrets.add(token.split('.')[2]!);

  const master = await record(await SELF.fetch(`${BASE}/${p}.m3u8?token=${token}`), true);
  const grants = [...(await master.text()).matchAll(/grant=([A-Za-z0-9_.-]+)/g)].map((m) => m[1]!);
  expect(grants.length).toBeGreaterThan(0);
  const [grant] = grants;
  const child = await record(await SELF.fetch(`${BASE}/${p}/v0/index.m3u8?grant=${grant}`), true);
  for (const g of (await child.text()).matchAll(/grant=([A-Za-z0-9_.-]+)/g)) grants.push(g[1]!);
  await record(await SELF.fetch(`${BASE}/${p}/v0/seg0.m4s?grant=${grant}`));
  await record(await SELF.fetch(`${BASE}/${p}/thumbnail.jpg?grant=${grant}`)); // refused: class
  await record(await SELF.fetch(`${BASE}/${p}x.m3u8?token=${token}`)); // refused: playback ID
  const flipped = token.slice(0, -20) + (token.at(-20) === 'A' ? 'B' : 'A') + token.slice(-19);
  await record(await SELF.fetch(`${BASE}/${p}.m3u8?token=${flipped}`)); // refused: signature
  await record(await SELF.fetch(`${BASE}/v1/iam/signing-keys`, { headers: { Authorization: `Basic ${btoa(`x:${env.ADMIN_TOKEN_SECRET}x`)}` } }));
  await record(await admin(`/v1/iam/signing-keys/${key.id}`));
  await record(await admin('/v1/iam/signing-keys'));
  await record(await admin(`/v1/iam/revocations`, { method: 'POST', body: JSON.stringify({ jti: `hyg-${p}` }) }));
  await record(await SELF.fetch(`${BASE}/${p}.m3u8?token=${token}`)); // refused: revoked
  await record(await admin(`/v1/iam/signing-keys/${key.id}/rotate`, { method: 'POST', body: '{}' }));
  await record(await admin(`/v1/iam/signing-keys/${key.id}`, { method: 'DELETE' }));
  await record(await SELF.fetch(`${BASE}/.well-known/jwks.json`));

  // Tokens in every carrier, valid and refused, each dialect and algorithm.
  const mux = await muxToken(esKey, p, 'v', 600);
  const thumb = await muxToken(edKey, p, 't', 600);
  const expired = await fastpixToken(esKey, p, -3600);
  const otherIssuer = await sign(edKey, { kid: edKey.id, aud: `media:${p}`, exp: nowSeconds() + 60, iss: 'https://evil.example' });
  for (const t of [mux, thumb, expired, otherIssuer]) {
    secrets.add(t);
    secrets.add(t.split('.')[2]!);
  }
  const fromHeader = await record(await SELF.fetch(`${BASE}/${p}.m3u8`, { headers: { Authorization: `Bearer ${mux}` } }), true);
  for (const g of (await fromHeader.text()).matchAll(/grant=([A-Za-z0-9_.-]+)/g)) grants.push(g[1]!);
  await record(await SELF.fetch(`${BASE}/${p}/thumbnail.jpg`, { headers: { Authorization: `Bearer ${thumb}` } }));
  await record(await SELF.fetch(`${BASE}/${p}.m3u8`, { headers: { Authorization: `Bearer ${expired}` } })); // refused: expired
  await record(await SELF.fetch(`${BASE}/${p}.m3u8?token=${mux}&token=${mux}`)); // refused: duplicate
  await record(await SELF.fetch(`${BASE}/${p}.m3u8?token=${thumb}`)); // refused: class
  await record(await callWorker(`/${p}.m3u8`, { ...env, ISSUER: 'https://signet.example' }, { headers: { Authorization: `Bearer ${otherIssuer}` } })); // refused: issuer
  const fromCookie = await record(await callWorker(`/${p}.m3u8`, { ...env, TOKEN_COOKIE: 'st' }, { headers: { Cookie: `st=${mux}` } }), true);
  for (const g of (await fromCookie.text()).matchAll(/grant=([A-Za-z0-9_.-]+)/g)) grants.push(g[1]!);
  await record(await callWorker(`/${p}.m3u8`, { ...env, TOKEN_COOKIE: 'st' }, { headers: { Cookie: `st=${mux}x` } })); // refused: malformed
  await record(await SELF.fetch(`${BASE}/${p}x/v0/seg0.m4s?grant=${grant}`)); // refused: grant for another playback ID
  await record(await SELF.fetch(`${BASE}/${p}/v0/seg0.m4s?grant=${grant}x`)); // refused: malformed grant
  await record(await SELF.fetch(`${BASE}/${p}/v0/..%2f..%2fseg0.m4s?token=${mux}`)); // refused: path
  await record(await callWorker(`/${p}.m3u8?token=${mux}`, { ...env, GRANT_SECRET: 'short' })); // refused: config_invalid
  // A rotation hands out the new private key once, by design: that body holds no other secret.
  const rotated = await (await admin(`/v1/iam/signing-keys/${esKey.id}/rotate`, { method: 'POST', body: '{}' })).text();
  const rotatedKey = (JSON.parse(rotated) as { data: { privateKey: string } }).data.privateKey;
  for (const secret of [...secrets, ...grants]) expect(rotated.includes(secret)).toBe(false);
  secrets.add(rotatedKey);
  await record(await admin(`/v1/iam/signing-keys/${esKey.id}`, { method: 'DELETE' }));
  await record(await SELF.fetch(`${BASE}/${p}/v0/seg1.m4s?grant=${grants.at(-1)}`)); // refused: key deleted
  await record(await SELF.fetch(`${BASE}/v1/iam/signing-keys`, { method: 'POST', headers: { Authorization: `Basic ${btoa(`${env.ADMIN_TOKEN_ID}:${env.ADMIN_TOKEN_SECRET}`)}`, 'Content-Type': 'application/json' }, body: JSON.stringify({ publicKey: atob(key.privateKeyBase64), algorithm: 'RS256' }) })); // refused: a private key sent as the public one
  for (const g of grants) grantSet.add(g);

  // Nothing reached the origin either: no token, no grant in any URL or header it saw.
  const originView = JSON.stringify(await originSaw(p));
  for (const secret of [...secrets, ...grantSet]) expect(originView.includes(secret), `origin saw ${secret.slice(0, 12)}…`).toBe(false);

  expect(lines.some((line) => line.includes('"event":"gate"'))).toBe(true); // the decision log was captured
  expect(bodies.length).toBeGreaterThan(10);
  // the session really went through the refusals it claims to (the leak check is not vacuous)
  const reasons = bodies.join("\n");
  for (const reason of ['token_expired', 'duplicate_token', 'issuer_mismatch', 'audience_mismatch', 'playback_id_mismatch', 'token_malformed', 'grant_invalid', 'key_unknown', 'bad_path', 'config_invalid', 'token_revoked', 'signature_invalid', 'unauthorized', 'validation_failed']) {
    expect(reasons, reason).toContain(`"reason":"${reason}"`);
  }
  expect(playlists.length).toBeGreaterThanOrEqual(4);
  for (const secret of [...secrets, ...grantSet]) {
    const leaks = [...lines, ...bodies].filter((text) => text.includes(secret));
    expect(leaks, `leaked ${secret.slice(0, 12)}…`).toEqual([]);
  }
  for (const secret of secrets) {
    expect(playlists.filter((text) => text.includes(secret)), `playlist leaked ${secret.slice(0, 12)}…`).toEqual([]);
  }
});
