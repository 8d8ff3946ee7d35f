/**
 * The gate reasons that need a configuration or a clock the other files do not set: ISSUER,
 * TOKEN_COOKIE, MAX_TOKEN_LIFETIME_SECONDS, and a grant whose time has passed.
 */
import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { mintGrant } from '../../src/gate/grant';
import { callWorker, createKey, fastpixToken, nowSeconds, play, playbackId, refusal } from '../support/helpers';

describe('configured checks', () => {
  it('refuses a token whose iss is not ISSUER (issuer_mismatch) and accepts the right one', async () => {
    const key = await createKey('ES256');
    const p = playbackId();
    const issuerEnv = { ISSUER: 'https://backend.example' };
    expect(await refusal(await callWorker(`/${p}.m3u8?token=${await fastpixToken(key, p, 600, { iss: 'https://other.example' })}`, { ...env, ...issuerEnv }))).toMatchObject({ status: 403, reason: 'issuer_mismatch' });
    expect(await refusal(await callWorker(`/${p}.m3u8?token=${await fastpixToken(key, p)}`, { ...env, ...issuerEnv }))).toMatchObject({ reason: 'issuer_mismatch' });
    expect((await callWorker(`/${p}.m3u8?token=${await fastpixToken(key, p, 600, { iss: 'https://backend.example' })}`, { ...env, ...issuerEnv })).status).toBe(200);
  });

  it('refuses tokens living longer than MAX_TOKEN_LIFETIME_SECONDS (token_lifetime_exceeded)', async () => {
    const key = await createKey('ES256');
    const p = playbackId();
    const limit = { MAX_TOKEN_LIFETIME_SECONDS: '3600' };
    expect((await callWorker(`/${p}.m3u8?token=${await fastpixToken(key, p, 3000)}`, { ...env, ...limit })).status).toBe(200);
    expect(await refusal(await callWorker(`/${p}.m3u8?token=${await fastpixToken(key, p, 7200)}`, { ...env, ...limit }))).toMatchObject({ status: 403, reason: 'token_lifetime_exceeded' });
  });

  it('reads the token from TOKEN_COOKIE when configured, and never otherwise; two such cookies are a duplicate', async () => {
    const key = await createKey('ES256');
    const p = playbackId();
    const token = await fastpixToken(key, p);
    const cookie = { TOKEN_COOKIE: 'signet_token' };
    expect((await callWorker(`/${p}/v0/seg0.m4s`, { ...env, ...cookie }, { headers: { Cookie: `a=1; signet_token=${token}` } })).status).toBe(200);
    expect(await refusal(await play(`/${p}/v0/seg0.m4s`, { headers: { Cookie: `signet_token=${token}` } }))).toMatchObject({ status: 401, reason: 'token_missing' });
    expect(await refusal(await callWorker(`/${p}/v0/seg0.m4s`, { ...env, ...cookie }, { headers: { Cookie: `signet_token=${token}; signet_token=${token}` } }))).toMatchObject({ status: 400, reason: 'duplicate_token' });
  });
});

describe('grant expiry through HTTP', () => {
  it('refuses a grant whose expiry has passed with grant_expired, telling the player to reload', async () => {
    const key = await createKey('ES256');
    const p = playbackId();
    // The grant the gate would have minted from a token that has since expired.
    const grant = await mintGrant(env.GRANT_SECRET!, p, { exp: nowSeconds() - 1, resourceClass: 'v', kid: key.id });
    const answer = await refusal(await play(`/${p}/v0/seg0.m4s?grant=${grant}`));
    expect(answer).toMatchObject({ status: 403, reason: 'grant_expired' });
    expect(answer.description).toMatch(/reload the playlist/);
  });
});
