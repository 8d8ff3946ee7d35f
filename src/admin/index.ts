/**
 * The admin face: signing keys (Basic auth), the public JWKS, the OpenAPI document, liveness.
 */
import { Hono, type MiddlewareHandler } from 'hono';
import { configFor, type Env } from '../config';
import { errorResponse } from '../errors';
import type { KeyCache } from '../keys/cache';
import { statusAt } from '../keys/record';
import type { RevocationCache } from '../keys/revocations';
import { getKeys, listKeys } from '../keys/store';
import { basicCredentials, credentialsMatch } from './auth';
import { openApiDocument } from './openapi';
import type { PolicyCache } from '../policy/cache';
import { playbackPolicyRoutes } from './playback-policies';
import { revocationRoutes } from './revocations';
import { signingKeyRoutes } from './signing-keys';

const BASIC_CHALLENGE = { 'WWW-Authenticate': 'Basic realm="signet", charset="UTF-8"' };

/** The isolate caches an admin write must update at once, so the isolate that made it sees it. */
export interface AdminCaches {
  keys: KeyCache;
  revocations: RevocationCache;
  policies: PolicyCache;
}

export function adminApp(caches: AdminCaches) {
  const app = new Hono<{ Bindings: Env }>();

  const requireAdmin: MiddlewareHandler<{ Bindings: Env }> = async (c, next) => {
    const { adminCredentials } = configFor(c.env);
    if (!adminCredentials) {
      return errorResponse('admin_not_configured', 'Set ADMIN_TOKEN_ID and ADMIN_TOKEN_SECRET (wrangler secret put) to enable the admin API.');
    }
    if (!(await credentialsMatch(basicCredentials(c.req.header('Authorization')), adminCredentials))) {
      return errorResponse('unauthorized', 'Send HTTP Basic credentials: ADMIN_TOKEN_ID as user, ADMIN_TOKEN_SECRET as password.', { headers: BASIC_CHALLENGE });
    }
    await next();
  };
  app.use('/v1/iam/*', requireAdmin);
  app.use('/v1/playback-policies/*', requireAdmin);

  // Each change takes effect at once in this isolate, elsewhere within KEY_CACHE_TTL_SECONDS + KV propagation.
  signingKeyRoutes(app, (kid) => caches.keys.evict(kid));
  revocationRoutes(app, () => caches.revocations.invalidate());
  playbackPolicyRoutes(app, (playbackId) => caches.policies.evict(playbackId));

  app.get('/.well-known/jwks.json', async (c) => {
    const nowMs = Date.now();
    const live = (await listKeys(c.env.KEYS)).filter(({ summary }) => statusAt(summary, nowMs) !== 'expired');
    const records = await getKeys(c.env.KEYS, live.map(({ id }) => id));
    const keys = records
      .filter((record) => statusAt(record, nowMs) !== 'expired')
      .map((record) => ({ ...record.publicJwk, kid: record.id, alg: record.algorithm, use: 'sig' }));
    return c.json({ keys }, 200, { 'Cache-Control': 'public, max-age=60', 'Access-Control-Allow-Origin': '*' });
  });

  app.get('/v1/openapi.json', (c) => c.json(openApiDocument(), 200, { 'Access-Control-Allow-Origin': '*' }));

  app.get('/healthz', (c) => c.json({ ok: true }, 200, { 'Cache-Control': 'no-store' }));

  return app;
}
