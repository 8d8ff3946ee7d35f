/**
 * signet: composes the admin face and the playback gate. Nothing else lives here.
 *
 * Everything is built once per environment (workerd hands the same `env` to every request of an
 * isolate): the parsed configuration, the isolate caches, the gate. Playback traffic — nearly all
 * the traffic — goes straight to the gate; the admin face is loaded on the first admin request.
 */
import type { AdminCaches } from './admin';
import { isGatePath } from './admin/routes-table';
import type { createAdminFace } from './admin/face';
import { ConfigError, configFor, type Env } from './config';
import { errorResponse } from './errors';
import { createGate, type Gate } from './gate';
import { KeyCache } from './keys/cache';
import { LastUsedTracker } from './keys/last-used';
import { remoteJwksFor } from './keys/remote-jwks';
import { RevocationCache } from './keys/revocations';
import { PolicyCache } from './policy/cache';

/** The key registry Durable Object class, bound as REGISTRY in wrangler.toml. */
export { KeyRegistry } from './keys/registry';

interface Runtime {
  gate: Gate;
  caches: AdminCaches;
  admin?: Promise<ReturnType<typeof createAdminFace>>;
}

const runtimes = new WeakMap<Env, Runtime>();

/** Builds the runtime of `env` once. Throws the (remembered, logged once) ConfigError of a bad configuration. */
function runtimeFor(env: Env): Runtime {
  let runtime = runtimes.get(env);
  if (runtime) return runtime;
  const config = configFor(env);
  const remoteJwks = env.JWKS_URLS ? remoteJwksFor(env) : null;
  const caches: AdminCaches = { keys: new KeyCache(), revocations: new RevocationCache(), policies: new PolicyCache() };
  const gate = createGate({
    config,
    kv: env.KEYS,
    assets: env.ASSETS,
    ...caches,
    lastUsed: new LastUsedTracker(),
    remoteJwks: remoteJwks?.enabled ? remoteJwks : null,
    clock: Date.now,
  });
  runtime = { gate, caches };
  runtimes.set(env, runtime);
  return runtime;
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
      runtime = runtimeFor(env);
    } catch (error) {
      // Bad configuration answers 500 config_invalid to every request, naming the variable.
      if (!(error instanceof ConfigError)) throw error;
      return errorResponse('config_invalid', `Configuration variable ${error.variable} is invalid: ${error.problem}.`);
    }
    if (isGatePath(pathnameOf(request.url))) return runtime.gate(request, ctx);
    runtime.admin ??= import('./admin/face').then(({ createAdminFace }) => createAdminFace(runtime.caches));
    return (await runtime.admin).fetch(request, env, ctx);
  },
} satisfies ExportedHandler<Env>;
