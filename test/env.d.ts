// The worker's bindings, as `env` from 'cloudflare:test' sees them.
import type { Env as SignetEnv } from '../src/config';

declare global {
  namespace Cloudflare {
    interface Env extends SignetEnv {}
  }
}
