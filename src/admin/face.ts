/**
 * The admin face as one handler: the admin API (Hono), the local demo page (DEV_MODE only), 405 with
 * `Allow` for known admin paths, and the one error renderer of admin answers. Loaded by src/index.ts
 * on the first admin request, so playback traffic never evaluates the admin schemas (cold start).
 */
import { Hono } from 'hono';
import { configFor, DEV_DEFAULTS, type Env } from '../config';
import { demoPage } from '../demo/page';
import { errorResponse, Refusal } from '../errors';
import { StoreUnavailable } from '../keys/store';
import type { Gate } from '../gate';
import { adminApp, type AdminCaches } from './index';
import { allowedMethods } from './route';
import { ADMIN_ROUTES } from './routes';
import { isAdminPath } from './routes-table';

/**
 * `gate` serves what the admin face does not own under its paths: `/demo/…` is a playback ID like
 * any other unless it names the demo player script in DEV_MODE.
 */
export function createAdminFace(caches: AdminCaches, gate: Gate, clock: () => number): Hono<{ Bindings: Env }> {
  const app = new Hono<{ Bindings: Env }>();
  app.route('/', adminApp(caches, clock));

  // The local demo (DEV_MODE=true only, as `npm start` sets it): a page and the player script.
  app.get('/', (c, next) => {
    const config = configFor(c.env);
    if (!config.devMode) return next();
    const devCredentials = config.adminCredentials?.id === DEV_DEFAULTS.ADMIN_TOKEN_ID && config.adminCredentials.secret === DEV_DEFAULTS.ADMIN_TOKEN_SECRET;
    return c.html(
      demoPage({
        adminId: devCredentials ? DEV_DEFAULTS.ADMIN_TOKEN_ID : '',
        adminSecret: devCredentials ? DEV_DEFAULTS.ADMIN_TOKEN_SECRET : '',
        playbackId: DEV_DEFAULTS.DEMO_PLAYBACK_ID,
      }),
    );
  });
  app.get('/demo/:player{(hls\\.min|dash\\.all\\.min)\\.js}', (c, next) => {
    if (!configFor(c.env).devMode || !c.env.ASSETS) return next();
    return c.env.ASSETS.fetch(`https://assets.invalid/player/${c.req.param('player')}`);
  });

  app.all('*', (c) => {
    const { pathname } = new URL(c.req.url);
    if (!isAdminPath(pathname) && pathname !== '/') return gate(c.req.raw, c.executionCtx as ExecutionContext);
    const allowed = allowedMethods(ADMIN_ROUTES, pathname);
    if (allowed.length) {
      return errorResponse('method_not_allowed', `${c.req.method} is not allowed here; use ${allowed.join(', ')}.`, { headers: { Allow: allowed.join(', ') } });
    }
    return errorResponse('not_found', `No route for ${c.req.method} ${pathname.slice(0, 200)}.`);
  });

  app.onError((error) => {
    if (error instanceof Refusal) return errorResponse(error.reason, error.description, { fields: error.fields });
    if (error instanceof StoreUnavailable) {
      console.error(JSON.stringify({ event: 'kv_error', operation: error.operation, error: String(error.cause).slice(0, 200) }));
      return errorResponse('storage_unavailable', 'The key store (Workers KV) is unavailable; nothing was changed. Retry later.');
    }
    console.error(JSON.stringify({ event: 'internal_error', error: error instanceof Error ? error.name : 'unknown' }));
    return errorResponse('internal_error', 'Something went wrong on our side; nothing was changed.');
  });
  return app;
}
