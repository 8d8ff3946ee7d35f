/**
 * signet: composes the admin face and the playback gate. Nothing else lives here.
 */
import { Hono } from 'hono';
import { adminApp, isAdminPath } from './admin';
import { allowedAdminMethods } from './admin/routes-table';
import { ConfigError, configFor, DEV_DEFAULTS, type Env } from './config';
import { demoPage } from './demo/page';
import { errorResponse, Refusal } from './errors';
import { gate } from './gate';
import { remoteJwksFor } from './keys/remote-jwks';
import { StoreUnavailable } from './keys/store';

const app = new Hono<{ Bindings: Env }>();

app.use('*', async (c, next) => {
  // Bad configuration answers 500 config_invalid before anything else runs.
  configFor(c.env);
  if (c.env.JWKS_URLS) remoteJwksFor(c.env);
  await next();
});

app.route('/', adminApp());

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

app.all('*', async (c) => {
  const url = new URL(c.req.url);
  if (isAdminPath(url.pathname) || url.pathname === '/') {
    const allowed = allowedAdminMethods(url.pathname);
    if (allowed.length) {
      return errorResponse('method_not_allowed', `${c.req.method} is not allowed here; use ${allowed.join(', ')}.`, { headers: { Allow: allowed.join(', ') } });
    }
    return errorResponse('not_found', `No route for ${c.req.method} ${url.pathname.slice(0, 200)}.`);
  }
  return gate(c.req.raw, c.env, c.executionCtx as ExecutionContext);
});

function renderError(error: unknown): Response {
  if (error instanceof Refusal) return errorResponse(error.reason, error.description, { fields: error.fields });
  if (error instanceof ConfigError) {
    return errorResponse('config_invalid', `Configuration variable ${error.variable} is invalid: ${error.problem}.`);
  }
  if (error instanceof StoreUnavailable) {
    console.error(JSON.stringify({ event: 'kv_error', operation: error.operation, error: String(error.cause).slice(0, 200) }));
    return errorResponse('storage_unavailable', 'The key store (Workers KV) is unavailable; nothing was changed. Retry later.');
  }
  console.error(JSON.stringify({ event: 'internal_error', error: error instanceof Error ? error.name : 'unknown' }));
  return errorResponse('internal_error', 'Something went wrong on our side; nothing was changed.');
}

app.onError(renderError);

/** Paths of the admin face and the demo; everything else is the gate's. */
function isGatePath(pathname: string): boolean {
  return !(isAdminPath(pathname) || pathname === '/' || pathname.startsWith('/demo/'));
}

/** The key registry Durable Object class, bound as REGISTRY in wrangler.toml. */
export { KeyRegistry } from './keys/registry';

export default {
  /**
   * Playback traffic goes straight to the gate (it is nearly all the traffic, and needs none of
   * the admin router); the admin face and the demo go through Hono.
   */
  async fetch(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
    const pathname = request.url.replace(/^[a-z]+:\/\/[^/]+/i, '').replace(/[?#].*$/s, '');
    if (!isGatePath(pathname)) return app.fetch(request, env, ctx);
    try {
      configFor(env);
      if (env.JWKS_URLS) remoteJwksFor(env);
    } catch (error) {
      return renderError(error);
    }
    return gate(request, env, ctx);
  },
} satisfies ExportedHandler<Env>;
