/**
 * The viewer-session admin routes (issue 16) through HTTP: GET /v1/viewers/{viewer}/sessions and
 * DELETE /v1/viewers/{viewer}/sessions/{id}, against the real per-viewer Durable Objects. Sessions
 * are opened on the object as the gate opens them, at the runtime's clock (the admin face's).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createAdminFace } from '../../src/admin/face';
import type { Gate } from '../../src/gate';
import { KeyCache } from '../../src/keys/cache';
import { RevocationCache } from '../../src/keys/revocations';
import { PolicyCache } from '../../src/policy/cache';
import { SESSION_LIMITS } from '../../src/config';
import { viewerRefOf } from '../../src/sessions/claims';
import { sessionsOf, type SessionOpen } from '../../src/sessions/viewer-sessions';
import { adminAuth, BASE, call, expectErrorEnvelope, testEnv } from '../support/helpers';

const LEASE = 60_000;
const freshViewer = (prefix = 'viewer') => `${prefix}-${crypto.randomUUID()}`;
const sessionsPath = (viewer: string) => `/v1/viewers/${encodeURIComponent(viewer)}/sessions`;
const sessionPath = (viewer: string, id: string) => `${sessionsPath(viewer)}/${encodeURIComponent(id)}`;

/** Opens `sessionId` for `viewer` as the gate does, now (its object named by the viewer's reference). */
async function open(viewer: string, sessionId: string, overrides: Partial<SessionOpen> = {}) {
  const admitted = await sessionsOf(testEnv, await viewerRefOf(viewer)).admit({ sessionId, playbackId: 'demo', climit: 3, evictOldest: false, nowMs: Date.now(), leaseMs: LEASE, ...overrides });
  expect(admitted).toMatchObject({ ok: true });
}

describe('GET /v1/viewers/{viewer}/sessions', () => {
  it('requires the admin credentials', async () => {
    const viewer = freshViewer();
    await open(viewer, 'a');
    expectErrorEnvelope(await call(sessionsPath(viewer), { auth: null }), 401, 'unauthorized');
    expectErrorEnvelope(await call(sessionsPath(viewer), { auth: adminAuth('test-admin', 'wrong') }), 401, 'unauthorized');
  });

  it('lists the active sessions, oldest first, with playback ID, instants and network', async () => {
    const viewer = freshViewer();
    const before = Date.now();
    await open(viewer, 'tv', { network: '203.0.113.0/24', nowMs: before - 2_000 });
    await open(viewer, 'phone', { playbackId: 'other', nowMs: before - 1_000 });
    const answer = await call(sessionsPath(viewer));
    expect(answer.status).toBe(200);
    expect(answer.body.success).toBe(true);
    expect(answer.body.data).toEqual([
      {
        id: 'tv',
        playbackId: 'demo',
        network: '203.0.113.0/24',
        startedAt: new Date(before - 2_000).toISOString(),
        lastSeenAt: new Date(before - 2_000).toISOString(),
        leaseEndsAt: new Date(before - 2_000 + LEASE).toISOString(),
      },
      {
        id: 'phone',
        playbackId: 'other',
        startedAt: new Date(before - 1_000).toISOString(),
        lastSeenAt: new Date(before - 1_000).toISOString(),
        leaseEndsAt: new Date(before - 1_000 + LEASE).toISOString(),
      },
    ]);
  });

  it('answers an empty list for a viewer it has never seen, and leaves out lapsed sessions', async () => {
    expect((await call(sessionsPath(freshViewer()))).body).toEqual({ success: true, data: [] });
    const viewer = freshViewer();
    await open(viewer, 'lapsed', { nowMs: Date.now() - 2 * LEASE });
    expect((await call(sessionsPath(viewer))).body).toEqual({ success: true, data: [] });
  });

  it.each([
    ['an email', 'ada@example.com'],
    ['a slash', 'tenant/42'],
    ['spaces and non-ASCII', 'Zoë Ünal 42'],
  ])('takes a percent-encoded viewer with %s', async (_, name) => {
    const viewer = `${name}-${crypto.randomUUID()}`;
    await open(viewer, 'a');
    const answer = await call(sessionsPath(viewer));
    expect(answer.status).toBe(200);
    expect(answer.body.data.map((session: { id: string }) => session.id)).toEqual(['a']);
  });

  it('refuses a viewer longer than any token can name with 422 validation_failed', async () => {
    const answer = await call(sessionsPath('v'.repeat(SESSION_LIMITS.maxIdLength + 1)));
    expectErrorEnvelope(answer, 422, 'validation_failed');
    expect(answer.body.error.fields).toEqual([{ field: 'viewer', message: expect.any(String) }]);
    expect((await call(sessionsPath('v'.repeat(SESSION_LIMITS.maxIdLength)))).status).toBe(200);
  });

  it('answers 405 with Allow to another method', async () => {
    const answer = await call(sessionsPath(freshViewer()), { method: 'POST', body: {} });
    expectErrorEnvelope(answer, 405, 'method_not_allowed');
    expect(answer.headers.get('Allow')).toBe('GET');
  });
});

describe('DELETE /v1/viewers/{viewer}/sessions/{id}', () => {
  afterEach(() => vi.restoreAllMocks());

  it('requires the admin credentials and ends nothing without them', async () => {
    const viewer = freshViewer();
    await open(viewer, 'a');
    expectErrorEnvelope(await call(sessionPath(viewer, 'a'), { method: 'DELETE', auth: null }), 401, 'unauthorized');
    expect((await call(sessionsPath(viewer))).body.data).toHaveLength(1);
  });

  it('ends the session now: gone from the list, its renewal says ended and its token cannot start it again', async () => {
    const viewer = freshViewer();
    await open(viewer, 'a');
    await open(viewer, 'b');
    const answer = await call(sessionPath(viewer, 'a'), { method: 'DELETE' });
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ success: true, data: { message: 'session ended' } });
    expect((await call(sessionsPath(viewer))).body.data.map((session: { id: string }) => session.id)).toEqual(['b']);
    const sessions = sessionsOf(testEnv, await viewerRefOf(viewer));
    expect(await sessions.renew('a', Date.now(), LEASE)).toEqual({ alive: false, reason: 'ended' });
    expect(await sessions.admit({ sessionId: 'a', playbackId: 'demo', climit: 3, evictOldest: true, nowMs: Date.now(), leaseMs: LEASE })).toEqual({ ok: false, reason: 'session_ended' });
  });

  it('answers 404 not_found for an id with no active session: unknown, already ended, lapsed, too long, or another viewer’s', async () => {
    const viewer = freshViewer();
    await open(viewer, 'ended');
    await open(viewer, 'lapsed', { nowMs: Date.now() - 2 * LEASE });
    expect((await call(sessionPath(viewer, 'ended'), { method: 'DELETE' })).status).toBe(200);
    for (const id of ['never', 'ended', 'lapsed', 'x'.repeat(SESSION_LIMITS.maxIdLength + 1)]) {
      expectErrorEnvelope(await call(sessionPath(viewer, id), { method: 'DELETE' }), 404, 'not_found');
    }
    const other = freshViewer();
    await open(other, 'theirs');
    expectErrorEnvelope(await call(sessionPath(viewer, 'theirs'), { method: 'DELETE' }), 404, 'not_found');
    expect((await call(sessionsPath(other))).body.data).toHaveLength(1);
  });

  it('ends a session of a percent-encoded viewer, with a percent-encoded id', async () => {
    const viewer = `ada+${crypto.randomUUID()}@example.com`;
    const id = 'token digest/with=padding==';
    await open(viewer, id);
    expect((await call(sessionPath(viewer, id), { method: 'DELETE' })).status).toBe(200);
    expect((await call(sessionsPath(viewer))).body.data).toEqual([]);
  });

  it('refuses a viewer longer than any token can name with 422 validation_failed', async () => {
    expectErrorEnvelope(await call(sessionPath('v'.repeat(SESSION_LIMITS.maxIdLength + 1), 'a'), { method: 'DELETE' }), 422, 'validation_failed');
  });

  it('writes one audit line that references the viewer and the session without naming them', async () => {
    const viewer = `grace-${crypto.randomUUID()}@example.com`;
    const id = `jti-${crypto.randomUUID()}`;
    await open(viewer, id);
    const spy = vi.spyOn(console, 'log');
    expect((await call(sessionPath(viewer, id), { method: 'DELETE' })).status).toBe(200);
    await call(sessionPath(viewer, id), { method: 'DELETE' }); // a 404 writes nothing
    await call(sessionsPath(viewer)); // nor does a read
    const lines = spy.mock.calls
      .map((args) => args.map(String).join(' '))
      .filter((line) => line.includes('"event":"audit"'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ action: 'viewer_session.end', viewerRef: await viewerRefOf(viewer), sessionRef: expect.stringMatching(/^[0-9a-f]{16}$/) });
    const everything = spy.mock.calls.flat().map(String).join('\n');
    expect(everything).not.toContain(viewer);
    expect(everything).not.toContain(id);
  });

  it("tells the writing isolate's session cache to forget the ended session, and only after an end", async () => {
    const forget = vi.fn();
    const noGate = (() => new Response('the gate', { status: 599 })) as unknown as Gate;
    const caches = { keys: new KeyCache(), revocations: new RevocationCache(), policies: new PolicyCache(), sessions: { forget } };
    const app = createAdminFace(caches, noGate, Date.now);
    const viewer = freshViewer();
    await open(viewer, 'a');
    const request = (id: string) => new Request(`${BASE}${sessionPath(viewer, id)}`, { method: 'DELETE', headers: { Authorization: adminAuth() } });
    expect((await app.fetch(request('never'), testEnv)).status).toBe(404);
    expect(forget).not.toHaveBeenCalled();
    expect((await app.fetch(request('a'), testEnv)).status).toBe(200);
    expect(forget).toHaveBeenCalledExactlyOnceWith(await viewerRefOf(viewer), 'a');
  });
});

describe('/v1/viewers/… belongs to the admin face', () => {
  it('answers 401 anywhere under /v1/viewers to a stranger, and 404 to the admin for an unknown path, never the gate', async () => {
    for (const path of ['/v1/viewers', '/v1/viewers/anyone', '/v1/viewers/anyone/sessions/x/more']) {
      expectErrorEnvelope(await call(path, { auth: null }), 401, 'unauthorized');
      expectErrorEnvelope(await call(path), 404, 'not_found');
    }
  });

  it('describes both routes in /v1/openapi.json with their path parameters', async () => {
    const document = (await call('/v1/openapi.json', { auth: null })).body;
    const list = document.paths['/v1/viewers/{viewer}/sessions'].get;
    const end = document.paths['/v1/viewers/{viewer}/sessions/{id}'].delete;
    expect(list.parameters.map((p: { name: string }) => p.name)).toEqual(['viewer']);
    expect(end.parameters.map((p: { name: string }) => p.name).sort()).toEqual(['id', 'viewer']);
    expect(end.responses).toHaveProperty('404');
    expect(document.components.schemas).toHaveProperty('ViewerSession');
  });
});
