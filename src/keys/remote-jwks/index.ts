/**
 * Remote JWKS sources (issue 7, SPEC §6): key sets kept outside signet (an identity provider,
 * another signet, a control plane) whose keys verify playback tokens exactly like local ones.
 * Loaded only when JWKS_URLS is set (src/index.ts imports this module dynamically).
 *
 *   document.ts  what a JWK Set may hold and which of its keys signet trusts (pure)
 *   fetcher.ts   one bounded fetch of one source: timeout, no redirects, size cap, TTL
 *   state.ts     per-source state in the isolate: memory → KV copy → network, cooldown, staleness
 *   errors.ts    the failures, with stable codes
 *
 * JWKS_URLS itself is parsed with the rest of the configuration (config.ts `parseJwksUrls`).
 */
import { configFor, type Env } from '../../config';
import { listKeys } from '../store';
import { RemoteJwksSet, type RemoteJwksDeps, type RemoteJwksOptions } from './state';

export { validateJwks } from './document';
export { RemoteJwksAmbiguousKid, RemoteJwksUnavailable } from './errors';
export { ttlFromCacheControl } from './fetcher';
export { jwksCopyName, RemoteJwksSet, type RemoteJwksDeps, type RemoteJwksOptions } from './state';

const perEnv = new WeakMap<object, RemoteJwksSet>();

/**
 * The isolate's RemoteJwksSet for this env (workerd hands the same env object to every request of
 * an isolate, so memory caches live as long as the isolate), over the sources of its parsed
 * configuration. Throws ConfigError on a bad configuration (a bad JWKS_URLS among others).
 *
 * @example
 * const remote = remoteJwksFor(env);
 * const key = remote.enabled ? await remote.lookup(kid, (p) => ctx.waitUntil(p)) : null;
 */
export function remoteJwksFor(env: Env, deps: Partial<RemoteJwksDeps> = {}, options: Omit<RemoteJwksOptions, 'urls'> = {}): RemoteJwksSet {
  let set = perEnv.get(env);
  if (!set) {
    set = new RemoteJwksSet(
      { urls: configFor(env).jwksUrls, ...options },
      {
        fetch: deps.fetch ?? ((url, init) => fetch(url, init)),
        kv: deps.kv ?? env.KEYS,
        now: deps.now ?? Date.now,
        localKids: deps.localKids ?? (async () => new Set((await listKeys(env.KEYS)).map((key) => key.id))),
      },
    );
    perEnv.set(env, set);
  }
  return set;
}
