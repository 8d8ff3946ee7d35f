import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { defineConfig } from 'vitest/config';
// A real HTTP origin on loopback, started once for the whole run (tests reach it from workerd over
// real sockets). Only Cloudflare's global network (edge cache, request.cf) is not run here.
// @ts-expect-error plain .mjs helper shared with bench/ and scripts/
import { startOrigin } from './test/support/origin-server.mjs';
// @ts-expect-error plain .mjs helper, like the origin
import { startJwksServer, throwawayCertificate } from './test/support/jwks-https-server.mjs';

const origin = await startOrigin({ background: true });

/**
 * A remote JWKS source (an identity provider) over real TLS on loopback, for the
 * workers-remote-jwks project; tests drive it through its control endpoints (JWKS_CONTROL_URL).
 * Its certificate is made at each run. Miniflare reads NODE_EXTRA_CA_CERTS once, when its module
 * is evaluated (miniflare's core plugin, module scope), and adds those certificates to workerd's
 * trusted roots for outbound fetches. So the variable is set here, and the pool — which imports
 * miniflare — is imported only after it; a static import would be evaluated first.
 */
const jwksTls = throwawayCertificate() as { certPath: string; key: string; cert: string };
const callerCaCerts = process.env.NODE_EXTRA_CA_CERTS;
// Keep whatever roots the caller already trusts (a corporate proxy, say): our file carries them too.
if (callerCaCerts && existsSync(callerCaCerts)) appendFileSync(jwksTls.certPath, `\n${readFileSync(callerCaCerts, 'utf8')}`);
process.env.NODE_EXTRA_CA_CERTS = jwksTls.certPath;
const { cloudflareTest } = await import('@cloudflare/vitest-pool-workers');
// Only workerd trusts the throwaway root: child processes (the CLI, npm start) get the caller's env.
if (callerCaCerts === undefined) delete process.env.NODE_EXTRA_CA_CERTS;
else process.env.NODE_EXTRA_CA_CERTS = callerCaCerts;
const jwksSource = (await startJwksServer({ key: jwksTls.key, cert: jwksTls.cert, background: true })) as { url: string; jwksUrl: string };

export const TEST_SECRETS = {
  ADMIN_TOKEN_ID: 'test-admin',
  ADMIN_TOKEN_SECRET: 'test-admin-secret-0123456789',
  GRANT_SECRET: 'test-grant-secret-0123456789-abcdefghijklmnop',
};

const workersTest = (name: string, include: string[], exclude: string[], extraBindings: Record<string, string>) => ({
  plugins: [
    cloudflareTest({
      // The tests run the source modules (vite transforms them on demand); wrangler.toml's `main` is
      // the built dist/index.js that `wrangler dev` / `deploy` serve, which test/node/ exercises.
      main: './src/index.ts',
      wrangler: { configPath: './wrangler.toml' },
      miniflare: {
        bindings: { ...TEST_SECRETS, ORIGIN_URL: origin.url, ORIGIN_TIMEOUT_MS: '3000', DEV_MODE: 'false', ...extraBindings },
      },
    }),
  ],
  test: { name, include, exclude, testTimeout: 20_000, hookTimeout: 30_000, setupFiles: ['./test/support/hygiene-setup.ts'] },
});

const withSequentialFiles = <P extends { test: object }>(project: P): P => ({ ...project, test: { ...project.test, maxWorkers: 1 } });

/** Ends the run with one plain "N passed, N failed, N skipped" line that any CI log reader understands. */
const summaryLine = {
  onTestRunEnd(
    testModules: ReadonlyArray<{
      state(): string;
      errors(): unknown[];
      children: { allTests(): Iterable<{ result(): { state: string } }>; allSuites(): Iterable<{ errors(): unknown[] }> };
    }>,
    unhandledErrors: ReadonlyArray<unknown>,
  ) {
    const count = { passed: 0, failed: unhandledErrors.length, skipped: 0 };
    for (const module of testModules) {
      // a failing hook or a file that cannot load fails no single test: count it as a failure
      if (module.errors().length > 0) count.failed += 1;
      // a failing beforeAll/afterAll of a describe skips its tests: count the describe as a failure
      for (const suite of module.children.allSuites()) if (suite.errors().length > 0) count.failed += 1;
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
      // The same, with JWKS_URLS pointing at the remote identity provider above. Its files share
      // that one provider (its document and behaviour), so they run one at a time.
      withSequentialFiles(workersTest('workers-remote-jwks', ['test/remote/**/*.test.ts'], [], { JWKS_URLS: jwksSource.jwksUrl, JWKS_CONTROL_URL: jwksSource.url })),
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
