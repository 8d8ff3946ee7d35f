/**
 * The revocation admin routes, mounted on a small Hono app built here (Basic auth is the admin
 * app's middleware, tested elsewhere; the lead mounts these routes behind it).
 */
import { env } from 'cloudflare:test';
import { Hono } from 'hono';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { revocationRoutes } from '../../src/admin/revocations';
import type { Env } from '../../src/config';
import { errorResponse, Refusal } from '../../src/errors';
import { StoreUnavailable } from '../../src/keys/store';

type Json = Record<string, any>;

function app() {
  const changes = { count: 0 };
  const hono = new Hono<{ Bindings: Env }>();
  revocationRoutes(hono, () => {
    changes.count++;
  });
  hono.onError((error) => {
    if (error instanceof Refusal) return errorResponse(error.reason, error.description, { fields: error.fields });
    if (error instanceof StoreUnavailable) return errorResponse('storage_unavailable', 'KV failed');
    throw error;
  });
  const call = async (path: string, init: { method?: string; body?: unknown; raw?: string } = {}) => {
    const headers: Record<string, string> = {};
    let body: string | undefined = init.raw;
    if (init.body !== undefined) {
      body = JSON.stringify(init.body);
      headers['Content-Type'] = 'application/json';
    } else if (init.raw !== undefined) headers['Content-Type'] = 'application/json';
    const response = await hono.request(`https://signet.test${path}`, { method: init.method ?? 'GET', headers, body }, env);
    return { status: response.status, body: (await response.json()) as Json };
  };
  return { call, changes };
}

const revoke = (call: ReturnType<typeof app>['call'], body: unknown) => call('/v1/iam/revocations', { method: 'POST', body });

afterEach(() => vi.restoreAllMocks());

describe('POST /v1/iam/revocations', () => {
  it('revokes one token by jti, for 7 days by default, in a self-expiring KV entry', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    const { call, changes } = app();
    const before = Date.now();
    const answer = await revoke(call, { jti: 'leaked-token-1' });
    expect(answer.status).toBe(201);
    expect(answer.body.success).toBe(true);
    const data = answer.body.data;
    expect(data).toMatchObject({ kind: 'jti', jti: 'leaked-token-1' });
    expect(data.id).toMatch(/^[0-9a-f-]{36}$/);
    const lifetime = Date.parse(data.expiresAt) - Date.parse(data.createdAt);
    expect(lifetime).toBe(7 * 86_400_000);
    expect(Date.parse(data.createdAt)).toBeGreaterThanOrEqual(before - 1);
    expect(changes.count).toBe(1);

    const listed = await env.KEYS.list({ prefix: `rev:${data.id}` });
    expect(listed.keys[0]!.metadata).toEqual(data);
    expect(listed.keys[0]!.expiration).toBeGreaterThanOrEqual(Math.ceil(Date.parse(data.expiresAt) / 1000));

    const lines = log.mock.calls.map(([line]) => JSON.parse(String(line)) as Json).filter((line) => line.event === 'audit');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ action: 'revocation.create', revocationId: data.id, kind: 'jti' });
    expect(JSON.stringify(lines[0])).not.toContain('leaked-token-1');
  });

  it('revokes every token of a playback ID issued before an ISO instant or epoch seconds', async () => {
    vi.spyOn(console, 'log').mockImplementation(() => undefined);
    const { call } = app();
    const cutoff = Math.floor(Date.now() / 1000) - 60;
    const iso = await revoke(call, { playbackId: 'abc_DEF-1', before: new Date(cutoff * 1000).toISOString() });
    expect(iso.status).toBe(201);
    expect(iso.body.data).toMatchObject({ kind: 'playbackId', playbackId: 'abc_DEF-1', before: cutoff });
    const seconds = await revoke(call, { playbackId: 'abc_DEF-1', before: cutoff });
    expect(seconds.body.data.before).toBe(cutoff);
  });

  it('revokes every token of a subject, until a chosen expiresAt', async () => {
    vi.spyOn(console, 'log').mockImplementation(() => undefined);
    const { call } = app();
    const expiresAt = new Date(Date.now() + 3_600_000).toISOString();
    const answer = await revoke(call, { sub: 'viewer-4711', expiresAt });
    expect(answer.status).toBe(201);
    expect(answer.body.data).toMatchObject({ kind: 'sub', sub: 'viewer-4711', expiresAt });
  });

  it.each([
    ['no selector', {}, '(body)'],
    ['two selectors', { jti: 'a', sub: 'b' }, 'jti, sub'],
    ['an unknown field', { jti: 'a', reason: 'leak' }, 'reason'],
    ['before without playbackId', { jti: 'a', before: 1 }, 'before'],
    ['playbackId without before', { playbackId: 'abc' }, 'before'],
    ['a bad playback ID', { playbackId: '../x', before: 1 }, 'playbackId'],
    ['before in epoch milliseconds', { playbackId: 'abc', before: Date.now() }, 'before'],
    ['before as free text', { playbackId: 'abc', before: 'yesterday' }, 'before'],
    ['an expiresAt in the past', { jti: 'a', expiresAt: '2020-01-01T00:00:00Z' }, 'expiresAt'],
    ['an expiresAt more than 365 days ahead', { jti: 'a', expiresAt: new Date(Date.now() + 366 * 86_400_000).toISOString() }, 'expiresAt'],
    ['an empty jti', { jti: '' }, 'jti'],
    ['a jti with control characters', { jti: 'a\u0000b' }, 'jti'],
    ['a jti too long for KV metadata', { jti: 'x'.repeat(201) }, 'jti'],
  ])('refuses %s with 422 validation_failed', async (_name, body, field) => {
    const { call, changes } = app();
    const answer = await revoke(call, body);
    expect(answer.status).toBe(422);
    expect(answer.body.error.reason).toBe('validation_failed');
    expect(answer.body.error.fields.map((f: Json) => f.field).join(', ')).toContain(field);
    expect(changes.count).toBe(0);
  });

  it('refuses a body that is not JSON with 400 invalid_json', async () => {
    const { call } = app();
    const answer = await call('/v1/iam/revocations', { method: 'POST', raw: '{"jti":' });
    expect(answer.status).toBe(400);
    expect(answer.body.error.reason).toBe('invalid_json');
  });
});

describe('GET and DELETE /v1/iam/revocations', () => {
  it('lists revocations newest first, paginated like signing keys', async () => {
    vi.spyOn(console, 'log').mockImplementation(() => undefined);
    const { call } = app();
    for (let i = 0; i < 3; i++) await revoke(call, { jti: `page-${i}-${crypto.randomUUID()}` });
    const all = await call('/v1/iam/revocations?limit=100');
    expect(all.status).toBe(200);
    const total = all.body.pagination.totalRecords as number;
    expect(total).toBeGreaterThanOrEqual(3);
    const created = (all.body.data as Json[]).map((r) => r.createdAt);
    expect([...created].sort().reverse()).toEqual(created);

    const page = await call('/v1/iam/revocations?limit=2&offset=2');
    expect(page.body.data).toHaveLength(Math.min(2, total - 2));
    expect(page.body.pagination).toEqual({ totalRecords: total, currentOffset: 2, offsetCount: Math.ceil(total / 2) });
    expect((await call('/v1/iam/revocations?limit=0')).status).toBe(422);
    expect((await call('/v1/iam/revocations?cursor=x')).status).toBe(422);
  });

  it('lifts a revocation once, then answers 404', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    const { call, changes } = app();
    const { body } = await revoke(call, { sub: `lift-${crypto.randomUUID()}` });
    const id = body.data.id as string;
    const lifted = await call(`/v1/iam/revocations/${id}`, { method: 'DELETE' });
    expect(lifted).toEqual({ status: 200, body: { success: true, data: { message: 'revocation lifted' } } });
    expect(changes.count).toBe(2);
    expect(await env.KEYS.get(`rev:${id}`)).toBeNull();
    const again = await call(`/v1/iam/revocations/${id}`, { method: 'DELETE' });
    expect(again.status).toBe(404);
    expect(again.body.error.reason).toBe('not_found');
    expect(changes.count).toBe(2);
    const actions = log.mock.calls.map(([line]) => JSON.parse(String(line)) as Json).map((line) => line.action);
    expect(actions).toEqual(['revocation.create', 'revocation.lift']);
  });
});
