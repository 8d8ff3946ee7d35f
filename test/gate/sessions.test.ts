/**
 * Issue 16 through HTTP, in workerd, with the real ViewerSessions Durable Object: `climit` tokens
 * open sessions (one per token), grants carry them, the viewer's object admits, refuses or evicts.
 *
 * Two things are injected, both at the binding and said so where they are used: a counting wrapper
 * around the SESSIONS namespace (to prove when the object is asked, and to make it fail), and a
 * session lease rewound inside the object's SQLite (`runInDurableObject`) to stand for a viewer
 * who has been quiet past SESSION_LEASE_SECONDS — the gate's clock is the real one, so nothing
 * here sleeps.
 */
import { env, runInDurableObject } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { viewerRefOf } from '../../src/sessions/claims';
import { sessionsOf } from '../../src/sessions/viewer-sessions';
import { admin, callWorker, createKey, fastpixToken, muxToken, play, playbackId, refusal, type CreatedKey } from '../support/helpers';

/** A SESSIONS namespace that counts the calls made to its objects and fails them while `behaviour.fail` is set. */
function countingSessions(inner: DurableObjectNamespace, behaviour = { fail: false }) {
  const calls = { admit: 0, renew: 0 };
  const namespace = new Proxy(inner, {
    get(target, property) {
      if (property === 'get') {
        return (id: DurableObjectId) => {
          const stub = target.get(id) as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
          return new Proxy(stub, {
            get(s, method) {
              if (method !== 'admit' && method !== 'renew') return Reflect.get(s, method);
              return (...args: unknown[]) => {
                calls[method] += 1;
                if (behaviour.fail) return Promise.reject(new Error('Durable Object unreachable (injected)'));
                return s[method]!(...args);
              };
            },
          });
        };
      }
      const value = Reflect.get(target, property);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return { namespace, calls, behaviour };
}

/** An isolate of its own (one env object = one runtime), with a counting SESSIONS binding. */
function isolate() {
  const sessions = countingSessions(env.SESSIONS as unknown as DurableObjectNamespace);
  return { env: { ...env, SESSIONS: sessions.namespace }, ...sessions };
}

let viewers = 0;
const newViewer = () => `viewer-${Date.now().toString(36)}-${viewers++}`;

const limited = (key: CreatedKey, p: string, viewer: string, climit: number, extra: Record<string, unknown> = {}) =>
  fastpixToken(key, p, 600, { sub: viewer, climit, ...extra });

/** A request to the isolate of `at`, or to SELF (the isolate the admin API requests of these tests reach). */
const fetchAt = (at: object | 'self', path: string) => (at === 'self' ? play(path) : callWorker(path, at));

/** Opens the multivariant playlist; returns its status and the first child URL (carrying the grant). */
async function open(at: object | 'self', p: string, token: string): Promise<{ status: number; reason?: string; description?: string; child?: string }> {
  const response = await fetchAt(at, `/${p}.m3u8?token=${token}`);
  if (response.status !== 200) {
    const { reason, description } = await refusal(response);
    return { status: response.status, reason, description };
  }
  const line = (await response.text()).split('\n').find((l) => l.startsWith(`${p}/`))!;
  return { status: 200, child: `/${line}` };
}

describe('concurrent-stream limits (climit)', () => {
  it('admits two sessions at climit 2 and refuses the third with stream_limit_reached; a reload continues a session', async () => {
    const key = await createKey('ES256');
    const p = playbackId();
    const viewer = newViewer();
    const at = isolate();
    const first = await limited(key, p, viewer, 2);
    const second = await limited(key, p, viewer, 2, { jti: `b-${viewer}` });
    expect((await open(at.env, p, first)).status).toBe(200);
    expect((await open(at.env, p, second)).status).toBe(200);
    // The same token again (a reload, a player restart) is the same session, in this isolate or another.
    expect((await open(at.env, p, first)).status).toBe(200);
    expect((await open(isolate().env, p, first)).status).toBe(200);
    const third = await open(at.env, p, await limited(key, p, viewer, 2, { jti: `c-${viewer}` }));
    expect(third).toMatchObject({ status: 403, reason: 'stream_limit_reached' });
    expect(third.description).toMatch(/plays 2 streams at once.*climit 2.*next lease ends at \d{4}-/);
  });

  it('lets a grant of an admitted session play, and admits a new session once another has been quiet past its lease', async () => {
    const key = await createKey('ES256');
    const p = playbackId();
    const viewer = newViewer();
    const at = isolate();
    const a = await open(at.env, p, await limited(key, p, viewer, 1, { jti: `a-${viewer}` }));
    expect(a.status).toBe(200);
    expect((await callWorker(a.child!, at.env)).status).toBe(200);
    expect((await open(at.env, p, await limited(key, p, viewer, 1, { jti: `b-${viewer}` }))).reason).toBe('stream_limit_reached');
    // Viewer quiet past SESSION_LEASE_SECONDS: the lease is rewound in the object's own storage.
    const stub = sessionsOf(env, await viewerRefOf(viewer));
    await runInDurableObject(stub, (_instance, state) => {
      state.storage.sql.exec('UPDATE sessions SET lease_ends_at = ? WHERE id = ?', Date.now() - 1, `a-${viewer}`);
    });
    expect((await open(isolate().env, p, await limited(key, p, viewer, 1, { jti: `b-${viewer}` }))).status).toBe(200);
  });

  it('with climitPolicy "evict-oldest" admits the new session and ends the oldest, whose grants are then refused (session_ended)', async () => {
    const key = await createKey('ES256');
    const p = playbackId();
    const viewer = newViewer();
    const oldest = await open(isolate().env, p, await limited(key, p, viewer, 2, { jti: `1-${viewer}`, climitPolicy: 'evict-oldest' }));
    const middle = await open(isolate().env, p, await limited(key, p, viewer, 2, { jti: `2-${viewer}`, climitPolicy: 'evict-oldest' }));
    const newest = await open(isolate().env, p, await limited(key, p, viewer, 2, { jti: `3-${viewer}`, climitPolicy: 'evict-oldest' }));
    expect([oldest.status, middle.status, newest.status]).toEqual([200, 200, 200]);
    // An isolate that asks the object about the oldest session (its renewal) learns it ended.
    expect(await refusal(await callWorker(oldest.child!, isolate().env))).toMatchObject({ status: 403, reason: 'session_ended' });
    expect((await callWorker(middle.child!, isolate().env)).status).toBe(200);
    expect((await callWorker(newest.child!, isolate().env)).status).toBe(200);
    // Reopening the evicted session with its token does not evict the newer screen back.
    expect((await open(isolate().env, p, await limited(key, p, viewer, 2, { jti: `1-${viewer}`, climitPolicy: 'evict-oldest' }))).reason).toBe('session_ended');
  });

  it('keeps two viewers apart', async () => {
    const key = await createKey('ES256');
    const p = playbackId();
    const [one, two] = [newViewer(), newViewer()];
    expect((await open(isolate().env, p, await limited(key, p, one, 1))).status).toBe(200);
    expect((await open(isolate().env, p, await limited(key, p, two, 1))).status).toBe(200);
    expect((await open(isolate().env, p, await limited(key, p, one, 1, { jti: `x-${one}` }))).reason).toBe('stream_limit_reached');
  });

  it('never asks the object for tokens without climit, nor for a limited token\'s thumbnail; asks once per renew interval for a session\'s grants', async () => {
    const key = await createKey('ES256');
    const p = playbackId();
    const at = isolate();
    const plain = await open(at.env, p, await fastpixToken(key, p));
    for (let i = 0; i < 5; i++) expect((await callWorker(plain.child!, at.env)).status).toBe(200);
    expect((await callWorker(`/${p}/thumbnail.jpg?token=${await limited(key, p, newViewer(), 1)}`, at.env)).status).toBe(200);
    expect(at.calls).toEqual({ admit: 0, renew: 0 });
    const session = await open(at.env, p, await limited(key, p, newViewer(), 1));
    for (let i = 0; i < 10; i++) expect((await callWorker(session.child!, at.env)).status).toBe(200);
    expect(at.calls).toEqual({ admit: 1, renew: 0 }); // the verdict is fresh for SESSION_RENEW_SECONDS
  });

  it('fails closed when the object cannot be reached: a new limited session is refused (503), an admitted one keeps playing', async () => {
    const key = await createKey('ES256');
    const p = playbackId();
    const viewer = newViewer();
    const at = isolate();
    const admitted = await limited(key, p, viewer, 3, { jti: `ok-${viewer}` });
    const session = await open(at.env, p, admitted);
    expect(session.status).toBe(200);
    at.behaviour.fail = true;
    expect((await callWorker(session.child!, at.env)).status).toBe(200);
    expect((await open(at.env, p, admitted)).status).toBe(200);
    expect(await open(at.env, p, await limited(key, p, viewer, 3, { jti: `new-${viewer}` }))).toMatchObject({ status: 503, reason: 'sessions_unavailable' });
    // The admitted session was served from this isolate's fresh verdict (the object was asked only for
    // the new one); past the renew interval the same holds until its lease ends (test/unit/sessions.test.ts).
    expect(at.calls).toEqual({ admit: 2, renew: 0 });
    // An isolate that never saw the session cannot vouch for it either: refused, not guessed.
    const elsewhere = isolate();
    elsewhere.behaviour.fail = true;
    expect(await refusal(await callWorker(session.child!, elsewhere.env))).toMatchObject({ status: 503, reason: 'sessions_unavailable' });
  });

  it.each([
    ['climit 0', { climit: 0 }],
    ['climit 101', { climit: 101 }],
    ['climit 1.5', { climit: 1.5 }],
    ['climit "2"', { climit: '2' }],
    ['climitPolicy without climit', { climitPolicy: 'evict-oldest' }],
    ['an unknown climitPolicy', { climit: 2, climitPolicy: 'newest' }],
  ])('refuses a token with %s as token_malformed', async (_case, claims) => {
    const key = await createKey('ES256');
    const p = playbackId();
    const token = await fastpixToken(key, p, 600, { sub: newViewer(), ...claims });
    expect(await open(isolate().env, p, token)).toMatchObject({ status: 403, reason: 'token_malformed' });
  });

  it('refuses a limited token that names no viewer (the Mux dialect\'s sub is the playback ID: a limit needs VIEWER_CLAIM)', async () => {
    const key = await createKey('ES256');
    const p = playbackId();
    const noViewer = await fastpixToken(key, p, 600, { climit: 2 });
    expect(await open(isolate().env, p, noViewer)).toMatchObject({ status: 403, reason: 'token_malformed' });
    expect((await open(isolate().env, p, noViewer)).description).toMatch(/"sub" claim/);
    // With VIEWER_CLAIM=uid, a Mux token (sub = playback ID) is counted against its uid.
    const uid = newViewer();
    const at = { ...isolate().env, VIEWER_CLAIM: 'uid' };
    expect((await open(at, p, await muxToken(key, p, 'v', 600, { climit: 1, uid }))).status).toBe(200);
    expect((await open(at, p, await muxToken(key, p, 'v', 600, { climit: 1, uid, jti: `2-${uid}` }))).reason).toBe('stream_limit_reached');
  });

  it('refuses a Mux-dialect limited token counted by its sub, which is the playback ID (every subscriber would share one limit)', async () => {
    const key = await createKey('ES256');
    const p = playbackId();
    const answer = await open(isolate().env, p, await muxToken(key, p, 'v', 600, { climit: 2 }));
    expect(answer).toMatchObject({ status: 403, reason: 'token_malformed' });
    expect(answer.description).toMatch(/playback ID itself.*VIEWER_CLAIM/);
  });

  it('takes no slot for a request the restrictions refuse (a playback policy here)', async () => {
    const key = await createKey('ES256');
    const [guarded, open2] = [playbackId(), playbackId()];
    const viewer = newViewer();
    const policy = await admin(`/v1/playback-policies/${guarded}`, { method: 'PUT', body: JSON.stringify({ userAgents: { defaultPolicy: 'allow', allow: [], deny: ['blockedbot/'] } }) });
    expect(policy.status).toBe(200);
    const at = isolate();
    const refused = await callWorker(new Request(`https://gate.test/${guarded}.m3u8?token=${await limited(key, guarded, viewer, 1, { jti: `g-${viewer}` })}`, { headers: { 'User-Agent': 'blockedbot/1.0' } }), at.env);
    expect(await refusal(refused)).toMatchObject({ status: 403, reason: 'access_denied' });
    expect(at.calls.admit).toBe(0);
    expect((await open(at.env, open2, await limited(key, open2, viewer, 1, { jti: `o-${viewer}` }))).status).toBe(200);
  });

  it('lists a viewer\'s sessions and ends one through the admin API; its grants are refused at once in that isolate', async () => {
    const key = await createKey('ES256');
    const p = playbackId();
    const viewer = newViewer();
    const first = await open('self', p, await limited(key, p, viewer, 2, { jti: `one-${viewer}` }));
    const second = await open('self', p, await limited(key, p, viewer, 2, { jti: `two-${viewer}` }));
    const listed = await admin(`/v1/viewers/${encodeURIComponent(viewer)}/sessions`);
    expect(listed.status).toBe(200);
    const sessions = ((await listed.json()) as { data: Array<{ id: string; playbackId: string }> }).data;
    expect(sessions.map((s) => [s.id, s.playbackId])).toEqual([
      [`one-${viewer}`, p],
      [`two-${viewer}`, p],
    ]);
    expect((await admin(`/v1/viewers/${encodeURIComponent(viewer)}/sessions/one-${viewer}`, { method: 'DELETE' })).status).toBe(200);
    expect(await refusal(await fetchAt('self', first.child!))).toMatchObject({ reason: 'session_ended' });
    expect((await fetchAt('self', second.child!)).status).toBe(200);
    // Another isolate learns it from the object.
    expect(await refusal(await callWorker(first.child!, isolate().env))).toMatchObject({ reason: 'session_ended' });
  });
});
