/**
 * Test helpers that act as the users of signet do: an admin creating keys through the HTTP API,
 * a customer backend signing tokens with the returned private key (jose), a player fetching URLs.
 */
import { SELF, createExecutionContext, env, waitOnExecutionContext } from 'cloudflare:test';
import { importPKCS8, SignJWT, type JWTPayload } from 'jose';
import type { Env } from '../../src/config';
import worker from '../../src/index';

export const BASE = 'https://gate.test';

export const adminAuth = () => `Basic ${btoa(`${env.ADMIN_TOKEN_ID}:${env.ADMIN_TOKEN_SECRET}`)}`;

export function admin(path: string, init: RequestInit = {}) {
  const headers = new Headers(init.headers);
  headers.set('Authorization', adminAuth());
  if (init.body !== undefined && !headers.has('Content-Type')) headers.set('Content-Type', 'application/json');
  return SELF.fetch(`${BASE}${path}`, { ...init, headers });
}

export interface CreatedKey {
  id: string;
  algorithm: 'RS256' | 'ES256' | 'EdDSA';
  privateKeyPem: string;
  privateKeyBase64: string;
}

export async function createKey(algorithm: CreatedKey['algorithm'] = 'ES256', extra: Record<string, unknown> = {}): Promise<CreatedKey> {
  const response = await admin('/v1/iam/signing-keys', { method: 'POST', body: JSON.stringify({ algorithm, ...extra }) });
  if (response.status !== 201) throw new Error(`create key: ${response.status} ${await response.text()}`);
  const { data } = (await response.json()) as { data: { id: string; privateKey: string } };
  return { id: data.id, algorithm, privateKeyBase64: data.privateKey, privateKeyPem: atob(data.privateKey) };
}

export const nowSeconds = () => Math.floor(Date.now() / 1000);

/** Signs a playback token the FastPix way (kid and aud "media:P" in the payload) unless claims say otherwise. */
export async function sign(key: CreatedKey, claims: JWTPayload & Record<string, unknown>, header: Record<string, unknown> = {}): Promise<string> {
  const privateKey = await importPKCS8(key.privateKeyPem, key.algorithm);
  return new SignJWT(claims).setProtectedHeader({ alg: key.algorithm, ...header }).sign(privateKey);
}

export function fastpixToken(key: CreatedKey, playbackId: string, ttlSeconds = 600, extra: Record<string, unknown> = {}) {
  return sign(key, { kid: key.id, aud: `media:${playbackId}`, exp: nowSeconds() + ttlSeconds, ...extra });
}

export function muxToken(key: CreatedKey, playbackId: string, aud: 'v' | 't' | 'g' | 's', ttlSeconds = 600, extra: Record<string, unknown> = {}) {
  return sign(key, { kid: key.id, sub: playbackId, aud, exp: nowSeconds() + ttlSeconds, ...extra });
}

export const play = (path: string, init?: RequestInit) => SELF.fetch(`${BASE}${path}`, init);

export interface SeenRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
}

/** Every request the real origin received whose URL contains `fragment`. */
export async function originSaw(fragment: string): Promise<SeenRequest[]> {
  const response = await fetch(`${env.ORIGIN_URL}/__seen?p=${encodeURIComponent(fragment)}`);
  return (await response.json()) as SeenRequest[];
}

let counter = 0;
/** A playback ID unique to this test run, so tests never see each other's origin traffic. */
export function playbackId(prefix = 'p'): string {
  counter += 1;
  return `${prefix}${crypto.randomUUID().replace(/-/g, '').slice(0, 12)}${counter}`;
}

export async function refusal(response: Response) {
  const body = (await response.json()) as { success: false; error: { code: number; reason: string; description: string; message: string } };
  return { status: response.status, ...body.error, body };
}

/**
 * Places a file on the real test origin at `path` (test/support/origin-server.mjs `PUT /__files`):
 * served byte for byte with `type` as its Content-Type (none when empty), Range and HEAD honoured,
 * with `cacheControl` (none when empty) and, unless `setCookie` is empty, the origin's cookie.
 */
export async function placeOnOrigin(
  path: string,
  body: string | Uint8Array,
  type: string,
  cacheControl = 'public, max-age=2',
  { setCookie, vary }: { setCookie?: string; vary?: string } = {},
): Promise<void> {
  const headers: Record<string, string> = { 'X-Content-Type': type, 'X-Cache-Control': cacheControl };
  if (setCookie !== undefined) headers['X-Set-Cookie'] = setCookie;
  if (vary !== undefined) headers['X-Vary'] = vary;
  const response = await fetch(`${env.ORIGIN_URL}/__files${path}`, { method: 'PUT', body, headers });
  if (response.status !== 204) throw new Error(`the test origin refused to place ${path}: ${response.status}`);
}

/**
 * One request to the worker (src/index.ts's fetch handler, in this workerd) with `isolateEnv`,
 * resolved once its `waitUntil` work — an edge cache store, a lastUsed write — has finished. One
 * env object is one isolate's runtime: pass the same object to share its caches, a new one
 * (`{ ...env, ...overrides }`) for a cold isolate with other variables.
 */
export async function callWorker(request: Request | string, isolateEnv: object = env): Promise<Response> {
  const ctx = createExecutionContext();
  const response = await worker.fetch(typeof request === 'string' ? new Request(`${BASE}${request}`) : request, isolateEnv as Env, ctx);
  await waitOnExecutionContext(ctx);
  return response;
}

export interface SettledAnswer {
  status: number;
  headers: Headers;
  body: Uint8Array;
}

/** callWorker, its body read whole: the next request sees what this one left, with no sleeping. */
export async function settled(path: string, init: RequestInit = {}, isolateEnv: object = env): Promise<SettledAnswer> {
  const response = await callWorker(new Request(`${BASE}${path}`, init), isolateEnv);
  return { status: response.status, headers: response.headers, body: new Uint8Array(await response.arrayBuffer()) };
}
