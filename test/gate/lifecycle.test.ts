/**
 * Issue 7 at the gate: token revocation by each selector (tokens and the grants minted from
 * them), and lastUsedAt written off the hot path.
 */
import { describe, expect, it } from 'vitest';
import { admin, callWorker, createKey, fastpixToken, muxToken, nowSeconds, play, playbackId, refusal } from '../support/helpers';

async function revoke(body: Record<string, unknown>) {
  const response = await admin('/v1/iam/revocations', { method: 'POST', body: JSON.stringify(body) });
  expect(response.status).toBe(201);
  return ((await response.json()) as { data: { id: string } }).data.id;
}

async function childUrl(p: string, token: string) {
  const text = await (await play(`/${p}.m3u8?token=${token}`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${p}/`))!;
  return `/${line}`;
}

describe('token revocation', () => {
  it('revokes one token by jti, and the grants minted from it, leaving other tokens alone', async () => {
    const key = await createKey('ES256');
    const p = playbackId();
    const leaked = await fastpixToken(key, p, 600, { jti: `leak-${p}` });
    const other = await fastpixToken(key, p, 600, { jti: `fine-${p}` });
    const child = await childUrl(p, leaked);
    await revoke({ jti: `leak-${p}` });
    expect(await refusal(await play(`/${p}.m3u8?token=${leaked}`))).toMatchObject({ status: 403, reason: 'token_revoked' });
    expect(await refusal(await play(child))).toMatchObject({ status: 403, reason: 'token_revoked' });
    expect((await play(`/${p}.m3u8?token=${other}`)).status).toBe(200);
  });

  it('revokes every token of a playback ID issued before a time, not the ones issued after', async () => {
    const key = await createKey('ES256');
    const p = playbackId();
    const old = await fastpixToken(key, p, 600, { iat: nowSeconds() - 120 });
    await revoke({ playbackId: p, before: new Date((nowSeconds() - 60) * 1000).toISOString() });
    expect(await refusal(await play(`/${p}.m3u8?token=${old}`))).toMatchObject({ reason: 'token_revoked' });
    expect((await play(`/${p}.m3u8?token=${await fastpixToken(key, p, 600, { iat: nowSeconds() })}`)).status).toBe(200);
    // another playback ID is untouched
    const q = playbackId();
    expect((await play(`/${q}.m3u8?token=${await fastpixToken(key, q, 600, { iat: nowSeconds() - 120 })}`)).status).toBe(200);
  });

  it('revokes by sub (Mux tokens carry the playback ID there), grants included', async () => {
    const key = await createKey('RS256');
    const p = playbackId();
    const token = await muxToken(key, p, 'v');
    const child = await childUrl(p, token);
    expect((await play(child)).status).toBe(200);
    const id = await revoke({ sub: p });
    expect(await refusal(await play(`/${p}.m3u8?token=${token}`))).toMatchObject({ reason: 'token_revoked' });
    expect(await refusal(await play(child))).toMatchObject({ reason: 'token_revoked' });
    // lifting it restores access
    expect((await admin(`/v1/iam/revocations/${id}`, { method: 'DELETE' })).status).toBe(200);
    expect((await play(`/${p}.m3u8?token=${token}`)).status).toBe(200);
  });

  it('revokes by sub when the token carries sub as an array: the token and every grant minted from it (issue 11)', async () => {
    const key = await createKey('ES256');
    const p = playbackId();
    const viewer = `viewer-${p}`;
    const token = await fastpixToken(key, p, 600, { sub: ['account-7', viewer] });
    const child = await childUrl(p, token);
    expect((await play(child)).status).toBe(200);
    await revoke({ sub: viewer });
    expect(await refusal(await play(`/${p}.m3u8?token=${token}`))).toMatchObject({ status: 403, reason: 'token_revoked' });
    expect(await refusal(await play(child))).toMatchObject({ status: 403, reason: 'token_revoked' });
  });

  it.each([
    ['a numeric jti (RFC 7519 §4.1.7: a string), which no revocation could name', { jti: 4242 }],
    ['a jti longer than a revocation can hold', { jti: 'j'.repeat(201) }],
    ['a sub that is neither a string nor an array of strings', { sub: { id: 'viewer' } }],
    ['a sub array with a non-string member', { sub: ['viewer', 7] }],
    ['a sub array too large to ride in its grants', { sub: Array.from({ length: 40 }, (_, i) => `viewer-${i}-${'x'.repeat(10)}`) }],
  ])('refuses, as token_malformed, a token with %s: it could play unrevocably', async (_name, claims) => {
    const key = await createKey('ES256');
    const p = playbackId();
    expect(await refusal(await play(`/${p}.m3u8?token=${await fastpixToken(key, p, 600, claims)}`))).toMatchObject({ status: 403, reason: 'token_malformed' });
  });

  it('still plays a token whose jti is a string, and revokes it by that string', async () => {
    const key = await createKey('ES256');
    const p = playbackId();
    const token = await fastpixToken(key, p, 600, { jti: `4242-${p}` });
    expect((await play(`/${p}.m3u8?token=${token}`)).status).toBe(200);
    await revoke({ jti: `4242-${p}` });
    expect(await refusal(await play(`/${p}.m3u8?token=${token}`))).toMatchObject({ reason: 'token_revoked' });
  });
});

describe('lastUsedAt', () => {
  it('appears on the key after the gate accepts a token signed with it, written after the response', async () => {
    const key = await createKey('ES256');
    const before = (await (await admin(`/v1/iam/signing-keys/${key.id}`)).json()) as { data: { lastUsedAt?: string } };
    expect(before.data.lastUsedAt).toBeUndefined();
    const p = playbackId();
    // callWorker resolves once the response's waitUntil work (the lastUsedAt write) is done.
    const response = await callWorker(`/${p}/v0/seg0.m4s?token=${await fastpixToken(key, p)}`);
    expect(response.status).toBe(200);
    const after = (await (await admin(`/v1/iam/signing-keys/${key.id}`)).json()) as { data: { lastUsedAt?: string } };
    expect(Date.parse(after.data.lastUsedAt!)).toBeGreaterThan(Date.now() - 60_000);
    const listed = (await (await admin('/v1/iam/signing-keys?limit=100')).json()) as { data: Array<{ id: string; lastUsedAt?: string }> };
    expect(listed.data.find((k) => k.id === key.id)?.lastUsedAt).toBe(after.data.lastUsedAt);
  });
});
