/**
 * The revocation admin routes (issue 7): revoke tokens without deleting their key.
 *
 *   POST   /v1/iam/revocations        exactly one of {jti}, {playbackId, before}, {sub}; optional expiresAt
 *   GET    /v1/iam/revocations        list, newest first, paginated like signing keys
 *   DELETE /v1/iam/revocations/{id}   lift a revocation
 *
 * Each revocation is one self-expiring KV entry (src/keys/revocations.ts). Every successful write
 * reports `{kind: 'revocations'}` so the writing isolate sees the change at once (revocationCache.invalidate).
 */
import * as z from 'zod/mini';
import { LIMITS, PLAYBACK_ID, PLAYBACK_ID_GRAMMAR, REVOCATION_LIMITS } from '../config';
import { Refusal } from '../errors';
import { registryOf } from '../keys/registry';
import { listRevocations, type Revocation, type RevocationSelector } from '../keys/revocations';
import { readJsonObject, validated, validationFailed } from './body';
import { futureInstant, isoInstant, toIso } from './instants';
import { pageOf, PageQuery, paginate } from './pagination';
import { decided } from './registry';
import { mountRoutes, route, type AdminApp } from './route';
import { Done, success } from './schemas';


const selectorText = (example: string) =>
  z
    .string()
    .check(z.minLength(1), z.maxLength(LIMITS.maxRevocationSelectorLength), z.regex(/^[^\p{Cc}]+$/u, 'must not contain control characters'))
    .register(z.globalRegistry, { example });
const expiresAt = z.optional(isoInstant).register(z.globalRegistry, {
  description: 'The latest token `exp` the revocation can concern; the entry then expires by itself. Default now + 7 days, at most 365 days.',
});

export const RevokeJtiBody = z.strictObject({ jti: selectorText('6f1c2a9e-leaked-token'), expiresAt }).register(z.globalRegistry, { id: 'RevokeJtiBody' });

export const RevokePlaybackIdBody = z
  .strictObject({
    playbackId: z.string().check(z.regex(PLAYBACK_ID, `must match ${PLAYBACK_ID_GRAMMAR}`)).register(z.globalRegistry, { example: 'xgB9pA2yc01' }),
    before: z.union([isoInstant, z.number().check(z.int(), z.minimum(0), z.maximum(1e11))], { error: 'must be an ISO 8601 instant or epoch seconds' }).register(z.globalRegistry, {
      description: 'Tokens for this playback ID with `iat` before this instant (or without `iat`) are revoked.',
      example: '2026-11-28T12:00:00Z',
    }),
    expiresAt,
  })
  .register(z.globalRegistry, { id: 'RevokePlaybackIdBody' });

export const RevokeSubBody = z.strictObject({ sub: selectorText('viewer-4711'), expiresAt }).register(z.globalRegistry, { id: 'RevokeSubBody' });

/** For the OpenAPI document: the request is exactly one of the three shapes (parseCreateBody picks it). */
export const CreateRevocationBody = z.union([RevokeJtiBody, RevokePlaybackIdBody, RevokeSubBody]).register(z.globalRegistry, {
  id: 'CreateRevocationBody',
  description: 'Exactly one selector: `jti`, `playbackId` (with `before`) or `sub`.',
});

export const RevocationView = z
  .object({
    id: z.string(),
    kind: z.enum(['jti', 'playbackId', 'sub']),
    jti: z.optional(z.string()),
    playbackId: z.optional(z.string()),
    before: z.optional(z.number().check(z.int())).register(z.globalRegistry, { description: 'epoch seconds' }),
    sub: z.optional(z.string()),
    createdAt: isoInstant,
    expiresAt: isoInstant,
  })
  .register(z.globalRegistry, { id: 'Revocation' });

export const RevocationIdParam = z.object({
  id: z.string().register(z.globalRegistry, { example: '0b7e3f0e-5d8c-4a55-9d0e-2f1c4b7a9e31' }),
});

const SELECTORS = { jti: RevokeJtiBody, playbackId: RevokePlaybackIdBody, sub: RevokeSubBody } as const;
type SelectorName = keyof typeof SELECTORS;

/**
 * Picks the shape by the one selector present, then validates strictly against it, so a client gets
 * "unknown field: before" rather than a union's "invalid input".
 */
function parseCreateBody(raw: Record<string, unknown>) {
  const present = (Object.keys(SELECTORS) as SelectorName[]).filter((name) => Object.hasOwn(raw, name));
  if (present.length !== 1) {
    throw validationFailed([
      { field: present.length ? present.join(', ') : '(body)', message: 'exactly one of jti, playbackId (with before) or sub is required' },
    ]);
  }
  return validated(SELECTORS[present[0]!], raw) as { jti?: string; playbackId?: string; before?: string | number; sub?: string; expiresAt?: string };
}

function selectorOf(body: ReturnType<typeof parseCreateBody>, nowMs: number): RevocationSelector {
  if (body.jti !== undefined) return { kind: 'jti', jti: body.jti };
  if (body.sub !== undefined) return { kind: 'sub', sub: body.sub };
  const before = typeof body.before === 'number' ? body.before : Math.floor(Date.parse(body.before!) / 1000);
  if (before > nowMs / 1000 + REVOCATION_LIMITS.maxBeforeAheadSeconds) {
    throw validationFailed([{ field: 'before', message: 'must not be in the future (epoch seconds, not milliseconds)' }]);
  }
  return { kind: 'playbackId', playbackId: body.playbackId!, before };
}

const MAX_EXPIRY = { ms: REVOCATION_LIMITS.maxExpiresInSeconds * 1000, words: '365 days' };

/** Never jti or sub values (they may identify a viewer): the id links to them. */
const revocationFacts = (revocation: Revocation) => ({
  revocationId: revocation.id,
  kind: revocation.kind,
  ...(revocation.kind === 'playbackId' && { playbackId: revocation.playbackId, before: revocation.before }),
  expiresAt: revocation.expiresAt,
});

export const REVOCATION_ROUTES = [
  route({
    method: 'post',
    path: '/v1/iam/revocations',
    summary: 'Revoke tokens without deleting their key: by jti, by playback ID issued before a time, or by sub',
    auth: 'basic',
    body: { schema: CreateRevocationBody, required: true },
    answers: { 201: { description: 'Revoked; in force everywhere within KEY_CACHE_TTL_SECONDS + KV propagation', schema: success(RevocationView) } },
    refusals: ['limit_reached'],
    async handler(c, input) {
      // Validated against the one member its selector names, not against the union as a whole.
      const body = parseCreateBody(await readJsonObject(c.req.raw));
      const { nowMs } = input;
      const revocation = {
        id: crypto.randomUUID(),
        ...selectorOf(body, nowMs),
        createdAt: toIso(nowMs),
        expiresAt: body.expiresAt === undefined ? toIso(nowMs + REVOCATION_LIMITS.defaultExpiresInSeconds * 1000) : futureInstant(body.expiresAt, nowMs, 'expiresAt', MAX_EXPIRY),
      } as Revocation;
      decided(await registryOf(c.env).createRevocation(revocation, REVOCATION_LIMITS.maxRevocations, nowMs));
      input.wrote('revocation.create', revocationFacts(revocation), { kind: 'revocations' });
      return c.json({ success: true, data: revocation }, 201);
    },
  }),
  route({
    method: 'get',
    path: '/v1/iam/revocations',
    summary: 'List revocations in force',
    auth: 'basic',
    query: PageQuery,
    answers: { 200: { description: 'A page of revocations', schema: pageOf(RevocationView) } },
    async handler(c, input) {
      const page = input.query();
      return c.json({ success: true, ...paginate(await listRevocations(c.env.KEYS), page) });
    },
  }),
  route({
    method: 'delete',
    path: '/v1/iam/revocations/{id}',
    summary: 'Lift a revocation',
    auth: 'basic',
    params: RevocationIdParam,
    answers: { 200: { description: 'Lifted', schema: Done } },
    refusals: ['not_found'],
    async handler(c, input) {
      const id = input.param('id');
      if (id.length > 128) throw new Refusal('not_found', `No revocation with id "${id.slice(0, 128)}".`);
      const lifted = decided(await registryOf(c.env).liftRevocation(id));
      input.wrote('revocation.lift', revocationFacts(lifted), { kind: 'revocations' });
      return c.json({ success: true, data: { message: 'revocation lifted' } });
    },
  }),
];

/** Mounts these routes alone, unguarded (tests do; the admin face mounts the whole table behind Basic auth). */
export function revocationRoutes(app: AdminApp, onChange: () => void) {
  mountRoutes(app, REVOCATION_ROUTES, () => onChange());
}
