/**
 * The playback-policy admin routes (issue 8 §2): one policy per playback ID, replaced whole by
 * PUT. Thin handlers: validate, call the policy store, tell the caller which ID changed (so the
 * isolate's policy cache forgets it at once), render.
 *
 * Auth is the admin face's job: the composing app must guard `/v1/playback-policies/*` with the
 * same Basic-auth middleware as `/v1/iam/*`.
 */
import type { Hono } from 'hono';
import { PLAYBACK_ID, type Env } from '../config';
import { Refusal } from '../errors';
import { PlaybackPolicy } from '../policy/schema';
import { registryOf } from '../keys/registry';
import { getPolicy, type StoredPlaybackPolicy } from '../policy/store';
import { readJsonBody, validationFailed } from './body';
import { decided } from './registry';

type AdminApp = Hono<{ Bindings: Env }>;

/** One structured audit line per write. Policies hold no secrets, but the line carries only the ID and what changed. */
function auditPolicy(action: 'playback_policy.put' | 'playback_policy.delete', playbackId: string, extra: Record<string, unknown> = {}) {
  console.log(JSON.stringify({ event: 'audit', action, playbackId, at: new Date().toISOString(), ...extra }));
}

function view(playbackId: string, entry: StoredPlaybackPolicy) {
  return { playbackId, ...entry.policy, updatedAt: entry.updatedAt };
}

function notFound(playbackId: string): Refusal {
  return new Refusal('not_found', `No playback policy for playback ID "${playbackId.slice(0, 128)}".`);
}

/** The sections a policy sets, for the audit line (the content itself is in KV and the API). */
const sections = (policy: PlaybackPolicy) => Object.keys(policy).sort();

export function playbackPolicyRoutes(app: AdminApp, onChange: (playbackId: string) => void) {
  app.put('/v1/playback-policies/:playbackId', async (c) => {
    const playbackId = c.req.param('playbackId');
    if (!PLAYBACK_ID.test(playbackId)) {
      throw validationFailed([{ field: 'playbackId', message: 'must match [A-Za-z0-9_-]{1,128}' }]);
    }
    const policy = await readJsonBody(c.req.raw, PlaybackPolicy);
    const entry: StoredPlaybackPolicy = { policy, updatedAt: new Date().toISOString() };
    decided(await registryOf(c.env).putPolicy(playbackId, entry));
    onChange(playbackId);
    auditPolicy('playback_policy.put', playbackId, { sections: sections(policy) });
    return c.json({ success: true, data: view(playbackId, entry) }, 200);
  });

  app.get('/v1/playback-policies/:playbackId', async (c) => {
    const playbackId = c.req.param('playbackId');
    const entry = PLAYBACK_ID.test(playbackId) ? await getPolicy(c.env.KEYS, playbackId) : null;
    if (!entry) throw notFound(playbackId);
    return c.json({ success: true, data: view(playbackId, entry) });
  });

  app.delete('/v1/playback-policies/:playbackId', async (c) => {
    const playbackId = c.req.param('playbackId');
    if (!PLAYBACK_ID.test(playbackId)) throw notFound(playbackId);
    decided(await registryOf(c.env).deletePolicy(playbackId));
    onChange(playbackId);
    auditPolicy('playback_policy.delete', playbackId);
    return c.json({ success: true, data: { message: 'playback policy deleted' } });
  });
}
