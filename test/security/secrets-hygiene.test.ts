/**
 * Secrets hygiene (issue 4): across a realistic session — create keys, sign, play a multivariant
 * playlist and its segments, get refused, rotate, revoke, delete — no log line and no response
 * body contains a JWT, a grant, the admin secret, the grant secret or a private key — except the
 * grants in the rewritten playlists, which is how grants are delivered.
 */
import { env, SELF } from 'cloudflare:test';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { admin, BASE, createKey, fastpixToken, playbackId } from '../support/helpers';

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

it('never writes a token, grant, secret or private key to a log line or a response body', async () => {
  secrets.add(env.ADMIN_TOKEN_SECRET!);
  secrets.add(env.GRANT_SECRET!);
  const key = await createKey('RS256');
  secrets.add(key.privateKeyBase64);
  for (const line of key.privateKeyPem.split('\n').filter((l) => l.length > 40)) secrets.add(line);
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
  await record(await SELF.fetch(`${BASE}/${p}.m3u8?token=${token.slice(0, -3)}abc`)); // refused: signature
  await record(await SELF.fetch(`${BASE}/v1/iam/signing-keys`, { headers: { Authorization: `Basic ${btoa(`x:${env.ADMIN_TOKEN_SECRET}x`)}` } }));
  await record(await admin(`/v1/iam/signing-keys/${key.id}`));
  await record(await admin('/v1/iam/signing-keys'));
  await record(await admin(`/v1/iam/revocations`, { method: 'POST', body: JSON.stringify({ jti: `hyg-${p}` }) }));
  await record(await SELF.fetch(`${BASE}/${p}.m3u8?token=${token}`)); // refused: revoked
  await record(await admin(`/v1/iam/signing-keys/${key.id}/rotate`, { method: 'POST', body: '{}' }));
  await record(await admin(`/v1/iam/signing-keys/${key.id}`, { method: 'DELETE' }));
  await record(await SELF.fetch(`${BASE}/.well-known/jwks.json`));
  for (const g of grants) grantSet.add(g);

  expect(lines.some((line) => line.includes('"event":"gate"'))).toBe(true); // the decision log was captured
  expect(bodies.length).toBeGreaterThan(10);
  for (const secret of [...secrets, ...grantSet]) {
    const leaks = [...lines, ...bodies].filter((text) => text.includes(secret));
    expect(leaks, `leaked ${secret.slice(0, 12)}…`).toEqual([]);
  }
  for (const secret of secrets) {
    expect(playlists.filter((text) => text.includes(secret)), `playlist leaked ${secret.slice(0, 12)}…`).toEqual([]);
  }
});
