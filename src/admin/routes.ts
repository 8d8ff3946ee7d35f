/**
 * The admin routes, each declared once (route.ts says what a route states). Hono registration,
 * the 405 `Allow` answer, the Basic-auth areas and the OpenAPI paths are all derived from this table.
 */
import * as z from 'zod/mini';
import { openApiDocument } from './openapi';
import { PLAYBACK_POLICY_ROUTES } from './playback-policies';
import { REVOCATION_ROUTES } from './revocations';
import { route, type AdminRoute } from './route';
import { liveness, LIVENESS_PATH } from './routes-table';
import { SIGNING_KEY_ROUTES } from './signing-keys';
import { VIEWER_SESSION_ROUTES } from './viewer-sessions';

export const ADMIN_ROUTES: readonly AdminRoute[] = [
  ...SIGNING_KEY_ROUTES,
  ...REVOCATION_ROUTES,
  ...PLAYBACK_POLICY_ROUTES,
  ...VIEWER_SESSION_ROUTES,
  route({
    method: 'get',
    path: '/v1/openapi.json',
    summary: 'OpenAPI 3.1 description of the admin API',
    auth: 'public',
    answers: { 200: { description: 'The document', schema: z.record(z.string(), z.unknown()) } },
    documented: false,
    handler: (c) => c.json(openApiDocument(ADMIN_ROUTES), 200, { 'Access-Control-Allow-Origin': '*' }),
  }),
  route({
    method: 'get',
    path: LIVENESS_PATH,
    summary: 'Liveness (answered by the entry module before the admin face loads; declared here for the OpenAPI document and 405s)',
    auth: 'public',
    answers: { 200: { description: 'Alive', schema: z.object({ ok: z.literal(true) }) } },
    handler: () => liveness(),
  }),
];
