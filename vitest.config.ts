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

/**
 * A remote JWKS "identity provider" at https://jwks.test. Mocked through miniflare's
 * outboundService because an https endpoint with a certificate workerd trusts cannot run here;
 * tests set its document with PUT and every other request goes on to the real network (loopback).
 */
const remoteJwks: { document: unknown; fetches: number } = { document: { keys: [] }, fetches: 0 };
async function remoteJwksOutbound(request: Request): Promise<Response> {
  const url = new URL(request.url);
  if (url.hostname !== 'jwks.test') {
    const body = request.method === 'GET' || request.method === 'HEAD' ? undefined : await request.arrayBuffer();
    return fetch(request.url, { method: request.method, headers: request.headers, body, redirect: 'manual' });
  }
  if (request.method === 'PUT') {
    remoteJwks.document = await request.json();
    return new Response(null, { status: 204 });
  }
  if (url.pathname === '/__fetches') return Response.json({ fetches: remoteJwks.fetches });
  remoteJwks.fetches += 1;
  return Response.json(remoteJwks.document, { headers: { 'Cache-Control': 'max-age=600' } });
}

const workersTest = (name: string, include: string[], exclude: string[], extraBindings: Record<string, string>, outboundService?: (request: Request) => Promise<Response>) => ({
  plugins: [
    cloudflareTest({
      wrangler: { configPath: './wrangler.toml' },
      miniflare: {
        bindings: { ...TEST_SECRETS, ORIGIN_URL: origin.url, ORIGIN_TIMEOUT_MS: '3000', DEV_MODE: 'false', ...extraBindings },
        ...(outboundService && { outboundService: outboundService as never }),
      },
    }),
  ],
  test: { name, include, exclude, testTimeout: 20_000, setupFiles: ['./test/support/hygiene-setup.ts'] },
});

/** Ends the run with one plain "N passed, N failed, N skipped" line that any CI log reader understands. */
const summaryLine = {
  onTestRunEnd(
    testModules: ReadonlyArray<{ state(): string; errors(): unknown[]; children: { allTests(): Iterable<{ result(): { state: string } }> } }>,
    unhandledErrors: ReadonlyArray<unknown>,
  ) {
    const count = { passed: 0, failed: unhandledErrors.length, skipped: 0 };
    for (const module of testModules) {
      // a failing hook or a file that cannot load fails no single test: count it as a failure
      if (module.errors().length > 0) count.failed += 1;
      for (const test of module.children.allTests()) {
        const state = test.result().state;
        if (state === 'passed') count.passed++;
        else if (state === 'failed') count.failed++;
        else count.skipped++;
      }
    }
    process.stdout.write(`\n${count.passed} passed, ${count.failed} failed, ${count.skipped} skipped\n`);
  },
};

export default defineConfig({
  test: {
    reporters: ['default', summaryLine as never],
    // Each gate request logs a decision line: show logs of failing tests only.
    silent: 'passed-only',
    projects: [
      // Inside workerd: the worker, its KV and the loopback origin.
      workersTest('workers', ['test/**/*.test.ts'], ['test/e2e/**', 'test/node/**', 'test/remote/**'], {}),
      // The same, with JWKS_URLS pointing at the remote identity provider above.
      workersTest('workers-remote-jwks', ['test/remote/**/*.test.ts'], [], { JWKS_URLS: 'https://jwks.test/.well-known/jwks.json' }, remoteJwksOutbound),
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
