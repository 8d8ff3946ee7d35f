/**
 * The real worker for Node-side tests: signet built as wrangler deploys it (scripts/build.mjs: the
 * entry module and its chunks), served by workerd through the Miniflare API on a loopback port, in
 * front of the loopback test origin. Each call gets its own KV (in memory) and its own origin.
 */
import { Miniflare } from 'miniflare';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
// @ts-expect-error plain .mjs helper shared with bench/ and scripts/
import { startOrigin } from '../support/origin-server.mjs';
// @ts-expect-error plain .mjs: the one build of signet (wrangler, the benchmark and these tests use it)
import { buildSignet, workerModules } from '../../scripts/build.mjs';

export const ADMIN = { id: 'cli-admin', secret: 'cli-admin-secret-0123456789' };
const ROOT = resolve(import.meta.dirname, '../..');

export interface RunningWorker {
  url: string;
  /** The loopback test origin behind it (its `/__files` and `/__seen`). */
  originUrl: string;
  stop(): Promise<void>;
}

export async function startWorker(vars: Record<string, string> = {}): Promise<RunningWorker> {
  const dist = mkdtempSync(join(tmpdir(), 'signet-node-worker-'));
  await buildSignet({ outdir: dist, root: ROOT });
  const origin = (await startOrigin({ port: 0 })) as { url: string; close(): Promise<void> };
  const mf = new Miniflare({
    modulesRoot: dist,
    modules: workerModules(dist),
    compatibilityDate: '2026-04-20',
    compatibilityFlags: ['nodejs_compat'],
    kvNamespaces: ['KEYS'],
    // As wrangler.toml binds them: the key registry, and one viewer-sessions object per viewer (issue 16).
    durableObjects: { REGISTRY: { className: 'KeyRegistry', useSQLite: true }, SESSIONS: { className: 'ViewerSessions', useSQLite: true } },
    bindings: {
      ADMIN_TOKEN_ID: ADMIN.id,
      ADMIN_TOKEN_SECRET: ADMIN.secret,
      GRANT_SECRET: 'node-test-grant-secret-0123456789-abcdefghij',
      ORIGIN_URL: origin.url,
      ...vars,
    },
    cf: false,
    host: '127.0.0.1',
    port: 0,
    // The gate logs one decision line per request: drop them, keep errors visible.
    handleRuntimeStdio(stdout: Readable, stderr: Readable) {
      stdout.resume();
      stderr.on('data', (chunk: Buffer) => {
        const text = chunk.toString();
        if (!text.includes('"event"')) process.stderr.write(text);
      });
    },
  });
  const url = (await mf.ready).href.replace(/\/$/, '');
  return {
    url,
    originUrl: origin.url,
    async stop() {
      await mf.dispose();
      await origin.close();
      rmSync(dist, { recursive: true, force: true });
    },
  };
}
