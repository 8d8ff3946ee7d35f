/**
 * `npm start` as a newcomer runs it (scripts/dev.mjs: wrangler dev, local KV, dev credentials,
 * the demo stream), on a free loopback port with its own KV directory, for the Node-side tests.
 */
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface DevServer {
  base: string;
  stop(): void;
}

/**
 * Starts `npm start`'s server and waits (≤ 120 s) until /healthz answers. `npm start` builds first
 * (wrangler's [build]), and in CI it starts beside the whole workerd suite on two cores: a bound
 * for a hung start, not a speed check.
 */
export async function startDevServer(scratch: string): Promise<DevServer> {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const dev = spawn(process.execPath, ['scripts/dev.mjs', '--port', String(port), '--persist-to', join(scratch, 'state')], { stdio: 'ignore', detached: true });
  const stop = () => {
    try {
      if (dev.pid) process.kill(-dev.pid, 'SIGTERM');
    } catch {
      // already gone
    }
  };
  for (let i = 0; i < 480; i++) {
    try {
      if ((await fetch(`${base}/healthz`)).ok) return { base, stop };
    } catch {
      // not up yet
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  stop();
  throw new Error('npm start did not come up within 120 s');
}
