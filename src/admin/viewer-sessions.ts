/**
 * The viewer-session admin routes (issue 16): what a viewer is playing, and ending one screen now.
 *
 *   GET    /v1/viewers/{viewer}/sessions        the viewer's active sessions, oldest first
 *   DELETE /v1/viewers/{viewer}/sessions/{id}   end one now: its grants are refused within the renewal interval
 *
 * The viewer is the token's `sub` (or the configured viewer claim), percent-decoded from the path,
 * so an email is `/v1/viewers/ada%40example.com/sessions`. Each viewer's sessions live in its own
 * Durable Object (src/sessions/viewer-sessions.ts); these routes only ask it.
 */
import * as z from 'zod/mini';
import { Refusal } from '../errors';
import { SESSION_LIMITS } from '../config';
import { viewerRefOf } from '../sessions/claims';
import { isBoundedId, sessionsOf } from '../sessions/viewer-sessions';
import { validationFailed } from './body';
import { isoInstant } from './instants';
import { route } from './route';
import { Done, success } from './schemas';

const ViewerParam = z.object({
  viewer: z.string().check(z.minLength(1), z.maxLength(SESSION_LIMITS.maxIdLength)).register(z.globalRegistry, {
    description: "The token's `sub` (or the configured viewer claim), percent-encoded",
    example: 'viewer-4711',
  }),
});

const ViewerSessionParams = z.extend(ViewerParam, {
  id: z.string().check(z.minLength(1), z.maxLength(SESSION_LIMITS.maxIdLength)).register(z.globalRegistry, {
    description: "The session id: the token's `jti`, or a digest of the token when it has none",
    example: '6f1c2a9e-4b7d-4c1e-9a51-0d2e8f3b7c44',
  }),
});

export const ViewerSessionView = z
  .object({
    id: z.string(),
    playbackId: z.string(),
    startedAt: isoInstant,
    lastSeenAt: isoInstant,
    leaseEndsAt: isoInstant.register(z.globalRegistry, { description: 'The session ends then unless a request of it renews the lease first' }),
    network: z.optional(z.string()).register(z.globalRegistry, { description: "The viewer's network (/24 or /48) when the session started or was last continued" }),
  })
  .register(z.globalRegistry, { id: 'ViewerSession' });

/** The viewer of the path, or 422: no token can name a longer one (the objects refuse it too). */
function viewerOf(raw: string): string {
  if (!isBoundedId(raw)) throw validationFailed([{ field: 'viewer', message: `must be 1 to ${SESSION_LIMITS.maxIdLength} characters` }]);
  return raw;
}

/**
 * What the audit line says: references, not the values. A viewer id may be an email and a session
 * id is a token's `jti`, neither of which audit lines carry (src/admin/audit.ts); whoever knows the
 * values finds the line by computing the same digest.
 */
async function reference(text: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)));
  return [...digest.slice(0, 8)].map((byte) => byte.toString(16).padStart(2, '0')).join('');
}

export const VIEWER_SESSION_ROUTES = [
  route({
    method: 'get',
    path: '/v1/viewers/{viewer}/sessions',
    summary: "A viewer's active playback sessions (concurrent-stream limits), oldest first",
    auth: 'basic',
    params: ViewerParam,
    answers: { 200: { description: 'The active sessions; empty for a viewer with none', schema: success(z.array(ViewerSessionView)) } },
    refusals: ['validation_failed'],
    async handler(c, input) {
      const viewerRef = await viewerRefOf(viewerOf(input.param('viewer')));
      return c.json({ success: true, data: await sessionsOf(c.env, viewerRef).list(input.nowMs) });
    },
  }),
  route({
    method: 'delete',
    path: '/v1/viewers/{viewer}/sessions/{id}',
    summary: "End one of a viewer's sessions now; its token cannot start it again",
    auth: 'basic',
    params: ViewerSessionParams,
    answers: { 200: { description: 'Ended; refused everywhere within SESSION_RENEW_SECONDS', schema: Done } },
    refusals: ['validation_failed', 'not_found'],
    async handler(c, input) {
      const viewerRef = await viewerRefOf(viewerOf(input.param('viewer')));
      const sessionId = input.param('id');
      const ended = isBoundedId(sessionId) && (await sessionsOf(c.env, viewerRef).end(sessionId, input.nowMs));
      if (!ended) throw new Refusal('not_found', `No active session "${sessionId.slice(0, SESSION_LIMITS.maxIdLength)}" for this viewer.`);
      input.wrote('viewer_session.end', { viewerRef, sessionRef: await reference(sessionId) }, { kind: 'session', viewerRef, sessionId });
      return c.json({ success: true, data: { message: 'session ended' } });
    },
  }),
];

