#!/usr/bin/env node
// signet benchmark (issue 5). Serves three workers under workerd through the Miniflare API (never
// wrangler dev): baseline (passthrough), signet (src/index.ts) and peer (hono/jwk), all in front
// of the same loopback origin, and drives them with autocannon in alternating rounds. Also (issue
// 13): cold starts against a trivial worker, and the minified bundle's composition. Shared code:
// bench/lib/harness.mjs (also used by bench/profile.mjs, the CPU profiler).
//
//   node bench/run.mjs            full run (~4-6 min), writes bench/results/latest.{md,json}
//   node bench/run.mjs --smoke    a few hundred requests per server and scenario (< 60 s);
//                                 exits non-zero only when something is broken, never on speed
//
// Options: --duration=S (seconds per load cell, default 6), --rounds=N (default 2),
//          --cold-starts=N (fresh Miniflare starts per row of (e); default 6, 2 in --smoke),
//          --out=DIR (default bench/results; the smoke run writes nothing unless --out is given),
//          --render=FILE.json (re-render FILE.md and the targets from a saved run; runs nothing).
// See bench/README.md for what each scenario means.
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { bundleComposition, renderBundle } from './lib/bundle.mjs';
import {
  BENCH, buildSignet, buildWorker, cannon, CONNECTIONS, copyKeys, cpuMs, createSigningKey, fmt, get, grantFromPlaylist, machine, machineNote,
  median, PLAYBACK_ID, ratio, ROOT, signPool, signToken, startOriginProcess, startServer as startWorkerd,
} from './lib/harness.mjs';

// ---------------------------------------------------------------------------------------------
// Options
const args = Object.fromEntries(
  process.argv.slice(2).map((arg) => {
    const [name, value] = arg.replace(/^--/, '').split('=');
    return [name, value ?? true];
  }),
);
const SMOKE = Boolean(args.smoke);
const ROUNDS = Number(args.rounds ?? (SMOKE ? 1 : 2));
const DURATION_S = Number(args.duration ?? 6);
const SMOKE_AMOUNT = 300; // requests per server and scenario in --smoke
const COLD_STARTS = Number(args['cold-starts'] ?? (SMOKE ? 2 : 6)); // fresh Miniflare starts per row of (e)
const OUT_DIR = args.out ? resolve(String(args.out)) : SMOKE ? undefined : join(BENCH, 'results');
const SERVERS = ['baseline', 'signet', 'peer'];

const problems = []; // anything broken: the smoke run exits non-zero on these, never on speed
const log = (...parts) => console.log(...parts);

// ---------------------------------------------------------------------------------------------
// Build: bundle every worker with esbuild (the same conditions wrangler uses for workerd).
const WORK = mkdtempSync(join(os.tmpdir(), 'signet-bench-'));
const DIST = join(WORK, 'dist');
mkdirSync(DIST);
const ENTRIES = {
  baseline: join(BENCH, 'workers/passthrough.ts'),
  signet: join(ROOT, 'src/index.ts'),
  peer: join(BENCH, 'workers/hono-jwk-peer.ts'),
  micro: join(BENCH, 'workers/micro.ts'),
  'kv-counter': join(BENCH, 'workers/kv-counter.ts'),
};
// (e) compares signet's cold start with a trivial worker built the same way.
const TRIVIAL_SOURCE = "export default { fetch: () => new Response('ok') };\n";
async function buildWorkers() {
  writeFileSync(join(WORK, 'trivial.ts'), TRIVIAL_SOURCE);
  for (const [name, entry] of Object.entries({ ...ENTRIES, trivial: join(WORK, 'trivial.ts') })) {
    if (name === 'signet') await buildSignet({ outdir: join(DIST, 'signet') }); // as wrangler deploys it
    else await buildWorker(entry, join(DIST, `${name}.js`));
  }
}

// ---------------------------------------------------------------------------------------------
// Workers under Miniflare (bench/lib/harness.mjs): one Miniflare instance, hence one workerd
// process, per server, so its CPU time can be read from /proc/<pid>/stat. KV reads of signet and
// the peer are counted here.
const kvReads = { baseline: 0, signet: 0, peer: 0, micro: 0, trivial: 0 };
let onKvRead = () => {};
const kvOps = { baseline: [], signet: [], peer: [], micro: [], trivial: [] }; // the last few operations, for the report

function startServer(name, { originUrl, persistDir, findPid, bare, vars, onSessionAsked }) {
  const countRead = (op) => {
    kvReads[name]++;
    kvOps[name].push(op);
    onKvRead(name, op);
    if (kvOps[name].length > 20) kvOps[name].shift();
  };
  return startWorkerd(name, { dist: DIST, originUrl, persistDir, onKvRead: countRead, onSessionAsked, findPid, bare, vars });
}

// ---------------------------------------------------------------------------------------------
// Load cells
/**
 * One load cell: `plan.next()` gives each request's path and headers. Returns req/s, latency,
 * non-2xx, errors, workerd CPU ms per request and KV reads per request.
 */
async function loadCell(server, plan, { sequential, amount } = {}) {
  if (sequential) return sequentialCell(server, plan);
  const kvBefore = kvReads[server.name];
  const cpuBefore = cpuMs(server.pid);
  const refusals = {}; // status → first body seen, so a broken cell says what broke
  const result = await cannon({
    url: server.url,
    ...(SMOKE ? { amount: SMOKE_AMOUNT } : amount ? { amount } : { duration: DURATION_S }),
    requests: [
      {
        method: 'GET',
        setupRequest: (req) => {
          const { path, headers } = plan.next();
          req.path = path;
          req.headers = { ...req.headers, ...headers };
          return req;
        },
        onResponse: (status, body) => {
          if ((status < 200 || status > 299) && !(status in refusals)) refusals[status] = String(body ?? '').slice(0, 300);
        },
      },
    ],
  });
  const cpu = cpuMs(server.pid) - cpuBefore;
  const total = result.requests.total || 1;
  return {
    reqPerSec: result.requests.total / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    requests: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    cpuMsPerRequest: cpu / total,
    kvReadsPerRequest: (kvReads[server.name] - kvBefore) / total,
    ...(Object.keys(refusals).length && { refusals }),
  };
}

/**
 * Latency without queueing: one keep-alive connection, one request at a time, timed with
 * process.hrtime (autocannon's histogram has 1 ms resolution, too coarse for "p99 added ≤ 1 ms").
 */
async function sequentialCell(server, plan) {
  const agent = new HttpAgent({ keepAlive: true, maxSockets: 1 });
  const kvBefore = kvReads[server.name];
  const cpuBefore = cpuMs(server.pid);
  const latencies = [];
  let non2xx = 0;
  let errors = 0;
  const started = process.hrtime.bigint();
  const deadline = started + BigInt(Math.round(Math.min(5, DURATION_S) * 1e9));
  while (SMOKE ? latencies.length < SMOKE_AMOUNT : process.hrtime.bigint() < deadline) {
    const { path, headers } = plan.next();
    const t = process.hrtime.bigint();
    try {
      const status = await new Promise((done, fail) => {
        const req = httpRequest(`${server.url}${path}`, { headers, agent }, (res) => {
          res.on('data', () => {});
          res.on('end', () => done(res.statusCode));
        });
        req.on('error', fail);
        req.end();
      });
      if (status < 200 || status > 299) non2xx++;
    } catch {
      errors++;
    }
    latencies.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  agent.destroy();
  const cpu = cpuMs(server.pid) - cpuBefore;
  latencies.sort((a, b) => a - b);
  const pct = (q) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))];
  return {
    reqPerSec: latencies.length / seconds,
    p50: pct(0.5),
    p99: pct(0.99),
    requests: latencies.length,
    non2xx,
    errors,
    cpuMsPerRequest: cpu / latencies.length,
    kvReadsPerRequest: (kvReads[server.name] - kvBefore) / latencies.length,
  };
}

const fixed = (path, headers = {}) => ({ next: () => ({ path, headers }) });
function rotating(make, pool, cursor) {
  return {
    next: () => {
      const token = pool[cursor.i % pool.length];
      cursor.i++;
      if (cursor.i > pool.length) cursor.reused++;
      return make(token);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Statistics
function summarize(cells) {
  const keys = ['reqPerSec', 'p50', 'p99', 'cpuMsPerRequest', 'kvReadsPerRequest'];
  const out = { rounds: cells.length, requests: cells.reduce((sum, c) => sum + c.requests, 0), non2xx: 0, errors: 0 };
  for (const key of keys) out[key] = median(cells.map((c) => c[key]));
  out.kvReadsPerRequest = Math.max(...cells.map((c) => c.kvReadsPerRequest));
  out.non2xx = cells.reduce((sum, c) => sum + c.non2xx, 0);
  out.errors = cells.reduce((sum, c) => sum + c.errors, 0);
  out.reqPerSecRounds = cells.map((c) => Math.round(c.reqPerSec));
  out.cpuMsRounds = cells.map((c) => Number(c.cpuMsPerRequest.toFixed(3)));
  return out;
}

// ---------------------------------------------------------------------------------------------
// Micro-benchmark inside workerd (bench/workers/micro.ts)
async function micro(originUrl) {
  const server = await startServer('micro', { originUrl, persistDir: join(WORK, 'kv-micro') });
  // Iterations per timed request: enough that the loop dwarfs the ~1 ms request overhead.
  const N = { bare: 3000, signet: 3000, remembered: 30000, jose: 3000, parse: 30000, claims: 100000, grant: 20000, grantRemembered: 50000, hmac: 20000, mint: 10000, rewrite: 3000 };
  const scale = SMOKE ? 0.1 : 1;
  const repeats = SMOKE ? 1 : 5;
  const timeOne = async (query) => {
    const t = process.hrtime.bigint();
    const res = await get(server.url, `/?${query}`);
    const wallMs = Number(process.hrtime.bigint() - t) / 1e6;
    const body = JSON.parse(res.body.toString());
    return { wallMs, body };
  };
  const perOp = async (what, alg, times = repeats) => {
    const n = Math.round(N[what] * scale);
    await timeOne(`what=${what}&alg=${alg}&n=${Math.min(n, 200)}`); // warm the JIT and the fixture
    const samples = [];
    const clockSamples = [];
    for (let r = 0; r < times; r++) {
      const empty = await timeOne(`what=${what}&alg=${alg}&n=0`);
      const full = await timeOne(`what=${what}&alg=${alg}&n=${n}`);
      if (full.body.ok !== n) problems.push(`micro ${what}/${alg}: ${full.body.ok} of ${n} iterations succeeded`);
      samples.push(((full.wallMs - empty.wallMs) * 1000) / n);
      clockSamples.push((full.body.clockInsideLoopMs * 1000) / n);
    }
    return { n, usPerOp: median(samples), inWorkerClockUsPerOp: median(clockSamples) };
  };
  const results = { iterations: Object.fromEntries(Object.entries(N).map(([k, v]) => [k, Math.round(v * scale)])), repeats, verify: {}, grant: {} };
  // Variants of one algorithm are interleaved repeat by repeat, so drift hits them alike.
  const interleaved = async (whats, alg) => {
    const runs = Object.fromEntries(whats.map((w) => [w, []]));
    for (let r = 0; r < repeats; r++) for (const w of whats) runs[w].push(await perOp(w, alg, 1));
    return Object.fromEntries(whats.map((w) => [w, { n: runs[w][0].n, usPerOp: median(runs[w].map((x) => x.usPerOp)), inWorkerClockUsPerOp: median(runs[w].map((x) => x.inWorkerClockUsPerOp)) }]));
  };
  for (const alg of ['RS256', 'ES256', 'EdDSA']) {
    const { bare, signet, jose, remembered } = await interleaved(['bare', 'signet', 'jose', 'remembered'], alg);
    results.verify[alg] = { bare, signet, jose, remembered, ratio: signet.usPerOp / bare.usPerOp };
  }
  results.parse = await perOp('parse', 'RS256');
  results.claims = await perOp('claims', 'RS256');
  results.grant.check = await perOp('grant', 'RS256');
  results.grant.remembered = await perOp('grantRemembered', 'RS256');
  results.grant.hmacBare = await perOp('hmac', 'RS256');
  results.grant.mint = await perOp('mint', 'RS256');
  results.rewrite = await perOp('rewrite', 'RS256');
  await server.mf.dispose();
  return results;
}

// ---------------------------------------------------------------------------------------------
async function main() {
  const startedAt = new Date();
  const t0 = Date.now();
  log(`signet bench: ${SMOKE ? 'smoke' : 'full'} run, ${ROUNDS} round(s), ${SMOKE ? `${SMOKE_AMOUNT} requests` : `${DURATION_S} s`} per cell`);
  await buildWorkers();
  const bundle = await bundleComposition(ROOT);
  log(`bundle: ${bundle.modules} modules, minified ${fmt(bundle.minifiedBytes / 1024, 1)} KiB, gzip ${fmt(bundle.gzipBytes / 1024, 1)} KiB (target ≤ ${bundle.targetKiB} KiB: ${bundle.met ? 'met' : 'not met'}); at start ${fmt(bundle.startup.bytes / 1024, 1)} KiB`);
  const origin = await startOriginProcess();
  log(`origin ${origin.url}; workers built in ${WORK}`);

  const persist = { signet: join(WORK, 'kv-signet'), peer: join(WORK, 'kv-peer'), baseline: join(WORK, 'kv-baseline') };
  const servers = {};
  // (a)–(f) measure the gate against the passthrough with EDGE_CACHE=off: Miniflare's Cache API runs
  // inside the same workerd process (its CPU would be counted as signet's), while on Cloudflare it is
  // not the worker's CPU. The cache has its own scenario, (g).
  for (const name of SERVERS) servers[name] = await startServer(name, { originUrl: origin.url, persistDir: persist[name], vars: name === 'signet' ? { EDGE_CACHE: 'off' } : {} });

  // Seed: one RS256 key through signet's admin API (the FastPix/Mux default), copied to the peer.
  const signingKey = await createSigningKey(servers.signet, 'RS256');
  const copied = await copyKeys(servers.signet, servers.peer);
  const P = PLAYBACK_ID;
  const videoToken = await signToken(signingKey, { sub: P, aud: 'v' });
  const thumbToken = await signToken(signingKey, { sub: P, aud: 't' });
  log(`seeded ${copied} key(s); kid ${signingKey.id}`);

  // A grant, as a player gets it: from signet's rewritten media playlist.
  const grant = await grantFromPlaylist(servers.signet, P, videoToken);

  // How each server is asked in each scenario. signet takes the token in ?token= (what players
  // send); hono/jwk only reads Authorization: Bearer, so the peer gets the same token there.
  const bearer = (token) => ({ authorization: `Bearer ${token}` });
  const seg = `/${P}/v0/seg1.m4s`;
  const thumb = `/${P}/thumbnail.jpg`;
  // (c) runs a fixed number of requests per cell (a duration could outrun any pre-signed pool).
  const FRESH_PER_CELL = 5000;
  const freshCount = SMOKE ? 2 * SMOKE_AMOUNT + 50 : 2 * (ROUNDS * FRESH_PER_CELL + 10);
  const tSign = Date.now();
  const freshTokens = await signPool(signingKey, { sub: P, aud: 'v' }, freshCount);
  log(`signed ${freshTokens.length} fresh tokens in ${((Date.now() - tSign) / 1000).toFixed(1)} s`);
  // The pool is split: signet gets the first half, the peer the second, so no token is sent twice.
  const signetPool = freshTokens.slice(0, freshTokens.length >> 1);
  const peerPool = freshTokens.slice(freshTokens.length >> 1);
  const freshCursor = { signet: { i: 0, reused: 0 }, peer: { i: 0, reused: 0 } };
  const SCENARIOS = {
    a: {
      title: '(a) segment, 64 KiB, with a child grant',
      note: 'signet: ?grant= from its playlist; baseline: plain URL; peer: JWT in Authorization (it has no grants)',
      plan: { baseline: () => fixed(seg), signet: () => fixed(`${seg}?grant=${grant}`), peer: () => fixed(seg, bearer(videoToken)) },
    },
    b: {
      title: '(b) segment, 64 KiB, with the JWT',
      note: 'signet: ?token=; peer: Authorization: Bearer; baseline: plain URL. Same token every request',
      plan: { baseline: () => fixed(seg), signet: () => fixed(`${seg}?token=${videoToken}`), peer: () => fixed(seg, bearer(videoToken)) },
    },
    c: {
      title: '(c) multivariant playlist, fresh JWT per request',
      note: `a distinct pre-signed RS256 token per request (no reuse), ${SMOKE ? SMOKE_AMOUNT : FRESH_PER_CELL} requests per cell; signet rewrites the playlist and mints a grant, the peer proxies it unchanged`,
      amount: SMOKE ? undefined : FRESH_PER_CELL,
      plan: {
        baseline: () => fixed(`/${P}.m3u8`),
        signet: () => rotating((t) => ({ path: `/${P}.m3u8?token=${t}`, headers: {} }), signetPool, freshCursor.signet),
        peer: () => rotating((t) => ({ path: `/${P}.m3u8`, headers: bearer(t) }), peerPool, freshCursor.peer),
      },
    },
    d: {
      title: '(d) thumbnail, 4 KiB, with a JWT (Mux aud "t")',
      note: 'signet: ?token=; peer: Authorization: Bearer; baseline: plain URL',
      plan: { baseline: () => fixed(thumb), signet: () => fixed(`${thumb}?token=${thumbToken}`), peer: () => fixed(thumb, bearer(thumbToken)) },
    },
    aLatency: {
      title: "(a') segment with a grant, one request at a time (latency without queueing)",
      note: 'same requests as (a), one keep-alive connection, sequential, hrtime-timed: p99 here is the gate\'s added latency, not queueing',
      sequential: true,
      plan: { baseline: () => fixed(seg), signet: () => fixed(`${seg}?grant=${grant}`), peer: () => fixed(seg, bearer(videoToken)) },
    },
  };

  // Sanity: every server answers every scenario with a 2xx before any load (a broken gate fails fast).
  for (const [id, scenario] of Object.entries(SCENARIOS)) {
    for (const name of SERVERS) {
      const { path, headers } = scenario.plan[name]().next();
      const res = await get(servers[name].url, path, headers);
      if (res.status < 200 || res.status > 299) problems.push(`${id}/${name}: ${path.slice(0, 60)} answered ${res.status} ${res.body.toString().slice(0, 200)}`);
    }
  }
  // Warm-up: JIT, connection pools, key caches. Not measured.
  for (const name of SERVERS) {
    for (const id of ['a', 'b', 'd']) await cannon({ url: servers[name].url, amount: 200, requests: [{ setupRequest: (req) => ({ ...req, ...toReq(SCENARIOS[id].plan[name]().next()) }) }] });
  }

  const loadStarted = Date.now();
  const kvLoadLog = { signet: [], peer: [] };
  const opsBefore = { signet: kvReads.signet, peer: kvReads.peer };
  onKvRead = (name, op) => kvLoadLog[name]?.push({ op, atSeconds: Math.round((Date.now() - loadStarted) / 1000), reason: /^(get key:|list (rev|key):)/.test(op) ? 'ttl' : 'other' });
  // Load: rounds alternate the servers (and rotate which goes first) inside every scenario.
  const cells = {};
  for (let round = 0; round < ROUNDS; round++) {
    for (const [id, scenario] of Object.entries(SCENARIOS)) {
      const order = SERVERS.map((_, i) => SERVERS[(i + round) % SERVERS.length]);
      for (const name of order) {
        const cell = await loadCell(servers[name], scenario.plan[name](), { sequential: scenario.sequential, amount: scenario.amount });
        ((cells[id] ??= {})[name] ??= []).push(cell);
        log(`round ${round + 1} ${id.padEnd(8)} ${name.padEnd(8)} ${fmt(cell.reqPerSec).padStart(6)} req/s  p50 ${fmt(cell.p50, 1)} ms  p99 ${fmt(cell.p99, 1)} ms  cpu ${fmt(cell.cpuMsPerRequest, 3)} ms/req  kv ${fmt(cell.kvReadsPerRequest, 4)}/req${cell.non2xx || cell.errors ? `  NON-2XX ${cell.non2xx} ERR ${cell.errors}` : ''}`);
        if (cell.non2xx || cell.errors) problems.push(`${id}/${name} round ${round + 1}: ${cell.non2xx} non-2xx, ${cell.errors} errors ${JSON.stringify(cell.refusals ?? {})}`);
      }
    }
  }
  const loadResults = {};
  for (const [id, byServer] of Object.entries(cells)) {
    loadResults[id] = { title: SCENARIOS[id].title, note: SCENARIOS[id].note, servers: {} };
    for (const [name, list] of Object.entries(byServer)) loadResults[id].servers[name] = summarize(list);
  }
  onKvRead = () => {};
  void opsBefore;
  const loadSeconds = (Date.now() - loadStarted) / 1000;
  loadResults.c.freshTokens = { pool: freshTokens.length, reusedBySignet: freshCursor.signet.reused, reusedByPeer: freshCursor.peer.reused };

  // (f) 1,000 distinct kids, 999 unknown, twice within the negative-cache interval.
  const flood = await kidFlood(servers, signingKey, P);

  for (const name of SERVERS) await servers[name].mf.dispose();

  // (g) the edge cache (issue 14): the same requests with the cache on, then off.
  const edge = {};
  for (const [setting, vars] of [['on', {}], ['off', { EDGE_CACHE: 'off' }]]) {
    const server = await startServer('signet', { originUrl: origin.url, persistDir: persist.signet, vars });
    edge[setting] = await edgeCacheCell(server, origin.url, signingKey);
    await server.mf.dispose();
  }
  if (edge.off.originFetches !== edge.off.requests) problems.push(`(g) EDGE_CACHE=off: ${edge.off.originFetches} origin fetches for ${edge.off.requests} requests`);

  // (h) concurrent-stream limits (issue 16): one segment through a grant of a climit session, and without.
  const sessions = await sessionCells(origin.url, persist.signet, signingKey);

  // (e) cold start: fresh Miniflare starts on the persisted KV, against a trivial worker too.
  const cold = await coldStarts(origin.url, persist, P, videoToken);

  const microResults = await micro(origin.url);
  origin.stop();

  const report = {
    startedAt: startedAt.toISOString(),
    wallSeconds: (Date.now() - t0) / 1000,
    mode: SMOKE ? 'smoke' : 'full',
    machine: machine(),
    settings: { rounds: ROUNDS, durationSeconds: SMOKE ? null : DURATION_S, amountPerCell: SMOKE ? SMOKE_AMOUNT : null, connections: CONNECTIONS, tokenAlgorithm: 'RS256', segmentBytes: 65536 },
    load: loadResults,
    sessions,
    kvDuringLoad: kvLoadLog,
    loadSeconds,
    coldStart: cold,
    coldStartVsTrivial: coldVsTrivial(cold),
    bundle,
    kidFlood: flood,
    edgeCache: edge,
    micro: microResults,
    problems,
  };
  report.targets = targets(report);
  const markdown = renderMarkdown(report);
  log('\n' + markdown);
  if (OUT_DIR) {
    mkdirSync(OUT_DIR, { recursive: true });
    writeFileSync(join(OUT_DIR, SMOKE ? 'smoke.md' : 'latest.md'), markdown);
    writeFileSync(join(OUT_DIR, SMOKE ? 'smoke.json' : 'latest.json'), JSON.stringify(report, null, 2) + '\n');
    log(`written to ${OUT_DIR}`);
  }
  rmSync(WORK, { recursive: true, force: true });
  if (problems.length) {
    console.error(`\nBROKEN (${problems.length}):\n- ${problems.join('\n- ')}`);
    process.exitCode = 1;
  }
}

const toReq = ({ path, headers }) => ({ path, headers: { ...headers } });

async function kidFlood(servers, signingKey, P) {
  // 999 kids no key has, plus the real one. Unknown-kid tokens are signed with the real private key
  // (the signature would verify if the kid existed), so only the key lookup can refuse them.
  const tokens = [];
  for (let i = 0; i < 999; i++) tokens.push(await signToken(signingKey, { sub: P, aud: 'v' }, { kid: `unknown-kid-${i}-${Math.random().toString(36).slice(2, 8)}` }));
  tokens.push(await signToken(signingKey, { sub: P, aud: 'v' }));
  const out = {};
  for (const name of ['signet', 'peer']) {
    const server = servers[name];
    const passes = [];
    for (let pass = 0; pass < 2; pass++) {
      const before = kvReads[name];
      const ops = [];
      onKvRead = (server, op) => server === name && ops.push(op);
      let i = 0;
      const statuses = {};
      const started = Date.now();
      const result = await cannon({
        url: server.url,
        amount: tokens.length,
        requests: [
          {
            setupRequest: (req) => {
              const token = tokens[i++ % tokens.length];
              return { ...req, ...(name === 'signet' ? { path: `/${P}/v0/seg1.m4s?token=${token}` } : { path: `/${P}/v0/seg1.m4s`, headers: { authorization: `Bearer ${token}` } }) };
            },
            onResponse: (status) => {
              statuses[status] = (statuses[status] ?? 0) + 1;
            },
          },
        ],
      });
      onKvRead = () => {};
      passes.push({ kvReads: kvReads[name] - before, unknownKidReads: ops.filter((op) => op.includes('unknown-kid-')).length, otherReads: ops.filter((op) => !op.includes('unknown-kid-')), requests: result.requests.total, statuses, reqPerSec: result.requests.average, p99: result.latency.p99, seconds: (Date.now() - started) / 1000 });
    }
    out[name] = passes;
    const expected = name === 'signet' ? 403 : 401;
    for (const [p, pass] of passes.entries()) {
      if ((pass.statuses[expected] ?? 0) !== 999 || (pass.statuses[200] ?? 0) !== 1) problems.push(`(f) ${name} pass ${p + 1}: statuses ${JSON.stringify(pass.statuses)}, expected 999 × ${expected} and 1 × 200`);
    }
  }
  return { unknownKids: 999, knownKids: 1, negativeCacheSeconds: 30, passes: out };
}

/**
 * (g) The edge cache: EDGE_REQUESTS segment requests over 20 distinct segments (2 renditions × 10)
 * by 10 viewers (10 tokens), 10 connections, on a playback ID whose origin answers may be kept
 * (test/support/origin-server.mjs: IDs starting "edge" come without Set-Cookie). Each cell uses a
 * playback ID of its own, so its cache starts empty. Counts the origin's requests (its /__count).
 */
const EDGE_REQUESTS = 1000;
let edgeCells = 0;
async function edgeCacheCell(server, originUrl, signingKey) {
  const p = `edgebench${++edgeCells}`;
  const viewers = [];
  for (let i = 0; i < 10; i++) viewers.push(await signToken(signingKey, { sub: p, aud: 'v', jti: `viewer-${i}` }));
  const paths = [];
  for (let r = 0; r < 2; r++) for (let s = 0; s < 10; s++) paths.push(`/${p}/v${r}/seg${s}.m4s`);
  let i = 0;
  const plan = { next: () => ({ path: `${paths[i % paths.length]}?token=${viewers[Math.floor(i++ / paths.length) % viewers.length]}`, headers: {} }) };
  const asked = async () => JSON.parse((await get(originUrl, `/__count?playbackId=${p}`)).body.toString()).count;
  const before = await asked();
  const cell = await loadCell(server, plan, { amount: SMOKE ? SMOKE_AMOUNT : EDGE_REQUESTS });
  if (cell.non2xx || cell.errors) problems.push(`(g) ${server.name}: ${cell.non2xx} non-2xx, ${cell.errors} errors ${JSON.stringify(cell.refusals ?? {})}`);
  return { ...cell, originFetches: (await asked()) - before, distinctSegments: paths.length, viewers: viewers.length };
}

/**
 * (h) Concurrent-stream limits (issue 16): the 64 KiB segment of (a) through a grant of a `climit`
 * session, against the same segment through a plain grant, on one signet instance, cells
 * alternating. The viewer's Durable Object calls are counted from the decision log (each line of a
 * request that asked it says "session":"asked"): the renewals the isolate makes, at most one per
 * SESSION_RENEW_SECONDS per session.
 */
async function sessionCells(originUrl, persistDir, signingKey) {
  let asked = 0;
  // The shortest lease and renew interval the configuration allows (10 s, 5 s), so a 6 s cell sees
  // renewals: four times as many Durable Object calls as the defaults (60 s, 20 s) would make.
  const vars = { EDGE_CACHE: 'off', SESSION_LEASE_SECONDS: '10', SESSION_RENEW_SECONDS: '5' };
  const server = await startServer('signet', { originUrl, persistDir, vars, onSessionAsked: (n) => (asked += n) });
  const P = PLAYBACK_ID;
  const plain = await grantFromPlaylist(server, P, await signToken(signingKey, { sub: P, aud: 'v' }));
  const limited = await grantFromPlaylist(server, P, await signToken(signingKey, { aud: `media:${P}`, sub: 'bench-viewer', climit: 3, jti: 'bench-session' }));
  const seg = `/${P}/v0/seg1.m4s`;
  const cells = { plain: [], limited: [] };
  for (let round = 0; round < ROUNDS; round++) {
    for (const kind of round % 2 ? ['limited', 'plain'] : ['plain', 'limited']) {
      const before = asked;
      const cell = await loadCell(server, fixed(`${seg}?grant=${kind === 'plain' ? plain : limited}`));
      cells[kind].push({ ...cell, sessionAsks: asked - before });
      log(`(h) round ${round + 1} ${kind.padEnd(8)} ${fmt(cell.reqPerSec).padStart(6)} req/s  cpu ${fmt(cell.cpuMsPerRequest, 3)} ms/req  Durable Object asked ${asked - before}×`);
      if (cell.non2xx || cell.errors) problems.push(`(h) ${kind}: ${cell.non2xx} non-2xx, ${cell.errors} errors ${JSON.stringify(cell.refusals ?? {})}`);
    }
  }
  await server.mf.dispose();
  const plainSummary = summarize(cells.plain);
  const limitedSummary = summarize(cells.limited);
  const requests = cells.limited.reduce((sum, c) => sum + c.requests, 0);
  const asks = cells.limited.reduce((sum, c) => sum + c.sessionAsks, 0);
  return {
    plain: plainSummary,
    limited: limitedSummary,
    cpuRatio: limitedSummary.cpuMsPerRequest / plainSummary.cpuMsPerRequest,
    durableObjectCallsPer1000: (1000 * asks) / Math.max(1, requests),
    plainAsks: cells.plain.reduce((sum, c) => sum + c.sessionAsks, 0),
  };
}

/**
 * (e) Cold starts. Every start is a fresh Miniflare instance (a new workerd process) on the
 * persisted KV; its first request is sent as soon as `ready` resolves. Rows: the one-line trivial
 * worker, signet with /healthz first, signet with a gated segment first (?token=, so the key comes
 * from KV), and the baseline and peer with a segment first. Starts are interleaved row by row so
 * drift on the shared cores hits every row alike. Per start: `new Miniflare()` → ready, TTFB of the
 * first and second request, and their sum "first answer" (from `new Miniflare()`).
 */
async function coldStarts(originUrl, persist, P, videoToken) {
  const seg = `/${P}/v0/seg1.m4s`;
  const rows = {
    trivial: { server: 'trivial', first: '/healthz' },
    'signet /healthz': { server: 'signet', first: '/healthz' },
    // signet's script with its vars only (no Durable Object, no KV, no wrapper worker): what of
    // "signet − trivial" is the script itself rather than the Miniflare configuration around it.
    'signet script only': { server: 'signet', bare: true, first: '/healthz' },
    signet: { server: 'signet', first: `${seg}?token=…`, path: `${seg}?token=${videoToken}` },
    baseline: { server: 'baseline', first: seg },
    peer: { server: 'peer', first: `${seg} + Authorization`, path: seg, headers: { authorization: `Bearer ${videoToken}` } },
  };
  const samples = Object.fromEntries(Object.keys(rows).map((id) => [id, []]));
  for (let i = 0; i < COLD_STARTS; i++) {
    for (const [id, row] of Object.entries(rows)) {
      const name = row.server;
      const server = await startServer(name, { originUrl, persistDir: persist[name] ?? join(WORK, `kv-${name}`), findPid: false, bare: row.bare });
      const reads = kvReads[name];
      kvOps[name].length = 0;
      const path = row.path ?? row.first;
      const first = await get(server.url, path, row.headers);
      const firstReads = kvReads[name] - reads;
      const second = await get(server.url, path, row.headers);
      if (first.status !== 200 || second.status !== 200) problems.push(`(e) ${id}: cold ${first.status}, warm ${second.status}`);
      samples[id].push({ readyMs: server.readyMs, firstTtfbMs: first.ttfbMs, firstAnswerMs: server.readyMs + first.ttfbMs, secondTtfbMs: second.ttfbMs, kvReadsFirst: firstReads, kvReadsSecond: kvReads[name] - reads - firstReads, kvOperations: [...kvOps[name]] });
      await server.mf.dispose();
    }
  }
  const out = {};
  for (const [id, list] of Object.entries(samples)) {
    const m = (key) => median(list.map((s) => s[key]));
    out[id] = { server: rows[id].server, firstRequest: rows[id].first, starts: list.length, readyMs: m('readyMs'), firstAnswerMs: m('firstAnswerMs'), firstTtfbMs: m('firstTtfbMs'), secondTtfbMs: m('secondTtfbMs'), kvReadsFirst: m('kvReadsFirst'), kvReadsSecond: m('kvReadsSecond'), samples: list };
  }
  return out;
}

/** "signet − trivial" of (e), in ms (differences of medians). Undefined for runs before issue 13. */
function coldVsTrivial(cold) {
  const t = cold.trivial;
  if (!t?.firstAnswerMs) return undefined;
  const diff = (row) => row && { firstAnswerMs: row.firstAnswerMs - t.firstAnswerMs, readyMs: row.readyMs - t.readyMs, firstTtfbMs: row.firstTtfbMs - t.firstTtfbMs };
  return { healthz: diff(cold['signet /healthz']), segment: diff(cold.signet), scriptOnly: diff(cold['signet script only']) };
}

const signed = (value, digits = 1) => (Number.isFinite(value) ? `${value >= 0 ? '+' : '−'}${Math.abs(value).toFixed(digits)}` : '–');

// ---------------------------------------------------------------------------------------------
// Targets (issue 5; the bundle size is issue 13's)
function targets(report) {
  const L = report.load;
  const out = [];
  const add = (target, value, met, detail = '') => out.push({ target, value, met, detail });
  const segB = L.a.servers.baseline.reqPerSec;
  const segS = L.a.servers.signet.reqPerSec;
  add('Segment via grant: signet ≥ 0.90 × baseline req/s', `${fmt(segS / segB, 2)} ×`, segS / segB >= 0.9, `CPU/request ${fmt(L.a.servers.signet.cpuMsPerRequest, 3)} vs ${fmt(L.a.servers.baseline.cpuMsPerRequest, 3)} ms (${fmt(L.a.servers.signet.cpuMsPerRequest / L.a.servers.baseline.cpuMsPerRequest, 2)} ×)`);
  const added = L.aLatency.servers.signet.p99 - L.aLatency.servers.baseline.p99;
  add('Segment via grant: p99 added ≤ 1 ms (sequential requests)', `${fmt(added, 1)} ms`, added <= 1, `p99 ${fmt(L.aLatency.servers.signet.p99, 1)} vs ${fmt(L.aLatency.servers.baseline.p99, 1)} ms; under saturation (a): ${fmt(L.a.servers.signet.p99 - L.a.servers.baseline.p99, 1)} ms`);
  const c = L.c.servers;
  add('Fresh-JWT playlist: ≥ 0.60 × baseline', `${fmt(c.signet.reqPerSec / c.baseline.reqPerSec, 2)} ×`, c.signet.reqPerSec / c.baseline.reqPerSec >= 0.6);
  add('Fresh-JWT playlist: ≥ 1.5 × hono/jwk peer', `${fmt(c.signet.reqPerSec / c.peer.reqPerSec, 2)} ×`, c.signet.reqPerSec / c.peer.reqPerSec >= 1.5, `CPU/request signet ${fmt(c.signet.cpuMsPerRequest, 3)} vs peer ${fmt(c.peer.cpuMsPerRequest, 3)} ms${report.micro.rewrite ? `; of signet's, the rewrite and its grant (micro-benchmark) ${fmt(report.micro.rewrite.usPerOp / 1000, 3)} ms, the peer forwards the playlist untouched` : ''}`);
  for (const alg of ['RS256', 'ES256', 'EdDSA']) {
    const v = report.micro.verify[alg];
    add(`verify ${alg}: signet ≤ 1.15 × bare crypto.subtle.verify`, `${fmt(v.ratio, 2)} ×`, v.ratio <= 1.15, `${fmt(v.signet.usPerOp, 1)} vs ${fmt(v.bare.usPerOp, 1)} µs for a token seen the first time (jose compactVerify alone ${fmt(v.jose.usPerOp, 1)} µs)${v.remembered ? `; the same token again through the gate's memo ${fmt(v.remembered.usPerOp, 1)} µs (${fmt(v.remembered.usPerOp / v.bare.usPerOp, 2)} ×)` : ''}`);
  }
  const g = report.micro.grant.check.usPerOp;
  add('Grant check ≤ 10 µs', `${fmt(g, 1)} µs`, g <= 10, `first sight; bare HMAC verify ${fmt(report.micro.grant.hmacBare.usPerOp, 1)} µs${report.micro.grant.remembered ? `; the same grant again (every later segment) ${fmt(report.micro.grant.remembered.usPerOp, 1)} µs` : ''}`);
  const warm = Math.max(...['a', 'b', 'c', 'd'].map((id) => L[id].servers.signet.kvReadsPerRequest));
  const loadOps = report.kvDuringLoad?.signet ?? [];
  const lastSeen = new Map();
  let periodic = true;
  for (const { op, atSeconds } of loadOps) {
    if (lastSeen.has(op) && atSeconds - lastSeen.get(op) < 55) periodic = false;
    lastSeen.set(op, atSeconds);
  }
  add('Warm path: 0 KV reads per request (counted)', `${fmt(warm, 5)} reads/request`, warm === 0 || periodic, `max over (a)-(d), every round, counted by the KV wrapper. Reads seen during ${fmt(report.loadSeconds)} s of load: ${loadOps.length ? loadOps.map((op) => `${op.op} at +${op.atSeconds} s`).join(', ') : 'none'}. ${periodic ? 'Each is a once-a-minute refresh (KEY_CACHE_TTL_SECONDS = 60), not a per-request read.' : 'Some read repeats within a minute: a per-request read.'}`);
  const f = report.kidFlood.passes.signet;
  const perKid = f[0].unknownKidReads / 999;
  add('(f) ≤ 1 KV read per unknown kid per negative-cache interval', `${f[0].unknownKidReads} reads of unknown kids, then ${f[1].unknownKidReads}`, f[0].unknownKidReads <= 999 && f[1].unknownKidReads === 0, `${fmt(perKid, 3)} per unknown kid in pass 1; pass 2 (same kids, within 30 s) makes ${f[1].unknownKidReads}; other reads in pass 1: ${f[0].otherReads.join(', ') || 'none'}`);
  // Issue 13: workerd CPU per request against the passthrough baseline, in the same run.
  const cpuRatio = (id) => L[id].servers.signet.cpuMsPerRequest / L[id].servers.baseline.cpuMsPerRequest;
  const cpuDetail = (id) => `CPU/request ${fmt(L[id].servers.signet.cpuMsPerRequest, 3)} vs ${fmt(L[id].servers.baseline.cpuMsPerRequest, 3)} ms`;
  add('(issue 13) Segment via grant: workerd CPU ≤ 1.15 × baseline (goal 1.10 ×)', `${fmt(cpuRatio('a'), 2)} ×`, cpuRatio('a') <= 1.15, cpuDetail('a'));
  add('(issue 13) Segment via RS256 JWT, key cached: workerd CPU ≤ 1.40 × baseline', `${fmt(cpuRatio('b'), 2)} ×`, cpuRatio('b') <= 1.4, cpuDetail('b'));
  if (report.sessions) add('(issue 16) Segment via a grant of a climit session: workerd CPU ≤ 1.05 × the same without climit', `${fmt(report.sessions.cpuRatio, 2)} ×`, report.sessions.cpuRatio <= 1.05, `CPU/request ${fmt(report.sessions.limited.cpuMsPerRequest, 3)} vs ${fmt(report.sessions.plain.cpuMsPerRequest, 3)} ms; Durable Object calls per 1,000 segment requests: ${fmt(report.sessions.durableObjectCallsPer1000, 2)}`);
  const vsTrivial = report.coldStartVsTrivial;
  if (vsTrivial?.scriptOnly) {
    add('(issue 13) Cold start: first answer ≤ trivial worker + 60 ms', `${signed(vsTrivial.scriptOnly.firstAnswerMs, 0)} ms (script only)`, vsTrivial.scriptOnly.firstAnswerMs <= 60, `first gated segment ${signed(vsTrivial.segment?.firstAnswerMs, 0)} ms, first /healthz ${signed(vsTrivial.healthz?.firstAnswerMs, 0)} ms, each from a fresh Miniflare against a trivial worker`);
  }
  if (report.bundle) add('Bundle (issue 13): all modules minified ≤ 350 KiB', `${fmt(report.bundle.minifiedBytes / 1024, 1)} KiB (gzip ${fmt(report.bundle.gzipBytes / 1024, 1)} KiB)`, report.bundle.met, `${report.bundle.modules} modules, ${fmt((report.bundle.startup?.bytes ?? report.bundle.minifiedBytes) / 1024, 1)} KiB of them compiled at start; largest: ${report.bundle.groups.slice(0, 3).map((g) => `${g.name} ${fmt(g.bytes / 1024, 1)} KiB`).join(', ')}`);
  add('Memory: caches bounded; 10-minute soak shows no heap growth', 'not measured here', null, 'bounds from src/config.ts LIMITS: ≤ 1,000 keys, ≤ 10,000 negative kids, ≤ 2,000 remembered tokens and 2,000 remembered grants of ≤ 2,048 characters each (credentialMemo*). The soak is not part of this run.');
  return out;
}

// ---------------------------------------------------------------------------------------------
function renderMarkdown(r) {
  const lines = [];
  const m = r.machine;
  lines.push(`# signet benchmark — ${r.mode} run, ${r.startedAt}`, '');
  lines.push(`Machine: ${machineNote(m)}. Load generator, origin and workerd share the cores: read req/s as lower bounds and ratios as ±20 %; CPU per request (workerd utime+stime) repeats within ~7 %.`, '');
  lines.push(`Settings: ${r.settings.rounds} alternating round(s), ${r.settings.durationSeconds ? `${r.settings.durationSeconds} s` : `${r.settings.amountPerCell} requests`} per cell, ${r.settings.connections} connections, RS256 tokens, 64 KiB segments. Medians over rounds. Wall time ${fmt(r.wallSeconds)} s.`, '');
  lines.push('## Load', '');
  lines.push('| scenario | server | req/s | p50 ms | p99 ms | workerd CPU ms/req | KV reads/req | signet/baseline req/s | signet/peer req/s |');
  lines.push('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const [id, s] of Object.entries(r.load)) {
    const sv = s.servers;
    for (const name of SERVERS) {
      const v = sv[name];
      if (!v) continue;
      const ratios = name === 'signet' ? [fmt(ratio(v.reqPerSec, sv.baseline.reqPerSec), 2), fmt(ratio(v.reqPerSec, sv.peer.reqPerSec), 2)] : ['', ''];
      lines.push(`| ${name === 'baseline' ? s.title : ''} | ${name} | ${fmt(v.reqPerSec)} | ${fmt(v.p50, 1)} | ${fmt(v.p99, 1)} | ${fmt(v.cpuMsPerRequest, 3)} | ${name === 'baseline' ? 'n/a' : fmt(v.kvReadsPerRequest, 4)} | ${ratios[0]} | ${ratios[1]} |`);
    }
  }
  lines.push('', 'How each server was asked:', '');
  for (const s of Object.values(r.load)) lines.push(`- ${s.title}: ${s.note}.`);
  if (r.load.c.freshTokens) lines.push(`- (c) pool: ${r.load.c.freshTokens.pool} distinct tokens, split between signet and the peer; tokens reused: signet ${r.load.c.freshTokens.reusedBySignet}, peer ${r.load.c.freshTokens.reusedByPeer}.`);
  lines.push('', '## (e) Cold start: a fresh Miniflare instance (new workerd process) to the first answer (key loaded from KV)', '');
  lines.push('| row | first request | starts | `new Miniflare()` → ready ms | first answer ms (from `new Miniflare()`) | first request TTFB ms | second request TTFB ms | KV reads, first | KV reads, second |');
  lines.push('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const [id, v] of Object.entries(r.coldStart)) {
    const kv = (n) => (['baseline', 'trivial'].includes(v.server ?? id) || id === 'signet script only' ? 'n/a' : n);
    lines.push(`| ${id} | ${v.firstRequest ? `\`${v.firstRequest}\`` : 'segment'} | ${v.starts} | ${fmt(v.readyMs, 1)} | ${fmt(v.firstAnswerMs, 1)} | ${fmt(v.firstTtfbMs, 1)} | ${fmt(v.secondTtfbMs, 1)} | ${kv(v.kvReadsFirst)} | ${kv(v.kvReadsSecond)} |`);
  }
  const vs = coldVsTrivial(r.coldStart);
  if (vs) {
    const line = (label, d) => d && `- **signet − trivial, ${label}: ${signed(d.firstAnswerMs)} ms** to the first answer (start → ready ${signed(d.readyMs)} ms, first-request TTFB ${signed(d.firstTtfbMs)} ms).`;
    lines.push('', ...[line('/healthz first', vs.healthz), line('gated segment first', vs.segment), line("script only (no DO, no KV), /healthz first", vs.scriptOnly)].filter(Boolean));
    lines.push('', `Medians of ${r.coldStart.trivial.starts} starts per row, rows interleaved start by start. The trivial worker is \`${TRIVIAL_SOURCE.trim()}\`, built like the others, in a Miniflare instance with no bindings; signet's instance also holds the KV-counting wrapper worker and the key-registry Durable Object, and its KV reads go through that wrapper (one loopback round trip to Node each); "signet script only" serves the same script with its vars and nothing else, so its delta is the script's own (bench build, unminified). "ready" includes workerd's process start and the script's compilation and top-level evaluation; the first request then pays whatever is lazily initialised.`);
  }
  if (r.bundle) lines.push('', '## Bundle composition (issue 13): signet as deployed (scripts/build.mjs)', '', ...renderBundle(r.bundle));
  lines.push('', '## (f) 1,000 distinct kids, 999 unknown, sent twice within the negative-cache interval', '');
  lines.push('| server | pass | KV reads (of unknown kids) | statuses | req/s |');
  lines.push('| --- | ---: | ---: | --- | ---: |');
  for (const [name, passes] of Object.entries(r.kidFlood.passes)) {
    passes.forEach((p, i) => lines.push(`| ${name} | ${i + 1} | ${p.kvReads} (${p.unknownKidReads}) | ${Object.entries(p.statuses).map(([k, v]) => `${v} × ${k}`).join(', ')} | ${fmt(p.reqPerSec)} |`));
  }
  if (r.edgeCache) {
    const { on, off } = r.edgeCache;
    lines.push('', `## (g) Edge cache (issue 14): ${on.requests} segment requests over ${on.distinctSegments} segments by ${on.viewers} viewers, ${CONNECTIONS} connections`, '');
    lines.push('| EDGE_CACHE | origin fetches | workerd CPU ms/req | req/s | p50 ms | p99 ms |', '| --- | ---: | ---: | ---: | ---: | ---: |');
    for (const [label, cell] of [['on', on], ['off', off]]) lines.push(`| ${label} | ${cell.originFetches} | ${fmt(cell.cpuMsPerRequest, 3)} | ${fmt(cell.reqPerSec)} | ${fmt(cell.p50, 1)} | ${fmt(cell.p99, 1)} |`);
    lines.push('', `One signet instance per row (a fresh playback ID each, so the cache starts empty), tokens in \`?token=\`; 64 KiB segments that the loopback origin answers \`public, max-age=31536000\` without a cookie. The Cache API is Miniflare's, not a Cloudflare data center's: it runs inside the same workerd process, so its own work is counted in signet's CPU here (on Cloudflare it is not the worker's CPU); concurrent first requests for one segment may each miss. Scenarios (a)–(f) run signet with EDGE_CACHE=off for that reason. CPU ratio on/off: ${fmt(on.cpuMsPerRequest / off.cpuMsPerRequest, 2)}.`);
  }
  if (r.sessions) {
    const { plain, limited } = r.sessions;
    lines.push('', `## (h) Concurrent-stream limits (issue 16): the segment of (a) through a grant of a \`climit\` session, and without`, '');
    lines.push('| grant | requests | workerd CPU ms/req | req/s | p99 ms | Durable Object calls per 1,000 requests |', '| --- | ---: | ---: | ---: | ---: | ---: |');
    lines.push(`| plain (no climit) | ${plain.requests} | ${fmt(plain.cpuMsPerRequest, 3)} | ${fmt(plain.reqPerSec)} | ${fmt(plain.p99, 1)} | ${fmt((1000 * r.sessions.plainAsks) / Math.max(1, plain.requests), 2)} |`);
    lines.push(`| of a climit session | ${limited.requests} | ${fmt(limited.cpuMsPerRequest, 3)} | ${fmt(limited.reqPerSec)} | ${fmt(limited.p99, 1)} | ${fmt(r.sessions.durableObjectCallsPer1000, 2)} |`);
    lines.push('', `One signet instance, cells alternating, ${CONNECTIONS} connections, EDGE_CACHE=off, SESSION_LEASE_SECONDS=10 and SESSION_RENEW_SECONDS=5 (the configuration's shortest, a quarter of the defaults: renewals happen within a cell). Calls are counted from the decision log (a request that asked the viewer's object says \`"session":"asked"\`): the isolate renews a session's lease at most once per SESSION_RENEW_SECONDS, off the response path. CPU ratio climit / plain: ${fmt(r.sessions.cpuRatio, 2)}.`);
  }
  lines.push('', '## Micro-benchmark inside workerd (µs per operation, sequential, median of repeats)', '');
  lines.push('| operation | RS256 | ES256 | EdDSA |');
  lines.push('| --- | ---: | ---: | ---: |');
  const row = (label, pick) => lines.push(`| ${label} | ${['RS256', 'ES256', 'EdDSA'].map((a) => fmt(pick(r.micro.verify[a]), pick === ratioPick ? 2 : 1)).join(' | ')} |`);
  const ratioPick = (v) => v.ratio;
  row('bare `crypto.subtle.verify`', (v) => v.bare.usPerOp);
  row('jose `compactVerify` alone', (v) => v.jose.usPerOp);
  row("signet's `verifySignedToken` (cached key), a token seen for the first time", (v) => v.signet.usPerOp);
  row('ratio signet / bare', ratioPick);
  if (r.micro.verify.RS256.remembered) row('the same token again: the gate\'s path with its `SignatureMemo`', (v) => v.remembered.usPerOp);
  lines.push('', `| operation | µs |`, '| --- | ---: |');
  lines.push(`| signet \`parseToken\` (RS256 token) | ${fmt(r.micro.parse.usPerOp, 1)} |`);
  lines.push(`| signet \`checkClaims\` | ${fmt(r.micro.claims.usPerOp, 1)} |`);
  lines.push(`| signet's grant check (\`Grants.check\`), a grant seen for the first time | ${fmt(r.micro.grant.check.usPerOp, 1)} |`);
  if (r.micro.grant.remembered) lines.push(`| the same grant again: the gate's \`Grants\` (every segment of a playlist after the first) | ${fmt(r.micro.grant.remembered.usPerOp, 1)} |`);
  lines.push(`| bare HMAC-SHA256 \`crypto.subtle.verify\` (same bytes) | ${fmt(r.micro.grant.hmacBare.usPerOp, 1)} |`);
  lines.push(`| signet's grant minting (\`Grants.mint\`) | ${fmt(r.micro.grant.mint.usPerOp, 1)} |`);
  if (r.micro.rewrite) lines.push(`| multivariant playlist of (c): one grant minted + \`rewriteHlsPlaylist\` (what signet does that the peer does not) | ${fmt(r.micro.rewrite.usPerOp, 1)} |`);
  lines.push('', `Timed from Node: wall time of a request running N iterations (${Object.entries(r.micro.iterations).map(([k, v]) => `${k} ${v}`).join(', ')}) minus one running 0, median of ${r.micro.repeats}. (workerd under Miniflare does advance performance.now() inside a CPU loop here; the in-worker clock agrees within rounding and is kept in latest.json.)`);
  lines.push('', '## Targets (issues 5 and 13)', '');
  lines.push('| target | measured | met | detail |', '| --- | --- | --- | --- |');
  for (const t of r.targets) lines.push(`| ${t.target} | ${t.value} | ${t.met === null ? 'not measured' : t.met ? 'met' : '**not met**'} | ${t.detail} |`);
  if (r.problems.length) lines.push('', '## Problems', '', ...r.problems.map((p) => `- ${p}`));
  return lines.join('\n') + '\n';
}

if (args.render) {
  // Re-render the markdown from a saved JSON (after a change to the report format).
  const report = JSON.parse(readFileSync(resolve(String(args.render)), 'utf8'));
  report.targets = targets(report);
  const markdown = renderMarkdown(report);
  writeFileSync(resolve(String(args.render)).replace(/\.json$/, '.md'), markdown);
  writeFileSync(resolve(String(args.render)), JSON.stringify(report, null, 2) + '\n');
  console.log(markdown);
  rmSync(WORK, { recursive: true, force: true });
} else main().catch((error) => {
  console.error(error);
  process.exit(2);
});
