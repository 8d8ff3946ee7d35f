/**
 * The playback-policy admin routes (issue 8 §2): one policy per playback ID, replaced whole by
 * PUT. Thin handlers: validate, call the policy store, tell the caches which ID changed (so the
 * isolate's policy cache forgets it at once), render.
 */
import * as z from 'zod/mini';
import { PLAYBACK_ID, PLAYBACK_ID_GRAMMAR } from '../config';
import { Refusal } from '../errors';
import { PlaybackPolicy } from '../policy/schema';
import { registryOf } from '../keys/registry';
import { getPolicy, type StoredPlaybackPolicy } from '../policy/store';
import { validationFailed } from './body';
import { decided } from './registry';
import { mountRoutes, route, type AdminApp } from './route';
import { Done, success } from './schemas';

const PlaybackIdParam = z.object({
  playbackId: z.string().check(z.regex(PLAYBACK_ID)).register(z.globalRegistry, { example: 'demo' }),
});

/** What the API answers: the policy, its playback ID and when it was set. */
const PolicyView = success(z.looseObject({ playbackId: z.string(), updatedAt: z.string() }));

function view(playbackId: string, entry: StoredPlaybackPolicy) {
  return { playbackId, ...entry.policy, updatedAt: entry.updatedAt };
}

function notFound(playbackId: string): Refusal {
  return new Refusal('not_found', `No playback policy for playback ID "${playbackId.slice(0, 128)}".`);
}

/** The sections a policy sets, for the audit line (the content itself is in KV and the API); policies hold no secrets. */
const sections = (policy: PlaybackPolicy) => Object.keys(policy).sort();

export const PLAYBACK_POLICY_ROUTES = [
  route({
    method: 'put',
    path: '/v1/playback-policies/{playbackId}',
    summary: 'Set the playback policy of a playback ID: allowed domains, user agents, required groups, network binding',
    auth: 'basic',
    params: PlaybackIdParam,
    body: { schema: PlaybackPolicy, required: true },
    answers: { 200: { description: 'The stored policy', schema: PolicyView } },
    async handler(c, input) {
      const playbackId = input.param('playbackId');
      if (!PLAYBACK_ID.test(playbackId)) {
        throw validationFailed([{ field: 'playbackId', message: `must match ${PLAYBACK_ID_GRAMMAR}` }]);
      }
      const policy = await input.body();
      const entry: StoredPlaybackPolicy = { policy, updatedAt: new Date().toISOString() };
      decided(await registryOf(c.env).putPolicy(playbackId, entry));
      input.wrote('playback_policy.put', { playbackId, sections: sections(policy) }, { kind: 'policy', playbackId });
      return c.json({ success: true, data: view(playbackId, entry) }, 200);
    },
  }),
  route({
    method: 'get',
    path: '/v1/playback-policies/{playbackId}',
    summary: 'Get the playback policy of a playback ID',
    auth: 'basic',
    params: PlaybackIdParam,
    answers: { 200: { description: 'The policy', schema: PolicyView } },
    refusals: ['not_found'],
    async handler(c, input) {
      const playbackId = input.param('playbackId');
      const entry = PLAYBACK_ID.test(playbackId) ? await getPolicy(c.env.KEYS, playbackId) : null;
      if (!entry) throw notFound(playbackId);
      return c.json({ success: true, data: view(playbackId, entry) });
    },
  }),
  route({
    method: 'delete',
    path: '/v1/playback-policies/{playbackId}',
    summary: 'Remove the playback policy of a playback ID',
    auth: 'basic',
    params: PlaybackIdParam,
    answers: { 200: { description: 'Deleted', schema: Done } },
    refusals: ['not_found'],
    async handler(c, input) {
      const playbackId = input.param('playbackId');
      if (!PLAYBACK_ID.test(playbackId)) throw notFound(playbackId);
      decided(await registryOf(c.env).deletePolicy(playbackId));
      input.wrote('playback_policy.delete', { playbackId }, { kind: 'policy', playbackId });
      return c.json({ success: true, data: { message: 'playback policy deleted' } });
    },
  }),
];

/** Mounts these routes alone, unguarded (tests do; the admin face mounts the whole table behind Basic auth). */
export function playbackPolicyRoutes(app: AdminApp, onChange: (playbackId: string) => void) {
  mountRoutes(app, PLAYBACK_POLICY_ROUTES, (change) => {
    if (change.kind === 'policy') onChange(change.playbackId);
  });
}
