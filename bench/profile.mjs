#!/usr/bin/env node
// CPU profile of signet under load (issue 13): where the gate's CPU goes, per function.
//
//   node bench/profile.mjs --scenario=grant,jwt --out=/tmp/prof            profile this repository
//   node bench/profile.mjs --src=/tmp/signet-before --scenario=grant       profile another tree
//
// Builds <src>/src/index.ts with esbuild (the bench's build, plus a source map), serves it under
// Miniflare with `inspectorPort` (the bench's setup: loopback origin, KV-counting wrapper, key
// registry), creates an RS256 key through the admin API, then per scenario:
//   1. warm-up, then --requests requests with no inspector session: workerd CPU per request (/proc);
//   2. with one inspector session: Profiler.enable, setSamplingInterval, start, the same number of
//      requests (autocannon, 10 connections), Profiler.stop;
//   3. self time per call frame (functionName + file:line, mapped back through the source map),
//      top --top rows as a markdown table; the raw .cpuprofile opens in Chrome DevTools.
//
// Options: --src=DIR (a tree with src/index.ts and node_modules; default this repository)
//          --scenario=grant|jwt|playlist, comma-separated (default grant)
//            grant     64 KiB segment with a child grant (taken from signet's rewritten playlist)
//            jwt       64 KiB segment with an RS256 JWT in ?token=, same token each time (key cached)
//            playlist  multivariant playlist with a fresh RS256 JWT per request (pre-signed pool)
//          --requests=N per phase and scenario (default 4000), --connections=N (default 10),
//          --interval=µs sampling interval (default 50), --top=N (default 20),
//          --label=TEXT (printed in the header, e.g. "before the refactor, a737958"),
//          --edge-cache=off|on (default off, as the benchmark's (a)–(f)),
//          --out=DIR (default $TMPDIR/signet-profile): <scenario>.cpuprofile, <scenario>.md, profile.md
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, relative, resolve } from 'node:path';
import { byFile, selfTimes, sourceMapper } from './lib/cpuprofile.mjs';
import { connectInspector } from './lib/inspector.mjs';
import {
  BENCH, buildSignet, buildWorker, cannon, cpuMs, createSigningKey, fmt, freePort, get, grantFromPlaylist, machine, machineNote, PLAYBACK_ID, ROOT, signPool, signToken,
  startOriginProcess, startServer,
} from './lib/harness.mjs';

const args = Object.fromEntries(
  process.argv.slice(2).map((arg) => {
    const [name, ...value] = arg.replace(/^--/, '').split('=');
    return [name, value.length ? value.join('=') : true];
  }),
);
const SRC = resolve(String(args.src ?? ROOT));
const SCENARIO_IDS = String(args.scenario ?? 'grant').split(',').map((s) => s.trim()).filter(Boolean);
const REQUESTS = Number(args.requests ?? 4000);
// As in the benchmark's (a)–(f): Miniflare's Cache API runs inside the profiled workerd, so with the
// edge cache on its work (a cache lookup per request) would be billed to the gate.
const EDGE_CACHE = args['edge-cache'] === 'on' ? 'on' : 'off';
if (!['on', 'off', undefined].includes(args['edge-cache'])) throw new Error('--edge-cache is on or off');
const CONNECTIONS = Number(args.connections ?? 10);
const INTERVAL_US = Number(args.interval ?? 50);
const TOP = Number(args.top ?? 20);
const OUT = resolve(String(args.out ?? join(os.tmpdir(), 'signet-profile')));
const WARMUP = 200;
const log = (...parts) => console.log(...parts);

const TITLES = {
  grant: '64 KiB segment with a child grant',
  jwt: '64 KiB segment with an RS256 JWT (?token=, same token each request, key cached)',
  playlist: 'multivariant playlist with a fresh RS256 JWT per request (pre-signed pool, no token sent twice)',
};
for (const id of SCENARIO_IDS) if (!TITLES[id]) throw new Error(`unknown --scenario=${id} (grant, jwt, playlist)`);
if (!existsSync(join(SRC, 'src/index.ts'))) throw new Error(`--src=${SRC}: no src/index.ts there`);

/** sha256 over every file under <src>/src (paths and contents): which code was profiled. */
function treeHash(dir) {
  const hash = createHash('sha256');
  let files = 0;
  const walk = (d) => {
    for (const name of readdirSync(d).sort()) {
      const path = join(d, name);
      if (statSync(path).isDirectory()) walk(path);
      else {
        hash.update(relative(dir, path)).update('\0').update(readFileSync(path)).update('\0');
        files++;
      }
    }
  };
  walk(dir);
  return { sha256: hash.digest('hex').slice(0, 16), files };
}

async function cell(server, next, amount) {
  const cpuBefore = cpuMs(server.pid);
  const statuses = {};
  const result = await cannon({
    url: server.url,
    connections: CONNECTIONS,
    amount,
    requests: [{ setupRequest: (req) => ({ ...req, path: next() }), onResponse: (status) => (statuses[status] = (statuses[status] ?? 0) + 1) }],
  });
  const total = result.requests.total || 1;
  return { requests: result.requests.total, reqPerSec: result.requests.total / result.duration, cpuMsPerRequest: (cpuMs(server.pid) - cpuBefore) / total, non2xx: result.non2xx, errors: result.errors + result.timeouts, statuses };
}

async function main() {
  const startedAt = new Date();
  const tree = treeHash(join(SRC, 'src'));
  const WORK = mkdtempSync(join(os.tmpdir(), 'signet-profile-'));
  const DIST = join(WORK, 'dist');
  mkdirSync(DIST);
  const bundle = join(DIST, 'signet');
  await buildSignet({ outdir: bundle, root: SRC, minify: false, sourcemap: true });
  await buildWorker(join(BENCH, 'workers/kv-counter.ts'), join(DIST, 'kv-counter.js'));
  const map = await sourceMapper(bundle, SRC);

  const origin = await startOriginProcess(ROOT);
  const inspectorPort = await freePort();
  const signet = await startServer('signet', { dist: DIST, originUrl: origin.url, persistDir: join(WORK, 'kv'), inspectorPort, vars: { EDGE_CACHE: EDGE_CACHE } });
  log(`profile: ${SRC} (src sha256 ${tree.sha256}, ${tree.files} files) under workerd pid ${signet.pid}, inspector 127.0.0.1:${inspectorPort}`);

  const P = PLAYBACK_ID;
  const signingKey = await createSigningKey(signet, 'RS256');
  const videoToken = await signToken(signingKey, { sub: P, aud: 'v' });
  const grant = await grantFromPlaylist(signet, P, videoToken);
  const seg = `/${P}/v0/seg1.m4s`;
  let pool = [];
  if (SCENARIO_IDS.includes('playlist')) {
    pool = await signPool(signingKey, { sub: P, aud: 'v' }, 2 * (REQUESTS + WARMUP) + 10);
    log(`signed ${pool.length} fresh tokens`);
  }
  let cursor = 0;
  const plans = {
    grant: () => `${seg}?grant=${grant}`,
    jwt: () => `${seg}?token=${videoToken}`,
    playlist: () => {
      if (cursor >= pool.length) throw new Error('fresh-token pool exhausted');
      return `/${P}.m3u8?token=${pool[cursor++]}`;
    },
  };
  for (const id of SCENARIO_IDS) {
    const res = await get(signet.url, plans[id]());
    if (res.status !== 200) throw new Error(`${id}: answered ${res.status} ${res.body.toString().slice(0, 200)}`);
  }

  // Phase 1: no inspector session. Warm-up, then workerd CPU per request.
  const results = {};
  for (const id of SCENARIO_IDS) {
    await cell(signet, plans[id], WARMUP);
    const plain = await cell(signet, plans[id], REQUESTS);
    results[id] = { plain };
    log(`${id.padEnd(8)} no inspector   ${fmt(plain.reqPerSec).padStart(5)} req/s  cpu ${fmt(plain.cpuMsPerRequest, 3)} ms/req`);
  }

  // Phase 2: one inspector session, one profile per scenario.
  const nudge = () => fetch(`${signet.url}/healthz`).then((r) => r.arrayBuffer());
  const inspector = await connectInspector(inspectorPort, { worker: 'signet', nudge });
  log(`inspector target: ${inspector.target.title ?? inspector.target.id} (${inspector.targets.length} target(s))`);
  await inspector.call('Profiler.enable');
  mkdirSync(OUT, { recursive: true });
  for (const id of SCENARIO_IDS) {
    await cell(signet, plans[id], WARMUP);
    await inspector.call('Profiler.setSamplingInterval', { interval: INTERVAL_US });
    await inspector.call('Profiler.start');
    const profiled = await cell(signet, plans[id], REQUESTS);
    const { profile } = await inspector.call('Profiler.stop');
    writeFileSync(join(OUT, `${id}.cpuprofile`), JSON.stringify(profile));
    const times = selfTimes(profile, map);
    Object.assign(results[id], { profiled, ...times, files: byFile(times.rows) });
    log(`${id.padEnd(8)} profiler       ${fmt(profiled.reqPerSec).padStart(5)} req/s  cpu ${fmt(profiled.cpuMsPerRequest, 3)} ms/req  ${results[id].samples} samples`);
    if (profiled.non2xx || profiled.errors || results[id].plain.non2xx) log(`  WARNING: non-2xx or errors: ${JSON.stringify({ plain: results[id].plain.statuses, profiled: profiled.statuses, errors: profiled.errors })}`);
  }
  await inspector.call('Profiler.disable').catch(() => {});
  inspector.close();
  await signet.mf.dispose();
  origin.stop();
  rmSync(WORK, { recursive: true, force: true });

  // Report
  const m = machine();
  const header = [
    `# signet CPU profile — ${startedAt.toISOString()}`,
    '',
    `- **Source tree:** \`${SRC}\`${args.label ? ` — ${args.label}` : ''}; EDGE_CACHE=${EDGE_CACHE}; \`src/\` sha256 \`${tree.sha256}\` (${tree.files} files, path + content).`,
    `- **Command:** \`node bench/profile.mjs ${process.argv.slice(2).map((arg) => (/[\s"'$]/.test(arg) ? `'${arg.replace(/'/g, "'\\''")}'` : arg)).join(' ')}\` (in ${ROOT})`,
    `- **Machine:** ${machineNote(m)}. ${m.cores} cores shared by workerd, the origin and the load generator; load average at the start ${os.loadavg().map((l) => l.toFixed(2)).join(' / ')} (other work on the machine inflates CPU per request and stretches the sampling period).`,
    `- **Method:** signet built by scripts/build.mjs as deployed, unminified, with source maps, under Miniflare with \`inspectorPort\`; per scenario ${WARMUP} warm-up requests, then ${REQUESTS} requests (autocannon, ${CONNECTIONS} connections) with no inspector session, then ${WARMUP} more and ${REQUESTS} profiled ones (\`Profiler.setSamplingInterval {interval: ${INTERVAL_US}}\`, µs). Self time = sum of \`timeDeltas\` per call frame (functionName + file:line, bundle positions mapped to sources through the source map), a sample lasting until the next, each capped at 2 × the median delta: workerd samples the isolate only while it runs, so the delta after the last sample before a pause spans the pause and is not billed to that frame. \"total\" is the capped sum (time the isolate was seen running, idle samples included); \"span\" the profile's wall time.`,
    `- **Caveat — console.log under the inspector:** while an inspector session is attached, workerd mirrors every \`console.log\` to it, which costs far more than without one. signet writes one decision-log line per request, so console/log frames (and the JSON.stringify feeding them) are inflated here. Read **relative** costs from these tables; read **absolute** costs from "workerd CPU/request, no inspector" (\`/proc\` utime+stime, no session attached).`,
    '',
  ];
  const sections = [];
  for (const id of SCENARIO_IDS) {
    const r = results[id];
    const pick = (name) => r.rows.filter((x) => x.functionName === name && x.where === '(native)').reduce((sum, x) => sum + x.selfUs, 0);
    const idle = pick('(idle)');
    const busy = r.totalUs - idle;
    const lines = [
      `## ${id} — ${TITLES[id]}`,
      '',
      `workerd CPU/request: **${fmt(r.plain.cpuMsPerRequest, 3)} ms with no inspector** (${fmt(r.plain.reqPerSec)} req/s); ${fmt(r.profiled.cpuMsPerRequest, 3)} ms while profiled (${fmt(r.profiled.reqPerSec)} req/s). Profile: ${r.samples} samples, effective period ${fmt(r.periodUs)} µs (asked ${INTERVAL_US}), cap ${fmt(r.capUs)} µs; total ${fmt(r.totalUs / 1000)} ms of a ${fmt(r.spanUs / 1000)} ms span; (idle) ${fmt(idle / 1000)} ms, (program) ${fmt(pick('(program)') / 1000)} ms, (garbage collector) ${fmt(pick('(garbage collector)') / 1000)} ms. Non-2xx: ${r.plain.non2xx + r.profiled.non2xx}.`,
      '',
      `| # | function | file:line | self ms | % of total | % of non-idle | samples |`,
      '| ---: | --- | --- | ---: | ---: | ---: | ---: |',
      ...r.rows.slice(0, TOP).map((x, i) => `| ${i + 1} | \`${x.functionName}\` | ${x.where} | ${fmt(x.selfUs / 1000, 1)} | ${fmt((100 * x.selfUs) / r.totalUs, 1)} | ${x.functionName === '(idle)' ? '' : fmt((100 * x.selfUs) / busy, 1)} | ${x.samples} |`),
      '',
      'Self time by file (top 12):',
      '',
      '| file | self ms | % of non-idle |',
      '| --- | ---: | ---: |',
      ...r.files.filter((f) => f.file !== '(idle)').slice(0, 12).map((f) => `| ${f.file} | ${fmt(f.selfUs / 1000, 1)} | ${fmt((100 * f.selfUs) / busy, 1)} |`),
      '',
    ];
    writeFileSync(join(OUT, `${id}.md`), [...header, ...lines].join('\n'));
    sections.push(...lines);
  }
  const markdown = [...header, ...sections].join('\n');
  writeFileSync(join(OUT, 'profile.md'), markdown);
  log(`\n${markdown}`);
  log(`written to ${OUT}: ${SCENARIO_IDS.map((id) => `${id}.cpuprofile, ${id}.md`).join(', ')}, profile.md`);
}

main().catch((error) => {
  console.error(error);
  process.exit(2);
});
