import { cloudflareTest } from '@cloudflare/vitest-pool-workers';
import { defineConfig } from 'vitest/config';
// A real HTTP origin on loopback, started once for the whole run (tests reach it from workerd over
// real sockets). Only Cloudflare's global network (edge cache, request.cf) is not run here.
// @ts-expect-error plain .mjs helper shared with bench/ and scripts/
import { startOrigin } from './test/support/origin-server.mjs';

const origin = await startOrigin({ background: true });

export const TEST_SECRETS = {
  ADMIN_TOKEN_ID: 'test-admin',
  ADMIN_TOKEN_SECRET: 'test-admin-secret-0123456789',
  GRANT_SECRET: 'test-grant-secret-0123456789-abcdefghijklmnop',
};

export default defineConfig({
  test: {
    // Each gate request logs a decision line: show logs of failing tests only.
    silent: 'passed-only',
    projects: [
      {
        // Inside workerd: the worker, its KV and the loopback origin.
        plugins: [
          cloudflareTest({
            wrangler: { configPath: './wrangler.toml' },
            miniflare: {
              bindings: { ...TEST_SECRETS, ORIGIN_URL: origin.url, ORIGIN_TIMEOUT_MS: '3000', DEV_MODE: 'false' },
            },
          }),
        ],
        test: {
          name: 'workers',
          include: ['test/**/*.test.ts'],
          exclude: ['test/e2e/**', 'test/node/**'],
          testTimeout: 20_000,
        },
      },
      {
        // In Node: the CLI, the signing helper, and the browser end to end.
        test: {
          name: 'node',
          include: ['test/node/**/*.test.ts', 'test/e2e/**/*.test.ts'],
          environment: 'node',
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
