#!/usr/bin/env node
// `npm start`: signet on this machine with its embedded defaults — wrangler dev (local KV, no
// network), well-known dev credentials, the demo stream as the origin and the demo page at /.
// Usage: npm start [-- --port 8787] [--persist-to DIR]
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  options: {
    port: { type: 'string', default: process.env.PORT ?? '8787' },
    'persist-to': { type: 'string', default: join(root, '.wrangler', 'state') },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  console.log('Usage: npm start [-- --port 8787] [--persist-to DIR]\nStarts signet locally (wrangler dev, local KV) with dev credentials and the demo stream.');
  process.exit(0);
}

// Same values as DEV_DEFAULTS in src/config.ts (the demo page pre-fills only these).
const DEV = { ADMIN_TOKEN_ID: 'dev', ADMIN_TOKEN_SECRET: 'signet-dev-secret', GRANT_SECRET: 'signet-dev-grant-secret-not-for-production' };

// hls.js and dash.js for the demo page, from the pinned npm package (served only in DEV_MODE).
mkdirSync(join(root, 'demo/site/player'), { recursive: true });
copyFileSync(join(root, 'node_modules/hls.js/dist/hls.min.js'), join(root, 'demo/site/player/hls.min.js'));
copyFileSync(join(root, 'node_modules/dashjs/dist/modern/umd/dash.all.min.js'), join(root, 'demo/site/player/dash.all.min.js'));

const useDevVars = existsSync(join(root, '.dev.vars'));
const vars = { DEV_MODE: 'true', ...(useDevVars ? {} : DEV) };
const args = ['dev', '--ip', '127.0.0.1', '--port', values.port, '--persist-to', values['persist-to'], '--log-level', 'warn'];
for (const [name, value] of Object.entries(vars)) args.push('--var', `${name}:${value}`);

const base = `http://127.0.0.1:${values.port}`;
const auth = useDevVars ? '$ADMIN_TOKEN_ID:$ADMIN_TOKEN_SECRET (from .dev.vars)' : `${DEV.ADMIN_TOKEN_ID}:${DEV.ADMIN_TOKEN_SECRET}`;
const wrangler = spawn(join(root, 'node_modules/.bin/wrangler'), args, {
  cwd: root,
  stdio: ['ignore', 'pipe', 'inherit'],
  env: { ...process.env, WRANGLER_SEND_METRICS: 'false', CLOUDFLARE_CF_FETCH_ENABLED: 'false', WRANGLER_HIDE_BANNER: 'true' },
  detached: true,
});

// wrangler's own "Ready on" line is hidden by --log-level warn: the banner is printed once the
// worker itself answers /healthz, whether stdout is a terminal or a pipe.
wrangler.stdout.on('data', (chunk) => process.stdout.write(chunk));
announceWhenUp();

async function announceWhenUp() {
  const deadline = Date.now() + 300_000; // the first start builds and compiles workerd's config: a hung start, not a speed check
  while (Date.now() < deadline && wrangler.exitCode === null) {
    try {
      if ((await fetch(`${base}/healthz`)).ok) {
        console.log(`
  signet is running locally (dev mode: never use these credentials in production)

  demo page      ${base}/            create a key, sign a token, play, tamper, rotate, delete
  admin API      ${base}/v1/iam/signing-keys   (HTTP Basic ${auth})
  JWKS           ${base}/.well-known/jwks.json
  OpenAPI        ${base}/v1/openapi.json
  demo stream    ${base}/demo.m3u8?token=…      (refused without a valid token)

  try:  curl -s -u ${useDevVars ? 'ID:SECRET' : `${DEV.ADMIN_TOKEN_ID}:${DEV.ADMIN_TOKEN_SECRET}`} -X POST ${base}/v1/iam/signing-keys -H 'Content-Type: application/json' -d '{"algorithm":"ES256"}'

  Ctrl-C stops it.
`);
        return;
      }
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  if (wrangler.exitCode === null) console.error(`signet did not answer ${base}/healthz within 300 s; wrangler is still running (Ctrl-C stops it).`);
}

// wrangler runs in its own process group (detached), so a signal to this terminal's group does not
// reach it by itself: Ctrl-C (SIGINT), SIGTERM and a closed terminal (SIGHUP) are passed on to the
// whole group (wrangler and its workerd), and nothing is left listening on the port.
const stop = () => {
  try {
    process.kill(-wrangler.pid, 'SIGTERM');
  } catch {
    // already gone
  }
};
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, stop);
process.on('exit', stop);
// A closed pipe on stdout (`npm start | head`) must not leave wrangler behind either.
process.stdout.on('error', () => stop());
wrangler.on('exit', (code, signal) => process.exit(code ?? (signal ? 0 : 1)));
