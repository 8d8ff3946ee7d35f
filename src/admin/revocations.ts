/**
 * The revocation admin routes (issue 7): revoke tokens without deleting their key.
 *
 *   POST   /v1/iam/revocations        exactly one of {jti}, {playbackId, before}, {sub}; optional expiresAt
 *   GET    /v1/iam/revocations        list, newest first, paginated like signing keys
 *   DELETE /v1/iam/revocations/{id}   lift a revocation
 *
 * Each revocation is one self-expiring KV entry (src/keys/revocations.ts). `onChange` runs after
 * every successful write so the writing isolate sees the change at once (revocationCache.invalidate).
 */
import { z } from '@hono/zod-openapi';
import type { Hono } from 'hono';
import { LIMITS, type Env } from '../config';
import { Refusal } from '../errors';
import { registryOf } from '../keys/registry';
import { listRevocations, type Revocation, type RevocationSelector } from '../keys/revocations';
import { parseQuery, readJsonBody, validationFailed, zodIssues } from './body';
import { decided } from './registry';
import { pageQueryFields } from './schemas';

type AdminApp = Hono<{ Bindings: Env }>;

export const REVOCATION_LIMITS = {
  /** Mux's default playback token lifetime: the default `expiresAt` is now + this. */
  defaultExpiresInSeconds: 7 * 86_400,
  maxExpiresInSeconds: 365 * 86_400,
  /** A `before` further in the future would revoke tokens not issued yet (often epoch ms sent as seconds). */
  maxBeforeAheadSeconds: 300,
  /** Bounds the gate's snapshot: at most this many entries (10 KV list pages) per isolate per TTL. */
  maxRevocations: 10_000,
} as const;

const isoInstant = z.iso.datetime({ offset: true }).openapi({ example: '2027-01-01T00:00:00Z' });
const selectorText = (example: string) =>
  z
    .string()
    .min(1)
    .max(LIMITS.maxRevocationSelectorLength)
    .regex(/^[^\p{Cc}]+$/u, 'must not contain control characters')
    .openapi({ example });
const expiresAt = isoInstant.optional().openapi({
  description: `The latest token \`exp\` the revocation can concern; the entry then expires by itself. Default now + 7 days, at most 365 days.`,
});

export const RevokeJtiBody = z.strictObject({ jti: selectorText('6f1c2a9e-leaked-token'), expiresAt }).openapi('RevokeJtiBody');

export const RevokePlaybackIdBody = z
  .strictObject({
    playbackId: z.string().regex(/^[A-Za-z0-9_-]{1,128}$/, 'must match [A-Za-z0-9_-]{1,128}').openapi({ example: 'xgB9pA2yc01' }),
    before: z
      .union([isoInstant, z.number().int().min(0).max(1e11)], { error: 'must be an ISO 8601 instant or epoch seconds' })
      .openapi({ description: 'Tokens for this playback ID with `iat` before this instant (or without `iat`) are revoked.', example: '2026-11-28T12:00:00Z' }),
    expiresAt,
  })
  .openapi('RevokePlaybackIdBody');

export const RevokeSubBody = z.strictObject({ sub: selectorText('viewer-4711'), expiresAt }).openapi('RevokeSubBody');

/** For the OpenAPI document: the request is exactly one of the three shapes. */
export const CreateRevocationBody = z
  .union([RevokeJtiBody, RevokePlaybackIdBody, RevokeSubBody])
  .openapi('CreateRevocationBody', { description: 'Exactly one selector: `jti`, `playbackId` (with `before`) or `sub`.' });

export const RevocationView = z
  .object({
    id: z.string(),
    kind: z.enum(['jti', 'playbackId', 'sub']),
    jti: z.string().optional(),
    playbackId: z.string().optional(),
    before: z.number().int().optional().openapi({ description: 'epoch seconds' }),
    sub: z.string().optional(),
    createdAt: isoInstant,
    expiresAt: isoInstant,
  })
  .openapi('Revocation');

export const ListRevocationsQuery = z.strictObject(pageQueryFields).openapi('ListRevocationsQuery');

export const RevocationIdParam = z.object({
  id: z.string().openapi({ param: { name: 'id', in: 'path' }, example: '0b7e3f0e-5d8c-4a55-9d0e-2f1c4b7a9e31' }),
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
  const selector = present[0]!;
  const result = SELECTORS[selector].safeParse(raw);
  if (!result.success) throw validationFailed(zodIssues(result.error));
  return result.data as { jti?: string; playbackId?: string; before?: string | number; sub?: string; expiresAt?: string };
}

const toIso = (ms: number) => new Date(ms).toISOString();

function selectorOf(body: ReturnType<typeof parseCreateBody>, nowMs: number): RevocationSelector {
  if (body.jti !== undefined) return { kind: 'jti', jti: body.jti };
  if (body.sub !== undefined) return { kind: 'sub', sub: body.sub };
  const before = typeof body.before === 'number' ? body.before : Math.floor(Date.parse(body.before!) / 1000);
  if (before > nowMs / 1000 + REVOCATION_LIMITS.maxBeforeAheadSeconds) {
    throw validationFailed([{ field: 'before', message: 'must not be in the future (epoch seconds, not milliseconds)' }]);
  }
  return { kind: 'playbackId', playbackId: body.playbackId!, before };
}

function expiryOf(text: string | undefined, nowMs: number): string {
  if (text === undefined) return toIso(nowMs + REVOCATION_LIMITS.defaultExpiresInSeconds * 1000);
  const ms = Date.parse(text);
  if (ms <= nowMs) throw validationFailed([{ field: 'expiresAt', message: 'must be in the future' }]);
  if (ms > nowMs + REVOCATION_LIMITS.maxExpiresInSeconds * 1000) {
    throw validationFailed([{ field: 'expiresAt', message: 'must be at most 365 days ahead' }]);
  }
  return toIso(ms);
}

/** One structured audit line per write. Never jti or sub values (they may identify a viewer): the id links to them. */
function audit(action: string, revocation: Revocation) {
  console.log(
    JSON.stringify({
      event: 'audit',
      action,
      revocationId: revocation.id,
      kind: revocation.kind,
      ...(revocation.kind === 'playbackId' && { playbackId: revocation.playbackId, before: revocation.before }),
      expiresAt: revocation.expiresAt,
      at: new Date().toISOString(),
    }),
  );
}

export function revocationRoutes(app: AdminApp, onChange: () => void) {
  app.post('/v1/iam/revocations', async (c) => {
    const raw = await readJsonBody(c.req.raw, z.record(z.string(), z.unknown()));
    const body = parseCreateBody(raw);
    const nowMs = Date.now();
    const revocation = {
      id: crypto.randomUUID(),
      ...selectorOf(body, nowMs),
      createdAt: toIso(nowMs),
      expiresAt: expiryOf(body.expiresAt, nowMs),
    } as Revocation;
    decided(await registryOf(c.env).createRevocation(revocation, REVOCATION_LIMITS.maxRevocations, nowMs));
    onChange();
    audit('revocation.create', revocation);
    return c.json({ success: true, data: revocation }, 201);
  });

  app.get('/v1/iam/revocations', async (c) => {
    const { limit, offset } = parseQuery(new URL(c.req.url), ListRevocationsQuery);
    const all = await listRevocations(c.env.KEYS);
    return c.json({
      success: true,
      data: all.slice((offset - 1) * limit, offset * limit),
      pagination: { totalRecords: all.length, currentOffset: offset, offsetCount: Math.ceil(all.length / limit) },
    });
  });

  app.delete('/v1/iam/revocations/:id', async (c) => {
    const id = c.req.param('id');
    if (id.length > 128) throw new Refusal('not_found', `No revocation with id "${id.slice(0, 128)}".`);
    const lifted = decided(await registryOf(c.env).liftRevocation(id));
    onChange();
    audit('revocation.lift', lifted);
    return c.json({ success: true, data: { message: 'revocation lifted' } });
  });
}
