// Shared pieces of the bench harness (bench/run.mjs, bench/profile.mjs): the esbuild build of a
// worker, the loopback origin, workers under Miniflare (one workerd process each), workerd CPU
// time from /proc, plain HTTP GETs, key creation through signet's admin API, token signing, an
// autocannon wrapper, statistics and the machine note. Plain ESM, no state of its own.
import { execSync, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { createServer } from 'node:net';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import autocannon from 'autocannon';
import { build } from 'esbuild';
import { importPKCS8, SignJWT } from 'jose';
import { Miniflare } from 'miniflare';
import { buildSignet, workerModules, WORKERD_BUILD } from '../../scripts/build.mjs';

/** The repository this harness lives in. */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const BENCH = join(ROOT, 'bench');

export const PLAYBACK_ID = 'benchasset';
export const ADMIN = { id: 'bench-admin', secret: 'bench-admin-secret-bench-admin-secret' };
export const GRANT_SECRET = 'bench-grant-secret-0123456789-0123456789-abcdef';
export const CONNECTIONS = 10;
export const CLK_TCK = Number(execSync('getconf CLK_TCK').toString().trim()) || 100;
export const COMPATIBILITY = { compatibilityDate: '2026-04-20', compatibilityFlags: ['nodejs_compat'] };

// ---------------------------------------------------------------------------------------------
// Build: signet is built exactly as it deploys (scripts/build.mjs: an entry module and chunks);
// the single-file workers of the bench (baseline, peer, trivial, …) with the same esbuild options.
export { buildSignet, workerModules, WORKERD_BUILD };

/** Bundles one single-file worker entry to `outfile`; `extra` adds or overrides esbuild options. */
export function buildWorker(entry, outfile, extra = {}) {
  return build({ ...WORKERD_BUILD, entryPoints: [entry], outfile, ...extra });
}

// ---------------------------------------------------------------------------------------------
// The origin: test/support/origin-server.mjs in its own node process (not sharing the load
// generator's event loop), loopback only.
export function startOriginProcess(root = ROOT) {
  const child = spawn(
    process.execPath,
    ['--input-type=module', '-e', `import { startOrigin } from ${JSON.stringify(join(root, 'test/support/origin-server.mjs'))};
       const o = await startOrigin({ port: 0, record: false }); console.log(o.url);`],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  return new Promise((done, fail) => {
    child.once('error', fail);
    process.once('exit', () => child.kill('SIGTERM')); // never leave the origin behind
    child.stdout.once('data', (chunk) => done({ url: chunk.toString().trim(), stop: () => child.kill('SIGTERM') }));
  });
}

// ---------------------------------------------------------------------------------------------
// workerd processes and their CPU time
export function workerdPids() {
  const pids = new Set();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (comm.startsWith('workerd') && ppid === process.pid) pids.add(Number(entry));
    } catch {
      // the process went away while we looked
    }
  }
  return pids;
}

/** utime + stime of a process (all its threads), in ms. */
export function cpuMs(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK; // fields 14 and 15 of stat(5)
}

/** A free TCP port on loopback (for the inspector). */
export const freePort = () =>
  new Promise((done) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => done(port));
    });
  });

// ---------------------------------------------------------------------------------------------
/**
 * One worker under its own Miniflare instance (hence its own workerd process, whose CPU time
 * /proc/<pid>/stat gives). `dist` holds `<name>.js` (and `kv-counter.js` for signet and peer);
 * signet is the folder `dist/signet/` that buildSignet() wrote (its modules, as deployed).
 * signet's and the peer's KEYS binding is the counting wrapper (workers/kv-counter.ts): every KV
 * read is reported to `onKvRead(op)` in Node. `inspectorPort` opens workerd's inspector.
 * Returns { name, mf, url, pid, port, readyMs } — readyMs: `new Miniflare()` until `ready`.
 * `findPid: false` skips the /proc scan for the new workerd (cold starts send their first request
 * right after `ready`, with nothing in between); pid is then undefined. `bare: true` serves the
 * script with its vars only: no Durable Object, no KV binding, no wrapper worker. `vars` adds
 * (or overrides) configuration variables (the edge-cache scenario runs signet with EDGE_CACHE=off).
 */
export async function startServer(name, { dist, originUrl, persistDir, onKvRead = () => {}, onSessionAsked = () => {}, inspectorPort, findPid = true, bare = false, vars = {} }) {
  const before = findPid ? workerdPids() : new Set();
  const quiet = (stdout, stderr) => {
    // signet writes one decision-log line per request; it is produced, then dropped — but the lines
    // of limited sessions that asked the viewer's Durable Object are counted (issue 16, scenario h).
    let partial = '';
    stdout.on('data', (chunk) => {
      const lines = (partial + chunk.toString()).split('\n');
      partial = lines.pop();
      const asked = lines.filter((line) => line.includes('"session":"asked"')).length;
      if (asked) onSessionAsked(asked);
    });
    stderr.on('data', (chunk) => {
      const text = chunk.toString();
      if (/error/i.test(text) && !/"event":"gate"/.test(text)) process.stderr.write(`[${name}] ${text}`);
    });
  };
  const common = { modules: true, modulesRoot: dist, ...COMPATIBILITY };
  const bindings =
    name === 'signet'
      ? { ADMIN_TOKEN_ID: ADMIN.id, ADMIN_TOKEN_SECRET: ADMIN.secret, GRANT_SECRET, ORIGIN_URL: originUrl, KEY_CACHE_TTL_SECONDS: '60', ...vars }
      : { ORIGIN_URL: originUrl, KEY_CACHE_TTL_SECONDS: '60', ...vars };
  const script = name === 'signet' ? { modulesRoot: join(dist, 'signet'), modules: workerModules(join(dist, 'signet')) } : { scriptPath: join(dist, `${name}.js`) };
  const workers = [{ ...common, name, ...script, bindings }];
  // signet's admin writes go through its key registry (a Durable Object of the same script).
  if (name === 'signet' && !bare) {
    workers[0].durableObjects = { REGISTRY: { className: 'KeyRegistry', useSQLite: true }, SESSIONS: { className: 'ViewerSessions', useSQLite: true } };
  }
  if ((name === 'signet' || name === 'peer') && !bare) {
    // KEYS = the counting wrapper around the real (persisted) namespace; see workers/kv-counter.ts.
    workers[0].wrappedBindings = { KEYS: 'kv-counter' };
    workers.push({
      modules: true,
      modulesRoot: dist,
      name: 'kv-counter',
      scriptPath: join(dist, 'kv-counter.js'),
      kvNamespaces: { INNER: 'signet-keys' },
      serviceBindings: {
        COUNT: (request) => {
          const url = new URL(request.url);
          onKvRead(`${url.pathname.slice(1)} ${url.searchParams.get('key')}`);
          return new Response(null, { status: 204 });
        },
      },
    });
  }
  const started = process.hrtime.bigint();
  const mf = new Miniflare({ workers, kvPersist: persistDir, cf: false, host: '127.0.0.1', port: 0, handleRuntimeStdio: quiet, ...(inspectorPort && { inspectorPort }) });
  const url = (await mf.ready).href.replace(/\/$/, '');
  const readyMs = Number(process.hrtime.bigint() - started) / 1e6;
  if (!findPid) return { name, mf, url, pid: undefined, port: Number(new URL(url).port), readyMs };
  const pids = [...workerdPids()].filter((pid) => !before.has(pid));
  if (pids.length !== 1) throw new Error(`expected one new workerd process for ${name}, found ${pids.length}`);
  return { name, mf, url, pid: pids[0], port: Number(new URL(url).port), readyMs };
}

// ---------------------------------------------------------------------------------------------
/** A GET with node:http, so time to first byte is the time to the response headers. */
export function get(base, path, headers = {}) {
  return new Promise((done, fail) => {
    const started = process.hrtime.bigint();
    const req = httpRequest(`${base}${path}`, { headers, agent: false }, (res) => {
      const ttfbMs = Number(process.hrtime.bigint() - started) / 1e6;
      const chunks = [];
      res.on('data', (chunk) => chunks.push(chunk));
      res.on('end', () => done({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks), ttfbMs }));
    });
    req.on('error', fail);
    req.end();
  });
}

/** autocannon, CONNECTIONS connections unless told otherwise. */
export function cannon(options) {
  return new Promise((done, fail) => {
    autocannon({ connections: CONNECTIONS, ...options }, (error, result) => (error ? fail(error) : done(result)));
  });
}

// ---------------------------------------------------------------------------------------------
// Keys and tokens: created through signet's admin API, signed with jose.
export async function createSigningKey(signet, algorithm) {
  const basic = Buffer.from(`${ADMIN.id}:${ADMIN.secret}`).toString('base64');
  const res = await fetch(`${signet.url}/v1/iam/signing-keys`, {
    method: 'POST',
    headers: { Authorization: `Basic ${basic}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ algorithm, name: `bench ${algorithm}` }),
  });
  if (res.status !== 201) throw new Error(`signing key creation answered ${res.status}: ${await res.text()}`);
  const { data } = await res.json();
  return { id: data.id, algorithm, pem: Buffer.from(data.privateKey, 'base64').toString('utf8') };
}

/** Copies every `key:` entry (value and metadata) from one server's KV to another's. */
export async function copyKeys(from, to) {
  const source = await from.mf.getKVNamespace('INNER', 'kv-counter');
  const target = await to.mf.getKVNamespace('INNER', 'kv-counter');
  const listing = await source.list({ prefix: 'key:' });
  for (const entry of listing.keys) {
    const { value, metadata } = await source.getWithMetadata(entry.name);
    await target.put(entry.name, value, { metadata });
  }
  return listing.keys.length;
}

export async function signToken(signingKey, claims, header = {}) {
  const key = await importPKCS8(signingKey.pem, signingKey.algorithm);
  const kid = header.kid ?? signingKey.id;
  return new SignJWT({ ...claims, kid }).setProtectedHeader({ alg: signingKey.algorithm, kid, typ: 'JWT' }).setIssuedAt().setExpirationTime('2h').sign(key);
}

/** `count` distinct tokens (one jti each), signed in two worker threads. */
export async function signPool(signingKey, claims, count) {
  const half = Math.ceil(count / 2);
  const batches = await Promise.all(
    [0, 1].map(
      (i) =>
        new Promise((done, fail) => {
          const worker = new Worker(join(BENCH, 'lib/sign-worker.mjs'), {
            workerData: { pem: signingKey.pem, alg: signingKey.algorithm, kid: signingKey.id, claims, from: i * half, count: Math.min(half, count - i * half) },
          });
          worker.once('message', done);
          worker.once('error', fail);
        }),
    ),
  );
  return batches.flat();
}

/** A grant, as a player gets it: from signet's rewritten media playlist. */
export async function grantFromPlaylist(signet, P, videoToken) {
  const playlist = await get(signet.url, `/${P}/v0/index.m3u8?token=${videoToken}`);
  const grant = /seg1\.m4s\?grant=([A-Za-z0-9._-]+)/.exec(playlist.body.toString())?.[1];
  if (playlist.status !== 200 || !grant) throw new Error(`signet's playlist carried no grant (status ${playlist.status})`);
  return grant;
}

// ---------------------------------------------------------------------------------------------
// Statistics and formatting
export const median = (values) => {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (!sorted.length) return NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
export const fmt = (value, digits = 0) => (Number.isFinite(value) ? value.toFixed(digits) : '–');
export const ratio = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? a / b : NaN);

export function machine(root = ROOT) {
  const cpus = os.cpus();
  let workerd = '';
  try {
    workerd = JSON.parse(readFileSync(join(root, 'node_modules/workerd/package.json'), 'utf8')).version;
  } catch {}
  const version = (pkg) => {
    try {
      return JSON.parse(readFileSync(join(root, `node_modules/${pkg}/package.json`), 'utf8')).version;
    } catch {
      return '?';
    }
  };
  return { cpu: cpus[0]?.model ?? '?', cores: cpus.length, memoryGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version, os: `${os.type()} ${os.release()}`, workerd, miniflare: version('miniflare'), autocannon: version('autocannon') };
}

/** The one-line machine note every report starts with. */
export function machineNote(m) {
  return `${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, ${m.os}; Node ${m.node}, workerd ${m.workerd} via Miniflare ${m.miniflare}, autocannon ${m.autocannon}`;
}
