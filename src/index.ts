/**
 * signet: composes the admin face and the playback gate. Nothing else lives here.
 *
 * Everything is built once per environment (workerd hands the same `env` to every request of an
 * isolate): the parsed configuration, the isolate caches, the gate. Playback traffic — nearly all
 * the traffic — goes straight to the gate; the admin face is loaded on the first admin request.
 */
import type { AdminCaches } from './admin';
import { isGatePath, liveness, LIVENESS_PATH } from './admin/routes-table';
import type { createAdminFace } from './admin/face';
import { ASSETS_ORIGIN, ConfigError, configFor, type Env } from './config';
import { errorResponse } from './errors';
import { createGate, type Gate } from './gate';
import { KeyCache } from './keys/cache';
import { LastUsedTracker } from './keys/last-used';
import { EdgeCache } from './origin/edge-cache';
import { RevocationCache } from './keys/revocations';
import { PolicyCache } from './policy/cache';
import { durableSessions, SessionLeases } from './sessions/leases';

/** The key registry Durable Object class, bound as REGISTRY in wrangler.toml. */
export { KeyRegistry } from './keys/registry';
export { ViewerSessions } from './sessions/viewer-sessions';

/** Loaded only when JWKS_URLS is set: most deployments never evaluate the remote JWKS code. */
async function remoteJwksOf(env: Env) {
  if (!env.JWKS_URLS) return null;
  const { remoteJwksFor } = await import('./keys/remote-jwks');
  const set = remoteJwksFor(env);
  return set.enabled ? set : null;
}

interface Runtime {
  gate: Gate;
  caches: AdminCaches;
  /** Epoch ms: the one clock of the gate and the admin face. */
  clock: () => number;
  admin?: Promise<ReturnType<typeof createAdminFace>>;
}

const runtimes = new WeakMap<Env, Promise<Runtime>>();

/** The runtime of `env`, built once. Rejects with the (remembered, logged once) ConfigError of a bad configuration. */
function runtimeFor(env: Env): Promise<Runtime> {
  let runtime = runtimes.get(env);
  if (!runtime) {
    runtime = buildRuntime(env);
    runtimes.set(env, runtime);
  }
  return runtime;
}

async function buildRuntime(env: Env): Promise<Runtime> {
  const config = configFor(env);
  const remoteJwks = await remoteJwksOf(env);
  const clock = Date.now;
  const sessions = new SessionLeases(env.SESSIONS && durableSessions(env.SESSIONS), config.sessionLeaseSeconds * 1000, config.sessionRenewSeconds * 1000, clock);
  const isolateCaches: AdminCaches = { keys: new KeyCache(), revocations: new RevocationCache(), policies: new PolicyCache(), sessions };
  // The worker's own static assets are already at the edge: the Cache API would only copy them.
  const cache = config.edgeCache && config.originUrl !== ASSETS_ORIGIN ? caches.default : null;
  const gate = createGate({
    config,
    kv: env.KEYS,
    assets: env.ASSETS,
    edge: new EdgeCache(cache, config.edgeCacheTtlSeconds, clock),
    ...isolateCaches,
    lastUsed: new LastUsedTracker(),
    sessions,
    remoteJwks,
    clock,
  });
  return { gate, caches: isolateCaches, clock };
}

/** The path of a request URL without parsing it (workerd hands an absolute, normalised URL). */
function pathnameOf(url: string): string {
  const start = url.indexOf('/', url.indexOf('//') + 2);
  const end = url.indexOf('?', start);
  return end < 0 ? url.slice(start) : url.slice(start, end);
}

export default {
  async fetch(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
    let runtime: Runtime;
    try {
      runtime = await runtimeFor(env);
    } catch (error) {
      // Bad configuration answers 500 config_invalid to every request, naming the variable.
      if (!(error instanceof ConfigError)) throw error;
      return errorResponse('config_invalid', `Configuration variable ${error.variable} is invalid: ${error.problem}.`);
    }
    const pathname = pathnameOf(request.url);
    if (isGatePath(pathname)) return runtime.gate(request, ctx);
    // A probe (and a new isolate's first request, often) need not load the admin face.
    if (pathname === LIVENESS_PATH && (request.method === 'GET' || request.method === 'HEAD')) return liveness();
    runtime.admin ??= import('./admin/face').then(({ createAdminFace }) => createAdminFace(runtime.caches, runtime.gate, runtime.clock));
    return (await runtime.admin).fetch(request, env, ctx);
  },
} satisfies ExportedHandler<Env>;
