/**
 * The remote JWKS source as its operator sees it: test/support/jwks-https-server.mjs on loopback,
 * over real TLS, reached at JWKS_CONTROL_URL (set by vitest.config.ts for this project only). Its
 * JWKS path is this project's JWKS_URLS. The identity provider's own keys are made here with jose.
 */
import { env } from 'cloudflare:test';
import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import { nowSeconds } from '../support/helpers';

export type SourceBehaviour = { kind: 'serve' } | { kind: 'down' } | { kind: 'status'; status: number };

function control(path: string, init?: RequestInit): Promise<Response> {
  if (!env.JWKS_CONTROL_URL) throw new Error('JWKS_CONTROL_URL is not set: run this file in the workers-remote-jwks project');
  return fetch(`${env.JWKS_CONTROL_URL}${path}`, init);
}

async function expectNoContent(response: Response, what: string) {
  if (response.status !== 204) throw new Error(`${what}: ${response.status} ${await response.text()}`);
}

/** Makes the source publish `keys` as its JWK Set, from its next answer on. */
export async function publish(keys: object[]) {
  await expectNoContent(await control('/__document', { method: 'PUT', body: JSON.stringify({ keys }) }), 'publish');
}

/** Makes the source serve, reset the connection ("down"), or answer an HTTP error status. */
export async function behave(behaviour: SourceBehaviour) {
  await expectNoContent(await control('/__behaviour', { method: 'POST', body: JSON.stringify(behaviour) }), 'behave');
}

/** How many requests for the JWK Set the source has received so far (answered or not). */
export async function fetchesSoFar(): Promise<number> {
  return ((await (await control('/__fetches')).json()) as { fetches: number }).fetches;
}

/** A signing key of the identity provider: its private half stays here, its public JWK is published. */
export interface ProviderKey {
  kid: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

export async function providerKey(kid = `idp-${crypto.randomUUID()}`): Promise<ProviderKey> {
  const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
  return { kid, privateKey, publicJwk: await exportJWK(publicKey) };
}

/** The JWK Set entry for `key`, published under `kid` (its own unless said otherwise). */
export const published = (key: ProviderKey, kid = key.kid) => ({ ...key.publicJwk, kid, alg: 'ES256', use: 'sig' });

/** A playback token for `playbackId` signed by the provider's key, naming `kid` in its header. */
export function providerToken(key: ProviderKey, playbackId: string, kid = key.kid) {
  return new SignJWT({ aud: `media:${playbackId}`, exp: nowSeconds() + 600 }).setProtectedHeader({ alg: 'ES256', kid }).sign(key.privateKey);
}
