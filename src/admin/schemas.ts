/**
 * Request and response schemas of the admin API. The routes validate with these and
 * /v1/openapi.json is generated from these: one source, so the document cannot drift.
 */
import { z } from '@hono/zod-openapi';
import { LIMITS } from '../config';
import { ALGORITHMS } from '../keys/algorithms';

const isoInstant = z.iso.datetime({ offset: true }).openapi({ example: '2027-01-01T00:00:00Z' });
const algorithm = z.enum(ALGORITHMS).openapi({ description: 'RS256 = RSA-2048 (PKCS#1 v1.5), ES256 = P-256, EdDSA = Ed25519' });
// No control characters or lone surrogates: a name is a label, and JSON escapes each of these to six
// bytes, so 200 of them would overflow KV's 1024-byte metadata (the key summary lives there, SPEC §6).
const name = z
  .string()
  .trim()
  .min(1)
  .max(LIMITS.maxKeyNameLength)
  .regex(/^[^\p{Cc}\p{Cs}]*$/u, 'must not contain control characters or unpaired surrogates')
  .openapi({ example: 'web-player' });

const publicJwk = z
  .record(z.string(), z.unknown())
  .openapi({ description: 'A public JWK (RSA `n`/`e`, EC P-256 `x`/`y`, OKP Ed25519 `x`)', example: { kty: 'OKP', crv: 'Ed25519', x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo' } });

export const CreateSigningKeyBody = z
  .strictObject({
    algorithm: algorithm.optional(),
    name: name.optional(),
    expiresAt: isoInstant.optional(),
    publicKey: z
      .union([z.string().max(16_000).openapi({ description: 'SPKI PEM ("-----BEGIN PUBLIC KEY-----")' }), publicJwk])
      .optional()
      .openapi({ description: 'Bring your own key: no private key is generated or returned. Requires `algorithm`.' }),
  })
  .openapi('CreateSigningKeyBody');

export const RotateSigningKeyBody = z
  .strictObject({
    gracePeriodSeconds: z
      .number()
      .int()
      .min(0)
      .max(LIMITS.maxGraceSeconds)
      .optional()
      .openapi({ description: `How long the old key keeps verifying (default ${LIMITS.defaultGraceSeconds})`, example: 3600 }),
  })
  .openapi('RotateSigningKeyBody');

const integerText = (fallback: number, min: number, max: number) =>
  z
    .string()
    .regex(/^\d{1,9}$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max))
    // zod 4: `.default` returns its value as the output without parsing it, so it must be the number.
    .default(fallback)
    .openapi({ type: 'integer', minimum: min, maximum: max, default: fallback } as never);

/** `limit` (1–100) and `offset` (1-based page) of every admin list, FastPix style. */
export const pageQueryFields = {
  limit: integerText(LIMITS.defaultPageLimit, 1, LIMITS.maxPageLimit),
  offset: integerText(1, 1, 1_000_000),
};

export const ListSigningKeysQuery = z.strictObject(pageQueryFields).openapi('ListSigningKeysQuery');

export const KeyIdParam = z.object({
  id: z.string().openapi({ param: { name: 'id', in: 'path' }, example: '4f6c1a57-2b0e-4a3e-9f52-8d1f3f6a9c11' }),
});

export const SigningKeySummary = z
  .object({
    id: z.string(),
    algorithm,
    createdAt: isoInstant,
    status: z.enum(['active', 'retiring', 'expired']),
    name: z.string().optional(),
    expiresAt: isoInstant.optional(),
    lastUsedAt: isoInstant.optional().openapi({ description: 'Approximate time a token signed with this key was last accepted by the gate (written at most every few minutes per isolate).' }),
  })
  .openapi('SigningKeySummary');

export const CreatedSigningKey = SigningKeySummary.extend({
  privateKey: z.string().optional().openapi({ description: 'base64 of a PKCS#8 PEM. Returned once, never stored; absent for imported keys.' }),
  rotatedFrom: z.string().optional(),
}).openapi('CreatedSigningKey');

export const SigningKeyDetail = SigningKeySummary.extend({
  signingKeyId: z.string(),
  publicKey: z.string().openapi({ description: 'SPKI PEM' }),
  jwk: publicJwk,
  rotatedFrom: z.string().optional(),
  rotatedTo: z.string().optional(),
}).openapi('SigningKeyDetail');

export const Pagination = z.object({ totalRecords: z.number().int(), currentOffset: z.number().int(), offsetCount: z.number().int() }).openapi('Pagination');

export const ErrorEnvelope = z
  .object({
    success: z.literal(false),
    error: z.object({
      code: z.number().int(),
      message: z.string(),
      reason: z.string().openapi({ description: 'stable snake_case reason (SPEC §2)' }),
      description: z.string(),
      fields: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
    }),
  })
  .openapi('Error');

export const Jwks = z.object({ keys: z.array(publicJwk) }).openapi('JWKS');

export const success = <T extends z.ZodType>(data: T) => z.object({ success: z.literal(true), data });
