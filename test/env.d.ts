// The worker's bindings, as `env` from 'cloudflare:test' sees them.
import type { Env as SignetEnv } from '../src/config';

declare global {
  namespace Cloudflare {
    interface Env extends SignetEnv {
      /** The remote JWKS test source's control endpoints (workers-remote-jwks project only). */
      JWKS_CONTROL_URL?: string;
    }
  }
}
