/**
 * /v1/openapi.json, generated from the schemas the routes validate with (schemas.ts).
 */
import { OpenAPIRegistry, OpenApiGeneratorV31 } from '@asteasolutions/zod-to-openapi';
import { z } from '@hono/zod-openapi';
import { PlaybackPolicy } from '../policy/schema';
import { CreateRevocationBody, ListRevocationsQuery, RevocationIdParam, RevocationView } from './revocations';
import {
  CreatedSigningKey,
  CreateSigningKeyBody,
  ErrorEnvelope,
  Jwks,
  KeyIdParam,
  ListSigningKeysQuery,
  Pagination,
  RotateSigningKeyBody,
  SigningKeyDetail,
  SigningKeySummary,
  success,
} from './schemas';

function errors(...codes: number[]) {
  return Object.fromEntries(codes.map((code) => [code, { description: 'SPEC §2 error envelope', content: { 'application/json': { schema: ErrorEnvelope } } }]));
}

const json = (schema: z.ZodType, description: string) => ({ description, content: { 'application/json': { schema } } });

function buildDocument() {
  const registry = new OpenAPIRegistry();
  const basic = registry.registerComponent('securitySchemes', 'basicAuth', { type: 'http', scheme: 'basic' });
  const security = [{ [basic.name]: [] }];
  const common = errors(401, 500, 503);

  registry.registerPath({
    method: 'post',
    path: '/v1/iam/signing-keys',
    summary: 'Create a signing key, or import a public key (bring your own)',
    security,
    request: { body: { required: false, content: { 'application/json': { schema: CreateSigningKeyBody } } } },
    responses: { 201: json(success(CreatedSigningKey), 'Created. privateKey is shown once.'), ...errors(400, 409, 413, 415, 422), ...common },
  });
  registry.registerPath({
    method: 'get',
    path: '/v1/iam/signing-keys',
    summary: 'List signing keys, newest first',
    security,
    request: { query: ListSigningKeysQuery },
    responses: { 200: json(z.object({ success: z.literal(true), data: z.array(SigningKeySummary), pagination: Pagination }), 'A page of keys'), ...errors(422), ...common },
  });
  registry.registerPath({
    method: 'get',
    path: '/v1/iam/signing-keys/{id}',
    summary: 'Get one signing key with its public key (SPKI PEM and JWK)',
    security,
    request: { params: KeyIdParam },
    responses: { 200: json(success(SigningKeyDetail), 'The key'), ...errors(404), ...common },
  });
  registry.registerPath({
    method: 'post',
    path: '/v1/iam/signing-keys/{id}/rotate',
    summary: 'Rotate: a new key of the same algorithm; the old one retires after a grace period',
    security,
    request: { params: KeyIdParam, body: { required: false, content: { 'application/json': { schema: RotateSigningKeyBody } } } },
    responses: { 201: json(success(CreatedSigningKey), 'The new key, with privateKey and rotatedFrom'), ...errors(400, 404, 409, 413, 415, 422), ...common },
  });
  registry.registerPath({
    method: 'delete',
    path: '/v1/iam/signing-keys/{id}',
    summary: 'Delete a signing key; tokens signed with it stop verifying',
    security,
    request: { params: KeyIdParam },
    responses: { 200: json(success(z.object({ message: z.string() })), 'Deleted'), ...errors(404), ...common },
  });
  registry.registerPath({
    method: 'post',
    path: '/v1/iam/revocations',
    summary: 'Revoke tokens without deleting their key: by jti, by playback ID issued before a time, or by sub',
    security,
    request: { body: { required: true, content: { 'application/json': { schema: CreateRevocationBody } } } },
    responses: { 201: json(success(RevocationView), 'Revoked; in force everywhere within KEY_CACHE_TTL_SECONDS + KV propagation'), ...errors(400, 409, 413, 415, 422), ...common },
  });
  registry.registerPath({
    method: 'get',
    path: '/v1/iam/revocations',
    summary: 'List revocations in force',
    security,
    request: { query: ListRevocationsQuery },
    responses: { 200: json(z.object({ success: z.literal(true), data: z.array(RevocationView), pagination: Pagination }), 'A page of revocations'), ...errors(422), ...common },
  });
  registry.registerPath({
    method: 'delete',
    path: '/v1/iam/revocations/{id}',
    summary: 'Lift a revocation',
    security,
    request: { params: RevocationIdParam },
    responses: { 200: json(success(z.object({ message: z.string() })), 'Lifted'), ...errors(404), ...common },
  });
  const playbackIdParam = z.object({ playbackId: z.string().regex(/^[A-Za-z0-9_-]{1,128}$/).openapi({ param: { name: 'playbackId', in: 'path' }, example: 'demo' }) });
  registry.registerPath({
    method: 'put',
    path: '/v1/playback-policies/{playbackId}',
    summary: 'Set the playback policy of a playback ID: allowed domains, user agents, required groups, network binding',
    security,
    request: { params: playbackIdParam, body: { required: true, content: { 'application/json': { schema: PlaybackPolicy } } } },
    responses: { 200: json(success(z.object({ playbackId: z.string(), updatedAt: z.string() }).passthrough()), 'The stored policy'), ...errors(400, 413, 415, 422), ...common },
  });
  registry.registerPath({
    method: 'get',
    path: '/v1/playback-policies/{playbackId}',
    summary: 'Get the playback policy of a playback ID',
    security,
    request: { params: playbackIdParam },
    responses: { 200: json(success(z.object({ playbackId: z.string(), updatedAt: z.string() }).passthrough()), 'The policy'), ...errors(404), ...common },
  });
  registry.registerPath({
    method: 'delete',
    path: '/v1/playback-policies/{playbackId}',
    summary: 'Remove the playback policy of a playback ID',
    security,
    request: { params: playbackIdParam },
    responses: { 200: json(success(z.object({ message: z.string() })), 'Deleted'), ...errors(404), ...common },
  });
  registry.registerPath({
    method: 'get',
    path: '/.well-known/jwks.json',
    summary: 'Public keys of active and retiring signing keys',
    responses: { 200: json(Jwks, 'JWKS') },
  });
  registry.registerPath({
    method: 'get',
    path: '/healthz',
    summary: 'Liveness',
    responses: { 200: json(z.object({ ok: z.literal(true) }), 'Alive') },
  });

  return new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: { title: 'signet admin API', version: '1', description: 'Signing keys for signed playback (FastPix-compatible paths).' },
  });
}

let document: ReturnType<typeof buildDocument> | undefined;

/** Built once per isolate, on first request. */
export function openApiDocument() {
  return (document ??= buildDocument());
}
