/**
 * The admin face: signing keys and revocations (Basic auth), playback policies (Basic auth), the
 * public JWKS, the OpenAPI document, liveness — every route from the one table (routes.ts).
 */
import { Hono, type MiddlewareHandler } from 'hono';
import { configFor, type Env } from '../config';
import { errorResponse } from '../errors';
import type { KeyCache } from '../keys/cache';
import type { RevocationCache } from '../keys/revocations';
import type { PolicyCache } from '../policy/cache';
import { basicCredentials, credentialsMatch } from './auth';
import { guardedAreas, mountRoutes, type AdminChange } from './route';
import { ADMIN_ROUTES } from './routes';

const BASIC_CHALLENGE = { 'WWW-Authenticate': 'Basic realm="signet", charset="UTF-8"' };

/** The isolate caches an admin write must update at once, so the isolate that made it sees it. */
export interface AdminCaches {
  keys: KeyCache;
  revocations: RevocationCache;
  policies: PolicyCache;
  /** The isolate's remembered session verdicts (issue 16): an ended session is refused here at once. */
  sessions?: { forget(viewerRef: string, sessionId: string): void };
}

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

export function adminApp(caches: AdminCaches, clock: () => number = Date.now) {
  const app = new Hono<{ Bindings: Env }>();
  for (const area of guardedAreas(ADMIN_ROUTES)) app.use(area, requireAdmin);

  // Each change takes effect at once in this isolate, elsewhere within KEY_CACHE_TTL_SECONDS + KV propagation.
  const changed = (change: AdminChange) => {
    switch (change.kind) {
      case 'key':
        return caches.keys.evict(change.kid);
      case 'revocations':
        return caches.revocations.invalidate();
      case 'policy':
        return caches.policies.evict(change.playbackId);
      case 'session':
        return caches.sessions?.forget(change.viewerRef, change.sessionId);
    }
  };
  mountRoutes(app, ADMIN_ROUTES, changed, clock);
  return app;
}
