/**
 * `npm start` as a newcomer runs it (scripts/dev.mjs: wrangler dev, local KV, dev credentials,
 * the demo stream), on a free loopback port with its own KV directory, for the Node-side tests.
 */
import { spawn } from 'node:child_process';
import { connect, createServer } from 'node:net';
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
  /** What `npm start` has printed so far on its stdout (a pipe, as with `npm start | tee log`). */
  output(): string;
  /** Until `npm start` has printed `text` (≤ 60 s: a bound for a hung banner, not a speed check). */
  printed(text: string): Promise<void>;
  /**
   * Closes its terminal: SIGHUP to `npm start` itself only (a terminal signals its foreground
   * process group; wrangler runs in a group of its own), then resolves once `npm start` has exited
   * and nothing listens on its port any more (≤ 30 s).
   */
  hangUp(): Promise<{ exitCode: number | null; signal: string | null }>;
  stop(): void;
}

/** Whether something accepts connections on 127.0.0.1:`port`. */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

const until = async (what: string, bound: number, check: () => boolean | Promise<boolean>) => {
  for (const deadline = Date.now() + bound; Date.now() < deadline; ) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${what} within ${bound / 1000} s`);
};

/**
 * Starts `npm start`'s server and waits (≤ 120 s) until /healthz answers. `npm start` builds first
 * (wrangler's [build]), and in CI it starts beside the whole workerd suite on two cores: a bound
 * for a hung start, not a speed check.
 */
export async function startDevServer(scratch: string): Promise<DevServer> {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const dev = spawn(process.execPath, ['scripts/dev.mjs', '--port', String(port), '--persist-to', join(scratch, 'state')], { stdio: ['ignore', 'pipe', 'ignore'], detached: true });
  let out = '';
  dev.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const exited = new Promise<{ exitCode: number | null; signal: string | null }>((resolve) => dev.once('exit', (exitCode, signal) => resolve({ exitCode, signal })));
  const stop = () => {
    try {
      if (dev.pid) process.kill(-dev.pid, 'SIGTERM');
    } catch {
      // already gone
    }
  };
  const server: DevServer = {
    base,
    output: () => out,
    printed: (text) => until(`npm start did not print ${JSON.stringify(text)}`, 60_000, () => out.includes(text)),
    async hangUp() {
      process.kill(dev.pid!, 'SIGHUP');
      const exit = await Promise.race([exited, new Promise<never>((_, reject) => setTimeout(() => reject(new Error('npm start did not exit within 30 s of SIGHUP')), 30_000))]);
      await until(`something still listens on port ${port}`, 30_000, async () => !(await listening(port)));
      return exit;
    },
    stop,
  };
  for (let i = 0; i < 480; i++) {
    try {
      if ((await fetch(`${base}/healthz`)).ok) return server;
    } catch {
      // not up yet
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  stop();
  throw new Error('npm start did not come up within 120 s');
}
