/**
 * Request and response schemas of the admin API shared by its routes. The routes validate with
 * these and /v1/openapi.json is generated from these: one source, so the document cannot drift.
 * A schema registered with an `id` is a component of the document (`#/components/schemas/{id}`).
 */
import * as z from 'zod/mini';
import { LIMITS } from '../config';
import { ALGORITHMS } from '../keys/algorithms';
import { isoInstant } from './instants';

const algorithm = z.enum(ALGORITHMS).register(z.globalRegistry, { description: 'RS256 = RSA-2048 (PKCS#1 v1.5), ES256 = P-256, EdDSA = Ed25519' });
// No control characters or lone surrogates: a name is a label, and JSON escapes each of these to six
// bytes, so 200 of them would overflow KV's 1024-byte metadata (the key summary lives there, SPEC §6).
const name = z
  .string()
  .check(z.trim(), z.minLength(1), z.maxLength(LIMITS.maxKeyNameLength), z.regex(/^[^\p{Cc}\p{Cs}]*$/u, 'must not contain control characters or unpaired surrogates'))
  .register(z.globalRegistry, { example: 'web-player' });

const publicJwk = z.record(z.string(), z.unknown()).register(z.globalRegistry, {
  description: 'A public JWK (RSA `n`/`e`, EC P-256 `x`/`y`, OKP Ed25519 `x`)',
  example: { kty: 'OKP', crv: 'Ed25519', x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo' },
});

export const CreateSigningKeyBody = z
  .strictObject({
    algorithm: z.optional(algorithm),
    name: z.optional(name),
    expiresAt: z.optional(isoInstant),
    publicKey: z
      .optional(z.union([z.string().check(z.maxLength(16_000)).register(z.globalRegistry, { description: 'SPKI PEM ("-----BEGIN PUBLIC KEY-----")' }), publicJwk]))
      .register(z.globalRegistry, { description: 'Bring your own key: no private key is generated or returned. Requires `algorithm`.' }),
  })
  .register(z.globalRegistry, { id: 'CreateSigningKeyBody' });

export const RotateSigningKeyBody = z
  .strictObject({
    gracePeriodSeconds: z
      .optional(z.number().check(z.int(), z.minimum(0), z.maximum(LIMITS.maxGraceSeconds)))
      .register(z.globalRegistry, { description: `How long the old key keeps verifying (default ${LIMITS.defaultGraceSeconds})`, example: 3600 }),
  })
  .register(z.globalRegistry, { id: 'RotateSigningKeyBody' });

export const KeyIdParam = z.object({
  id: z.string().register(z.globalRegistry, { example: '4f6c1a57-2b0e-4a3e-9f52-8d1f3f6a9c11' }),
});

export const SigningKeySummary = z
  .object({
    id: z.string(),
    algorithm,
    createdAt: isoInstant,
    status: z.enum(['active', 'retiring', 'expired']),
    name: z.optional(z.string()),
    expiresAt: z.optional(isoInstant),
    lastUsedAt: z.optional(isoInstant).register(z.globalRegistry, {
      description: 'Approximate time a token signed with this key was last accepted by the gate (written at most every few minutes per isolate).',
    }),
  })
  .register(z.globalRegistry, { id: 'SigningKeySummary' });

export const CreatedSigningKey = z
  .extend(SigningKeySummary, {
    privateKey: z.optional(z.string()).register(z.globalRegistry, { description: 'base64 of a PKCS#8 PEM. Returned once, never stored; absent for imported keys.' }),
    rotatedFrom: z.optional(z.string()),
  })
  .register(z.globalRegistry, { id: 'CreatedSigningKey' });

export const SigningKeyDetail = z
  .extend(SigningKeySummary, {
    signingKeyId: z.string(),
    publicKey: z.string().register(z.globalRegistry, { description: 'SPKI PEM' }),
    jwk: publicJwk,
    rotatedFrom: z.optional(z.string()),
    rotatedTo: z.optional(z.string()),
  })
  .register(z.globalRegistry, { id: 'SigningKeyDetail' });

export const ErrorEnvelope = z
  .object({
    success: z.literal(false),
    error: z.object({
      code: z.number().check(z.int()),
      message: z.string(),
      reason: z.string().register(z.globalRegistry, { description: 'stable snake_case reason (SPEC §2)' }),
      description: z.string(),
      fields: z.optional(z.array(z.object({ field: z.string(), message: z.string() }))),
    }),
  })
  .register(z.globalRegistry, { id: 'Error' });

export const Jwks = z.object({ keys: z.array(publicJwk) }).register(z.globalRegistry, { id: 'JWKS' });

/** The answer of a success: `{success: true, data}`. */
export const success = <T extends z.ZodMiniType>(data: T) => z.object({ success: z.literal(true), data });

/** The `data` of a delete or lift. */
export const Done = success(z.object({ message: z.string() }));
