/**
 * Test helpers that act as the users of signet do: an admin creating keys through the HTTP API,
 * a customer backend signing tokens with the returned private key (jose), a player fetching URLs.
 * The one set for the workers suites: the admin client, the call into the worker with another env,
 * a counting KV.
 */
import { SELF, createExecutionContext, env, waitOnExecutionContext } from 'cloudflare:test';
import { importPKCS8, SignJWT, type JWTPayload } from 'jose';
import { expect } from 'vitest';
import type { Env } from '../../src/config';
import worker from '../../src/index';

export const BASE = 'https://gate.test';

/** The test env as the worker's own type (src/config.ts `Env`). */
export const testEnv = env as unknown as Env;

/** The admin credentials of the test env (vitest.config.ts TEST_SECRETS). */
export const ADMIN_ID = env.ADMIN_TOKEN_ID!;
export const ADMIN_SECRET = env.ADMIN_TOKEN_SECRET!;
export const adminAuth = (id = ADMIN_ID, secret = ADMIN_SECRET) => `Basic ${btoa(`${id}:${secret}`)}`;

/** A fetch-style admin request through SELF: the admin's credentials, JSON when there is a body. */
export function admin(path: string, init: RequestInit = {}) {
  const headers = new Headers(init.headers);
  headers.set('Authorization', adminAuth());
  if (init.body !== undefined && !headers.has('Content-Type')) headers.set('Content-Type', 'application/json');
  return SELF.fetch(`${BASE}${path}`, { ...init, headers });
}

type Json = Record<string, any>;

/** An admin API request as the admin tests write it: `body` is sent as JSON, `rawBody` as is. */
export interface AdminRequest {
  method?: string;
  body?: unknown;
  rawBody?: string | Uint8Array;
  headers?: Record<string, string>;
  /** The Authorization header; the admin's Basic credentials unless given, none when null. */
  auth?: string | null;
}

/** An answer as the admin tests read it: the JSON body ({} when it is not JSON) and its text. */
export interface AdminAnswer {
  status: number;
  headers: Headers;
  body: Json;
  text: string;
}

function adminRequest(path: string, { method = 'GET', body, rawBody, headers = {}, auth = adminAuth() }: AdminRequest = {}): Request {
  const all: Record<string, string> = { ...headers };
  if (auth !== null) all.Authorization = auth;
  let payload: string | Uint8Array | undefined = rawBody;
  if (body !== undefined) {
    payload = JSON.stringify(body);
    all['Content-Type'] ??= 'application/json';
  }
  return new Request(`${BASE}${path}`, { method, headers: all, body: payload });
}

async function readAnswer(response: Response): Promise<AdminAnswer> {
  const text = await response.text();
  let body: Json = {};
  try {
    body = JSON.parse(text);
  } catch {
    body = {};
  }
  return { status: response.status, headers: response.headers, body, text };
}

/** Calls the worker through SELF, as a client would. */
export async function call(path: string, request: AdminRequest = {}): Promise<AdminAnswer> {
  return readAnswer(await SELF.fetch(adminRequest(path, request)));
}

/** `call` in a fresh isolate whose env has `envOverrides` (config cases, key limit, audit log): see callWorker. */
export async function callWith(envOverrides: Partial<Env>, path: string, request: AdminRequest = {}): Promise<AdminAnswer> {
  return readAnswer(await callWorker(adminRequest(path, request), { ...env, ...envOverrides }));
}

export interface CreatedKey {
  id: string;
  algorithm: 'RS256' | 'ES256' | 'EdDSA';
  privateKeyPem: string;
  privateKeyBase64: string;
}

/** A key created through the admin API, with the `data` of its 201 answer (name, status, createdAt…). */
export type CreatedKeyAnswer = CreatedKey & { data: Json };

export async function createKey(algorithm: CreatedKey['algorithm'] = 'ES256', extra: Record<string, unknown> = {}): Promise<CreatedKeyAnswer> {
  const response = await admin('/v1/iam/signing-keys', { method: 'POST', body: JSON.stringify({ algorithm, ...extra }) });
  if (response.status !== 201) throw new Error(`create key: ${response.status} ${await response.text()}`);
  const { data } = (await response.json()) as { data: Json & { id: string; privateKey: string } };
  return { id: data.id, algorithm, privateKeyBase64: data.privateKey, privateKeyPem: privatePem(data.privateKey), data };
}

/** SPEC §2: the error envelope, exactly (no extra members; `fields` only with validation_failed). */
export function expectErrorEnvelope(answer: { status: number; body: Json; headers: Headers }, status: number, reason: string) {
  expect(answer.status).toBe(status);
  expect(answer.headers.get('Content-Type')).toMatch(/^application\/json/);
  expect(Object.keys(answer.body).sort()).toEqual(['error', 'success']);
  expect(answer.body.success).toBe(false);
  const { error } = answer.body;
  expect(error.code).toBe(status);
  expect(error.reason).toBe(reason);
  expect(typeof error.message).toBe('string');
  expect(error.message.length).toBeGreaterThan(0);
  expect(typeof error.description).toBe('string');
  expect(error.description.length).toBeGreaterThan(0);
  const allowed = reason === 'validation_failed' ? ['code', 'description', 'fields', 'message', 'reason'] : ['code', 'description', 'message', 'reason'];
  expect(Object.keys(error).sort()).toEqual(allowed);
  if (reason === 'validation_failed') {
    expect(Array.isArray(error.fields)).toBe(true);
    expect(error.fields.length).toBeGreaterThan(0);
  }
}

/** The PKCS#8 PEM inside a create/rotate answer's privateKey. */
export const privatePem = (privateKeyBase64: string) => atob(privateKeyBase64);

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

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
 * One request to the worker (src/index.ts's fetch handler, in this workerd) with `isolateEnv`
 * (a path is under BASE, sent with `init`),
 * resolved once its `waitUntil` work — an edge cache store, a lastUsed write — has finished. One
 * env object is one isolate's runtime: pass the same object to share its caches, a new one
 * (`{ ...env, ...overrides }`) for a cold isolate with other variables.
 */
export async function callWorker(request: Request | string, isolateEnv: object = env, init?: RequestInit): Promise<Response> {
  const ctx = createExecutionContext();
  const response = await worker.fetch(typeof request === 'string' ? new Request(`${BASE}${request}`, init) : request, isolateEnv as Env, ctx);
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

/**
 * A KV namespace that counts its reads and writes and fails them all (rejects) while
 * `behaviour.fail` is set; everything else passes through to `inner`.
 */
export function countingKv(inner: KVNamespace, behaviour = { fail: false }) {
  const calls = { get: 0, list: 0, put: 0, delete: 0 };
  const kv = new Proxy(inner, {
    get(target, property) {
      if (property === 'get' || property === 'list' || property === 'put' || property === 'delete') {
        return (...args: unknown[]) => {
          calls[property] += 1;
          if (behaviour.fail) return Promise.reject(new Error('KV unavailable (injected)'));
          return (target[property] as (...a: unknown[]) => unknown).apply(target, args);
        };
      }
      const value = Reflect.get(target, property);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return { kv, calls, behaviour };
}
