/**
 * Issue 7: tokens signed elsewhere, verified through a remote JWKS (JWKS_URLS). The identity
 * provider at https://jwks.test is the outboundService in vitest.config.ts (an https endpoint
 * workerd trusts cannot run here); everything else is real.
 */
import { describe, expect, it } from 'vitest';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { createKey, fastpixToken, nowSeconds, play, playbackId, refusal } from '../support/helpers';

async function publish(keys: object[]) {
  await fetch('https://jwks.test/.well-known/jwks.json', { method: 'PUT', body: JSON.stringify({ keys }) });
}

describe('remote JWKS sources', () => {
  it('verifies a token signed by a key published only in the remote JWKS, and refuses a kid found both locally and remotely', async () => {
    const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
    const local = await createKey('ES256');
    const remoteKid = `idp-${crypto.randomUUID()}`;
    // The IdP publishes its own key, and (misconfigured) one under a kid signet also has locally.
    await publish([
      { ...(await exportJWK(publicKey)), kid: remoteKid, alg: 'ES256', use: 'sig' },
      { ...(await exportJWK(publicKey)), kid: local.id, alg: 'ES256', use: 'sig' },
    ]);
    const p = playbackId();
    const token = await new SignJWT({ aud: `media:${p}`, exp: nowSeconds() + 600 }).setProtectedHeader({ alg: 'ES256', kid: remoteKid }).sign(privateKey);
    expect((await play(`/${p}.m3u8?token=${token}`)).status).toBe(200);

    const ambiguous = await refusal(await play(`/${p}.m3u8?token=${await fastpixToken(local, p)}`));
    expect(ambiguous).toMatchObject({ status: 403, reason: 'key_unknown' });
    expect(ambiguous.description).toMatch(/more than one key source/);
  });

  it('refuses a token whose kid neither signet nor the remote source knows', async () => {
    const { privateKey } = await generateKeyPair('ES256');
    const p = playbackId();
    const token = await new SignJWT({ aud: `media:${p}`, exp: nowSeconds() + 600 }).setProtectedHeader({ alg: 'ES256', kid: `nobody-${p}` }).sign(privateKey);
    expect(await refusal(await play(`/${p}.m3u8?token=${token}`))).toMatchObject({ status: 403, reason: 'key_unknown' });
  });
});
