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

let announced = false;
wrangler.stdout.on('data', (chunk) => {
  process.stdout.write(chunk);
  if (!announced && /Ready on/i.test(String(chunk))) {
    announced = true;
    console.log(`
  signet is running locally (dev mode: never use these credentials in production)

  demo page      ${base}/            create a key, sign a token, play, tamper, rotate, delete
  admin API      ${base}/v1/iam/signing-keys   (HTTP Basic ${auth})
  JWKS           ${base}/.well-known/jwks.json
  OpenAPI        ${base}/v1/openapi.json
  demo stream    ${base}/demo.m3u8?token=…      (refused without a valid token)

  try:  curl -s -u ${useDevVars ? 'ID:SECRET' : `${DEV.ADMIN_TOKEN_ID}:${DEV.ADMIN_TOKEN_SECRET}`} -X POST ${base}/v1/iam/signing-keys -H 'Content-Type: application/json' -d '{"algorithm":"ES256"}'
`);
  }
});

const stop = () => {
  try {
    process.kill(-wrangler.pid, 'SIGTERM');
  } catch {
    // already gone
  }
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
process.on('exit', stop);
wrangler.on('exit', (code) => process.exit(code ?? 0));
