#!/usr/bin/env node
// Memory soak (issue 5): signet under workerd (Miniflare API) at full load for --minutes (default
// 10), with traffic that presses on every bounded cache — fresh JWTs, grants, random unknown kids,
// thousands of distinct playback IDs — while the isolate's JS heap is sampled over the inspector
// protocol (HeapProfiler.collectGarbage, then Runtime.getHeapUsage) every 30 s.
// Pass: the heap after the caches have filled stays flat (no growth beyond their bounds).
// Loopback only; bounded in time; stops by itself.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { buildSignet, workerModules } from '../scripts/build.mjs';
import { importPKCS8, SignJWT } from 'jose';
import { Miniflare } from 'miniflare';
import WebSocket from 'ws';
import { startOrigin } from '../test/support/origin-server.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({ options: { minutes: { type: 'string', default: '10' }, out: { type: 'string', default: join(ROOT, 'bench/results') } } });
const MINUTES = Number(values.minutes);
const ADMIN = { id: 'soak', secret: 'soak-admin-secret-0123456789' };

const freePort = () => new Promise((resolve) => { const s = createServer(); s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); }); });

const work = mkdtempSync(join(os.tmpdir(), 'signet-soak-'));
await buildSignet({ outdir: join(work, 'signet') }); // as wrangler deploys it
const origin = await startOrigin({ port: 0, record: false });
const inspectorPort = await freePort();
const mf = new Miniflare({
  modulesRoot: join(work, 'signet'), modules: workerModules(join(work, 'signet')), compatibilityDate: '2026-04-20', compatibilityFlags: ['nodejs_compat'],
  kvNamespaces: ['KEYS'], durableObjects: { REGISTRY: { className: 'KeyRegistry', useSQLite: true } }, kvPersist: join(work, 'kv'), cf: false, host: '127.0.0.1', port: 0, inspectorPort,
  bindings: { ADMIN_TOKEN_ID: ADMIN.id, ADMIN_TOKEN_SECRET: ADMIN.secret, GRANT_SECRET: 'soak-grant-secret-0123456789-abcdefghijklmnop', ORIGIN_URL: origin.url },
  handleRuntimeStdio: (stdout, stderr) => { stdout.resume(); stderr.resume(); },
});
const base = (await mf.ready).href.replace(/\/$/, '');

// The inspector: one CDP session on the worker's isolate.
const targets = await (await fetch(`http://127.0.0.1:${inspectorPort}/json`)).json();
const target = targets.find((t) => t.webSocketDebuggerUrl) ?? targets[0];
const ws = new WebSocket(target.webSocketDebuggerUrl);
await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
let nextId = 1;
const pending = new Map();
ws.on('message', (data) => { const msg = JSON.parse(String(data)); if (msg.id && pending.has(msg.id)) { pending.get(msg.id)(msg); pending.delete(msg.id); } });
const cdp = (method, params = {}) => new Promise((resolve) => { const id = nextId++; pending.set(id, resolve); ws.send(JSON.stringify({ id, method, params })); });
// workerd dispatches inspector messages when the isolate runs: nudge it with a request.
async function call(method) {
  const answer = cdp(method);
  for (let i = 0; i < 50; i++) {
    const done = await Promise.race([answer.then(() => true), new Promise((r) => setTimeout(() => r(false), 100))]);
    if (done) break;
    await fetch(`${base}/healthz`).then((r) => r.arrayBuffer()).catch(() => {});
  }
  return answer;
}
async function heapMiB() {
  await call('HeapProfiler.collectGarbage');
  const { result } = await call('Runtime.getHeapUsage');
  return result ? result.usedSize / 2 ** 20 : NaN;
}

// A key, and tokens for many playback IDs.
const created = await (await fetch(`${base}/v1/iam/signing-keys`, { method: 'POST', headers: { Authorization: `Basic ${btoa(`${ADMIN.id}:${ADMIN.secret}`)}`, 'Content-Type': 'application/json' }, body: '{"algorithm":"ES256"}' })).json();
const key = await importPKCS8(atob(created.data.privateKey), 'ES256');
const exp = Math.floor(Date.now() / 1000) + 3 * 3600;
const tokens = [];
for (let i = 0; i < 2000; i++) tokens.push(await new SignJWT({ kid: created.data.id, aud: `media:soak${i}`, exp }).setProtectedHeader({ alg: 'ES256' }).sign(key));
const forged = await new SignJWT({ kid: 'x', aud: 'media:soak0', exp }).setProtectedHeader({ alg: 'ES256' }).sign(key);
const [fh, fp, fs] = forged.split('.');
const master = await (await fetch(`${base}/soak0.m3u8?token=${tokens[0]}`)).text();
const grant = /grant=([A-Za-z0-9_.-]+)/.exec(master)[1];

let n = 0;
function nextPath() {
  n++;
  const i = n % 2000;
  switch (n % 4) {
    case 0: return `/soak${i}.m3u8?token=${tokens[i]}`; // playlist, distinct playback IDs (policy cache fills)
    case 1: return `/soak0/v0/seg${n % 4}.m4s?grant=${grant}`; // segment via grant
    case 2: { // unknown kid, never seen before (negative cache fills to its bound)
      const header = Buffer.from(JSON.stringify({ alg: 'ES256', kid: `unknown-${n}` })).toString('base64url');
      return `/soak0.m3u8?token=${header}.${fp}.${fs}`;
    }
    default: return `/soak${i}/thumbnail.jpg?token=${tokens[i]}`;
  }
}

const samples = [{ minute: 0, heapMiB: await heapMiB(), requests: 0 }];
console.log(`soak: ${MINUTES} min against ${base}; heap at start ${samples[0].heapMiB.toFixed(1)} MiB`);
const started = Date.now();
let requests = 0;
let non2xx = 0;
while (Date.now() - started < MINUTES * 60_000) {
  const result = await autocannon({ url: base, connections: 10, duration: 30, requests: [{ setupRequest: (req) => ({ ...req, path: nextPath() }) }] });
  requests += result.requests.total;
  non2xx += result.non2xx;
  const sample = { minute: (Date.now() - started) / 60_000, heapMiB: await heapMiB(), requests };
  samples.push(sample);
  console.log(`  ${sample.minute.toFixed(1)} min  heap ${sample.heapMiB.toFixed(1)} MiB  ${requests} requests`);
}
ws.close();
await mf.dispose();
await origin.close();

const settled = samples.filter((s) => s.minute >= Math.min(2, MINUTES / 2));
const firstSettled = settled[0]?.heapMiB ?? NaN;
const last = samples.at(-1).heapMiB;
const max = Math.max(...samples.map((s) => s.heapMiB));
const growth = last - firstSettled;
const lines = [
  `# signet memory soak — ${new Date().toISOString()}`,
  '',
  `${MINUTES} min at full load (autocannon, 10 connections) on ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.cpus().length} cores; ${requests} requests (${non2xx} refusals by design: a quarter carry unknown kids).`,
  'Traffic: playlists with JWTs for 2,000 playback IDs, segments via a grant, tokens with never-seen kids, thumbnails.',
  'Heap: V8 used heap of the worker isolate after a forced GC (inspector protocol), every 30 s.',
  '',
  '| minute | heap MiB | requests |',
  '| ---: | ---: | ---: |',
  ...samples.map((s) => `| ${s.minute.toFixed(1)} | ${s.heapMiB.toFixed(2)} | ${s.requests} |`),
  '',
  `Heap after the caches filled (≥ 2 min): ${firstSettled.toFixed(2)} MiB; at the end: ${last.toFixed(2)} MiB (${growth >= 0 ? '+' : ''}${growth.toFixed(2)} MiB); max ${max.toFixed(2)} MiB.`,
  `Bounds: key cache 1,000 entries, unknown kids 10,000, policies 10,000, remembered tokens and grants 2,000 each of ≤ 2,048 characters (src/config.ts LIMITS).`,
];
writeFileSync(join(values.out, 'soak.md'), `${lines.join('\n')}\n`);
writeFileSync(join(values.out, 'soak.json'), JSON.stringify({ minutes: MINUTES, requests, non2xx, samples }, null, 2));
console.log(lines.slice(-2).join('\n'));
process.exit(0);
