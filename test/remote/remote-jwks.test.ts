/**
 * Issues 7 and 11: tokens signed elsewhere, verified through a remote JWKS source (JWKS_URLS) that
 * runs for real — an https server on loopback whose throwaway certificate workerd trusts (see
 * vitest.config.ts and test/support/jwks-https-server.mjs). The local key store is looked up first;
 * a remote key published under a local kid is dropped when the set is loaded. The source being
 * down is in remote-jwks-down.test.ts (it needs an isolate that never loaded a set).
 */
import { afterAll, beforeAll, describe, expect, it, vi, type MockInstance } from 'vitest';
import { base64url } from 'jose';
import { createKey, fastpixToken, play, playbackId, refusal, nowSeconds, type CreatedKey } from '../support/helpers';
import { behave, providerKey, providerToken, publish, published, type ProviderKey } from './source';

/** The Ed25519 identity point: a key of small order, under which one fixed signature verifies any message. */
const IDENTITY_KID = `idp-identity-${crypto.randomUUID()}`;
const IDENTITY_POINT = { kty: 'OKP', crv: 'Ed25519', x: 'AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', kid: IDENTITY_KID, alg: 'EdDSA', use: 'sig' };
/** R = the identity, S = 0: valid under the identity-point key for every message. */
const UNIVERSAL_SIGNATURE = Uint8Array.of(1, ...new Uint8Array(63));

let local: CreatedKey;
let provider: ProviderKey;
/** The key an attacker (or a misconfigured provider) publishes under the local kid. */
let impostor: ProviderKey;
let warn: MockInstance<typeof console.warn>;

beforeAll(async () => {
  // The gate's warnings (keys dropped from a loaded set) are console lines of this very isolate.
  warn = vi.spyOn(console, 'warn');
  local = await createKey('ES256');
  provider = await providerKey();
  impostor = await providerKey();
  await behave({ kind: 'serve' });
  await publish([published(provider), published(impostor, local.id), IDENTITY_POINT]);
});

afterAll(() => {
  vi.restoreAllMocks();
});

const logged = (event: string, fragment: string) =>
  warn.mock.calls.some((args) => {
    const line = args.map(String).join(' ');
    return line.includes(`"event":"${event}"`) && line.includes(fragment);
  });

describe('a remote JWKS source over real TLS', () => {
  it('plays a token signed by a key published only by the remote source', async () => {
    const p = playbackId();
    const response = await play(`/${p}.m3u8?token=${await providerToken(provider, p)}`);
    expect(response.status).toBe(200);
  });

  it('verifies a local kid with the local key only, though the source also publishes a key under it', async () => {
    const p = playbackId();
    // The remote-only token makes sure the source's set (with the impostor under the local kid) was loaded.
    expect((await play(`/${p}.m3u8?token=${await providerToken(provider, p)}`)).status).toBe(200);

    const forged = await refusal(await play(`/${p}.m3u8?token=${await providerToken(impostor, p, local.id)}`));
    expect(forged).toMatchObject({ status: 403, reason: 'signature_invalid' });
    expect((await play(`/${p}.m3u8?token=${await fastpixToken(local, p)}`)).status).toBe(200);
    expect(logged('remote_jwks_kid_collision', local.id)).toBe(true);
  });

  it('cannot be opened by a source publishing the Ed25519 identity point', async () => {
    const p = playbackId();
    const header = base64url.encode(JSON.stringify({ alg: 'EdDSA', kid: IDENTITY_KID }));
    const payload = base64url.encode(JSON.stringify({ aud: `media:${p}`, exp: nowSeconds() + 600 }));
    const forgery = `${header}.${payload}.${base64url.encode(UNIVERSAL_SIGNATURE)}`;
    // The threat is real in this runtime: WebCrypto imports the key and accepts the forgery.
    const identityKey = await crypto.subtle.importKey('jwk', { kty: 'OKP', crv: 'Ed25519', x: IDENTITY_POINT.x }, { name: 'Ed25519' }, false, ['verify']);
    expect(await crypto.subtle.verify('Ed25519', identityKey, UNIVERSAL_SIGNATURE, new TextEncoder().encode(`${header}.${payload}`))).toBe(true);

    // Key hygiene dropped the key from the set when it was loaded: the kid is unknown.
    expect(await refusal(await play(`/${p}.m3u8?token=${forgery}`))).toMatchObject({ status: 403, reason: 'key_unknown' });
    expect(logged('jwks_key_dropped', IDENTITY_KID)).toBe(true);
  });

  it('refuses a token whose kid neither signet nor the remote source knows', async () => {
    const p = playbackId();
    const stranger = await providerKey(`nobody-${p}`);
    expect(await refusal(await play(`/${p}.m3u8?token=${await providerToken(stranger, p)}`))).toMatchObject({ status: 403, reason: 'key_unknown' });
  });
});
