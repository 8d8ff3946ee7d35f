/** Shared helpers of the admin API tests: authenticated requests and the SPEC §2 envelope check. */
import { createExecutionContext, env, SELF } from 'cloudflare:test';
import { expect } from 'vitest';
import type { Env } from '../../src/config';
import worker from '../../src/index';

export const BASE = 'https://signet.test';
export const testEnv = env as unknown as Env;

export const ADMIN_ID = 'test-admin';
export const ADMIN_SECRET = 'test-admin-secret-0123456789';
export const basicAuth = (id = ADMIN_ID, secret = ADMIN_SECRET) => `Basic ${btoa(`${id}:${secret}`)}`;

type Json = Record<string, any>;

export interface AdminRequest {
  method?: string;
  body?: unknown;
  rawBody?: string | Uint8Array;
  headers?: Record<string, string>;
  auth?: string | null;
}

function buildRequest(path: string, { method = 'GET', body, rawBody, headers = {}, auth = basicAuth() }: AdminRequest = {}): Request {
  const all: Record<string, string> = { ...headers };
  if (auth !== null) all.Authorization = auth;
  let payload: string | Uint8Array | undefined = rawBody;
  if (body !== undefined) {
    payload = JSON.stringify(body);
    all['Content-Type'] ??= 'application/json';
  }
  return new Request(`${BASE}${path}`, { method, headers: all, body: payload });
}

/** Calls the worker through SELF, as a client would. */
export async function call(path: string, request: AdminRequest = {}): Promise<{ status: number; headers: Headers; body: Json; text: string }> {
  const response = await SELF.fetch(buildRequest(path, request));
  const text = await response.text();
  let body: Json = {};
  try {
    body = JSON.parse(text);
  } catch {
    body = {};
  }
  return { status: response.status, headers: response.headers, body, text };
}

/** Calls the worker's default export directly with a modified env (config cases, key limit, audit log). */
export async function callWith(envOverrides: Partial<Env>, path: string, request: AdminRequest = {}) {
  const response = await worker.fetch(buildRequest(path, request), { ...testEnv, ...envOverrides } as Env, createExecutionContext());
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: JSON.parse(text) as Json, text };
}

export const createKey = async (body: Json = {}) => {
  const answer = await call('/v1/iam/signing-keys', { method: 'POST', body });
  expect(answer.status, answer.text).toBe(201);
  return answer.body.data as Json;
};

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
