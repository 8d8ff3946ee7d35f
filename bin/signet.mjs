#!/usr/bin/env node
// signet CLI: manage signing keys of a deployed or local signet, sign playback URLs, and inspect
// tokens offline against a JWKS. Node ≥ 20, no runtime dependency beyond jose.
// Exit codes: 0 ok, 1 a check or an API call failed, 2 usage.
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { compactVerify, decodeProtectedHeader, importJWK } from 'jose';
import { playbackUrl, SigningError, signPlaybackToken } from '../src/sign/index.js';

const HELP = {
  main: `signet — signing keys and signed playback at the edge

Usage: signet <command> [options]

Commands:
  keys create|list|get|rotate|delete   manage signing keys through the admin API
  sign                                 sign a playback token and print a ready URL
  inspect <token>                      decode a token and check it offline (alias: verify)

Common options:
  --url URL        signet base URL (env SIGNET_URL, default http://127.0.0.1:8787)
  --id ID          admin id (env SIGNET_ADMIN_ID)
  --secret SECRET  admin secret (env SIGNET_ADMIN_SECRET)
  --json           machine-readable output
  -h, --help       help for any command

Run "signet <command> --help" for a command's options.`,
  keys: `Usage: signet keys <create|list|get|rotate|delete> [options]

  keys create [--algorithm RS256|ES256|EdDSA] [--name NAME] [--expires-at ISO] [--out FILE]
      Prints the private key ONCE (or writes it to FILE, mode 0600). Store it in your backend's secrets.
  keys list [--limit 1-100] [--offset PAGE]
  keys get ID
  keys rotate ID [--grace SECONDS] [--out FILE]
      New key of the same algorithm; the old one verifies for the grace period (default 86400).
  keys delete ID
      Tokens signed with the key stop verifying (within KEY_CACHE_TTL_SECONDS + KV propagation).

Credentials: --url/--id/--secret or SIGNET_URL/SIGNET_ADMIN_ID/SIGNET_ADMIN_SECRET.`,
  sign: `Usage: signet sign --playback-id P --kid KEY_ID [--key-file FILE] [options]

  --playback-id P       the asset
  --kid KEY_ID          signing key id (env SIGNET_KEY_ID)
  --key-file FILE       private key: PKCS#8 PEM or base64 of one (env SIGNET_PRIVATE_KEY)
  --ttl SECONDS         lifetime (default 3600)
  --dialect D           fastpix (aud media:P, default) or mux (sub P, aud = class)
  --class C             mux dialect: v (video, default), t (thumbnail), g (gif), s (storyboard)
  --base-url URL        playback host for the printed URL (default: --url)
  --resource R          hls (default), dash, or a child such as thumbnail.jpg
  --claim NAME=VALUE    extra claim (repeatable; JSON values allowed, e.g. groups='["premium"]')`,
  inspect: `Usage: signet inspect <token> [--jwks URL | --jwks-file FILE] [options]

Decodes the token and checks it as the gate would, printing each check and why it passed or failed:
algorithm allowed, kid, signature (when a JWKS is given), exp/nbf/iat with skew, asset binding.

  --jwks URL            a JWKS URL (e.g. https://play.example.com/.well-known/jwks.json)
  --jwks-file FILE      a JWKS file
  --playback-id P       check the asset binding for P
  --class C             resource class for the binding check: v (default), t, g, s
  --skew SECONDS        clock skew (default 30)
  --issuer ISS          require this iss`,
};

class UsageError extends Error {}
class CommandError extends Error {}

const argv = process.argv.slice(2);
const wantsJson = argv.includes('--json');

function out(human, data) {
  if (wantsJson) process.stdout.write(`${JSON.stringify(data, null, 2)}\n`);
  else process.stdout.write(`${human}\n`);
}

function parse(args, options) {
  try {
    return parseArgs({
      args,
      allowPositionals: true,
      options: { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' }, url: { type: 'string' }, id: { type: 'string' }, secret: { type: 'string' }, ...options },
    });
  } catch (error) {
    throw new UsageError(error.message);
  }
}

function adminClient(values) {
  const base = (values.url ?? process.env.SIGNET_URL ?? 'http://127.0.0.1:8787').replace(/\/+$/, '');
  const id = values.id ?? process.env.SIGNET_ADMIN_ID;
  const secret = values.secret ?? process.env.SIGNET_ADMIN_SECRET;
  if (!id || !secret) throw new UsageError('admin credentials are required: --id/--secret or SIGNET_ADMIN_ID/SIGNET_ADMIN_SECRET');
  return async (method, path, body) => {
    let response;
    try {
      response = await fetch(`${base}${path}`, {
        method,
        headers: { Authorization: `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`, ...(body && { 'Content-Type': 'application/json' }) },
        body: body ? JSON.stringify(body) : undefined,
      });
    } catch (error) {
      throw new CommandError(`cannot reach ${base}: ${error.cause?.code ?? error.message}`);
    }
    const json = await response.json().catch(() => null);
    if (!json?.success) {
      const reason = json?.error ? `${json.error.reason}: ${json.error.description}` : `HTTP ${response.status}`;
      throw new CommandError(`${method} ${path} failed (${response.status}) — ${reason}`);
    }
    return json;
  };
}

function savePrivateKey(file, data) {
  if (!file) return `\nprivateKey (shown once — store it now, signet keeps no copy):\n${data.privateKey}`;
  writeFileSync(file, `${data.privateKey}\n`, { mode: 0o600 });
  return `\nprivateKey written to ${file} (mode 0600); signet keeps no copy.`;
}

const describeKey = (k) => `${k.id}  ${k.algorithm}  ${k.status}  created ${k.createdAt}${k.expiresAt ? `  expires ${k.expiresAt}` : ''}${k.lastUsedAt ? `  last used ${k.lastUsedAt}` : ''}${k.name ? `  "${k.name}"` : ''}`;

async function keys(args) {
  const [sub, ...rest] = args;
  const { values, positionals } = parse(rest, {
    algorithm: { type: 'string' }, name: { type: 'string' }, 'expires-at': { type: 'string' }, out: { type: 'string' },
    limit: { type: 'string' }, offset: { type: 'string' }, grace: { type: 'string' },
  });
  if (values.help || !sub || sub === '--help' || sub === '-h') return out(HELP.keys, { help: HELP.keys });
  const api = adminClient(values);
  const id = positionals[0];
  const needId = () => {
    if (!id) throw new UsageError(`keys ${sub} needs a key ID`);
    return encodeURIComponent(id);
  };
  switch (sub) {
    case 'create': {
      const body = { ...(values.algorithm && { algorithm: values.algorithm }), ...(values.name && { name: values.name }), ...(values['expires-at'] && { expiresAt: values['expires-at'] }) };
      const { data } = await api('POST', '/v1/iam/signing-keys', body);
      const saved = savePrivateKey(values.out, data);
      return out(`created ${describeKey(data)}${saved}`, values.out ? { ...data, privateKey: undefined, privateKeyFile: values.out } : data);
    }
    case 'list': {
      const query = new URLSearchParams({ ...(values.limit && { limit: values.limit }), ...(values.offset && { offset: values.offset }) });
      const json = await api('GET', `/v1/iam/signing-keys${query.size ? `?${query}` : ''}`);
      const { totalRecords, currentOffset, offsetCount } = json.pagination;
      return out(`${json.data.map(describeKey).join('\n') || '(no keys)'}\npage ${currentOffset} of ${offsetCount}, ${totalRecords} keys`, json);
    }
    case 'get': {
      const { data } = await api('GET', `/v1/iam/signing-keys/${needId()}`);
      return out(`${describeKey(data)}\n${data.publicKey}`, data);
    }
    case 'rotate': {
      const body = values.grace !== undefined ? { gracePeriodSeconds: Number(values.grace) } : {};
      const { data } = await api('POST', `/v1/iam/signing-keys/${needId()}/rotate`, body);
      const saved = savePrivateKey(values.out, data);
      return out(`rotated ${data.rotatedFrom} → ${describeKey(data)}${saved}`, values.out ? { ...data, privateKey: undefined, privateKeyFile: values.out } : data);
    }
    case 'delete': {
      const { data } = await api('DELETE', `/v1/iam/signing-keys/${needId()}`);
      return out(`deleted ${id}: ${data.message}`, { id, ...data });
    }
    default:
      throw new UsageError(`unknown keys command "${sub}"`);
  }
}

async function sign(args) {
  const { values } = parse(args, {
    'playback-id': { type: 'string' }, kid: { type: 'string' }, 'key-file': { type: 'string' }, ttl: { type: 'string' }, dialect: { type: 'string' },
    class: { type: 'string' }, 'base-url': { type: 'string' }, resource: { type: 'string' }, claim: { type: 'string', multiple: true },
  });
  if (values.help) return out(HELP.sign, { help: HELP.sign });
  const playbackId = values['playback-id'];
  const keyId = values.kid ?? process.env.SIGNET_KEY_ID;
  const privateKey = values['key-file'] ? readFileSync(values['key-file'], 'utf8') : process.env.SIGNET_PRIVATE_KEY;
  if (!playbackId) throw new UsageError('--playback-id is required');
  if (!keyId) throw new UsageError('--kid (or SIGNET_KEY_ID) is required');
  if (!privateKey) throw new UsageError('--key-file (or SIGNET_PRIVATE_KEY) is required');
  const ttl = values.ttl === undefined ? 3600 : Number(values.ttl);
  if (!Number.isFinite(ttl) || ttl <= 0) throw new UsageError('--ttl must be a positive number of seconds');
  const claims = {};
  for (const pair of values.claim ?? []) {
    const eq = pair.indexOf('=');
    if (eq < 1) throw new UsageError(`--claim must be NAME=VALUE, got "${pair}"`);
    const raw = pair.slice(eq + 1);
    try {
      claims[pair.slice(0, eq)] = JSON.parse(raw);
    } catch {
      claims[pair.slice(0, eq)] = raw;
    }
  }
  let token;
  try {
    token = await signPlaybackToken({ privateKey, keyId, playbackId, dialect: values.dialect ?? 'fastpix', resourceClass: values.class ?? 'v', expiresIn: ttl, claims });
  } catch (error) {
    if (error instanceof SigningError) throw new UsageError(error.message);
    throw error;
  }
  const base = values['base-url'] ?? values.url ?? process.env.SIGNET_URL ?? 'http://127.0.0.1:8787';
  const url = playbackUrl({ baseUrl: base, playbackId, token, resource: values.resource ?? 'hls' });
  return out(`token: ${token}\nurl:   ${url}`, { token, url, expiresAt: new Date((Math.floor(Date.now() / 1000) + Math.floor(ttl)) * 1000).toISOString() });
}

const decodeSegment = (segment) => JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));

async function loadJwks(values) {
  if (values['jwks-file']) return JSON.parse(readFileSync(values['jwks-file'], 'utf8'));
  if (values.jwks) {
    let response;
    try {
      response = await fetch(values.jwks, { redirect: 'error' });
    } catch (error) {
      throw new CommandError(`cannot fetch ${values.jwks}: ${error.cause?.code ?? error.message}`);
    }
    if (!response.ok) throw new CommandError(`cannot fetch ${values.jwks}: HTTP ${response.status}`);
    return response.json();
  }
  return undefined;
}

// These checks mirror the gate's (src/token/jws.ts, claims.ts, binding.ts) for offline use; the
// gate's TypeScript cannot be imported by Node 20 without a build step.
async function inspect(args) {
  const { values, positionals } = parse(args, {
    jwks: { type: 'string' }, 'jwks-file': { type: 'string' }, 'playback-id': { type: 'string' }, class: { type: 'string' }, skew: { type: 'string' }, issuer: { type: 'string' },
  });
  if (values.help) return out(HELP.inspect, { help: HELP.inspect });
  const token = positionals[0];
  if (!token) throw new UsageError('inspect needs a token');
  const checks = [];
  const check = (name, ok, detail) => checks.push({ check: name, ok, detail });
  const parts = token.split('.');
  let header = {};
  let payload = {};
  if (parts.length !== 3 || parts.some((p, i) => i !== 1 && !p)) {
    check('format', false, 'not a compact JWS (three base64url segments)');
  } else {
    try {
      header = decodeProtectedHeader(token);
      payload = decodeSegment(parts[1]);
      check('format', true, 'compact JWS with JSON header and payload');
    } catch {
      check('format', false, 'header or payload is not base64url JSON');
    }
  }
  const alg = header.alg;
  check('algorithm', ['RS256', 'ES256', 'EdDSA'].includes(alg), `alg ${JSON.stringify(alg)} (allowed: RS256, ES256, EdDSA)`);
  if (header.crit !== undefined || header.b64 !== undefined) check('critical headers', false, '"crit"/"b64" headers are refused');
  const kid = header.kid ?? payload.kid;
  const kidOk = typeof kid === 'string' && kid !== '' && (header.kid === undefined || payload.kid === undefined || header.kid === payload.kid);
  check('kid', kidOk, kidOk ? `kid ${kid} (${header.kid !== undefined ? 'header' : 'payload'})` : 'missing, not a string, or header and payload disagree');
  const jwks = await loadJwks(values);
  if (jwks) {
    const jwk = Array.isArray(jwks.keys) ? jwks.keys.find((k) => k.kid === kid) : undefined;
    if (!jwk) check('key found', false, `no key with kid ${kid} in the JWKS`);
    else {
      check('key found', true, `${jwk.kty}${jwk.crv ? ` ${jwk.crv}` : ''} key, alg ${jwk.alg ?? '(none)'}`);
      const keyAlg = jwk.alg ?? alg;
      if (keyAlg !== alg) check('signature', false, `token says ${alg} but the key is ${keyAlg}`);
      else {
        try {
          await compactVerify(token, await importJWK({ ...jwk, alg: keyAlg }, keyAlg), { algorithms: [keyAlg] });
          check('signature', true, `verifies with ${kid}`);
        } catch {
          check('signature', false, 'does not verify with this key (tampered, or signed with another key)');
        }
      }
    }
  } else {
    check('signature', null, 'not checked (give --jwks or --jwks-file)');
  }
  const now = Math.floor(Date.now() / 1000);
  const skew = values.skew === undefined ? 30 : Number(values.skew);
  const iso = (s) => new Date(s * 1000).toISOString();
  if (typeof payload.exp !== 'number') check('exp', false, 'missing or not a number');
  else check('exp', now < payload.exp + skew, now < payload.exp + skew ? `valid until ${iso(payload.exp)} (+${skew} s skew)` : `expired at ${iso(payload.exp)}`);
  if (payload.nbf !== undefined) check('nbf', typeof payload.nbf === 'number' && now >= payload.nbf - skew, `not before ${typeof payload.nbf === 'number' ? iso(payload.nbf) : JSON.stringify(payload.nbf)}`);
  if (payload.iat !== undefined) check('iat', typeof payload.iat === 'number' && payload.iat <= now + skew, `issued ${typeof payload.iat === 'number' ? iso(payload.iat) : JSON.stringify(payload.iat)}`);
  if (values.issuer) check('iss', payload.iss === values.issuer, `iss ${JSON.stringify(payload.iss)}, expected ${JSON.stringify(values.issuer)}`);
  const playbackId = values['playback-id'];
  if (playbackId) {
    const cls = values.class ?? 'v';
    const list = (v) => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
    const auds = list(payload.aud);
    const subs = list(payload.sub);
    let ok = false;
    let detail;
    if (auds.includes(`media:${playbackId}`)) [ok, detail] = [true, `FastPix: aud media:${playbackId} opens every class`];
    else if (subs.includes(playbackId)) [ok, detail] = auds.includes(cls) ? [true, `Mux: sub ${playbackId}, aud "${cls}"`] : [false, `Mux: sub ${playbackId} but aud ${JSON.stringify(payload.aud)} does not include "${cls}" (audience_mismatch)`];
    else detail = `issued for ${JSON.stringify(payload.aud ?? payload.sub)}, not ${playbackId} (playback_id_mismatch)`;
    check('asset binding', ok, detail);
  }
  const failed = checks.some((c) => c.ok === false);
  const mark = (ok) => (ok === null ? '–' : ok ? '✓' : '✗');
  out(
    `header:  ${JSON.stringify(header)}\npayload: ${JSON.stringify(payload)}\n\n${checks.map((c) => `${mark(c.ok)} ${c.check.padEnd(16)} ${c.detail}`).join('\n')}\n\n${failed ? 'REFUSED: the gate would refuse this token' : 'OK: every check passed'}`,
    { header, payload, checks, ok: !failed },
  );
  if (failed) process.exitCode = 1;
}

async function main() {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') return out(HELP.main, { help: HELP.main });
  switch (command) {
    case 'keys':
      return keys(rest);
    case 'sign':
      return sign(rest);
    case 'inspect':
    case 'verify':
      return inspect(rest);
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

main().catch((error) => {
  if (error instanceof UsageError) {
    process.stderr.write(`signet: ${error.message}\nRun "signet --help" for usage.\n`);
    process.exitCode = 2;
  } else if (error instanceof CommandError) {
    process.stderr.write(`signet: ${error.message}\n`);
    process.exitCode = 1;
  } else {
    process.stderr.write(`signet: ${error?.message ?? error}\n`);
    process.exitCode = 1;
  }
});
