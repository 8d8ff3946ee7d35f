#!/usr/bin/env node
// signet CLI: manage the signing keys of a deployed or local signet, sign playback URLs, and check
// tokens offline against a JWKS. Node ≥ 20, plain ESM (runs unbuilt), no dependency beyond jose.
// Exit codes: 0 ok, 1 a check or an API call failed, 2 the command line is wrong.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ALGORITHMS, DIALECTS, KID_LOCATIONS, RESOURCE_CLASSES, SigningError, playbackUrl, resourceClassFor, signPlaybackToken } from '../src/sign/index.js';
import { inspectPlaybackToken } from '../src/sign/inspect.js';

const DEFAULT_URL = 'http://127.0.0.1:8787';
const HTTP_TIMEOUT_MS = 15_000;

const CONNECTION = `Connection:
  --url URL          signet base URL (env SIGNET_URL; default ${DEFAULT_URL})
  --id ID            admin id (env SIGNET_ADMIN_ID)
  --secret SECRET    admin secret (env SIGNET_ADMIN_SECRET; prefer the env: argv is visible in ps)
  --json             machine-readable output
  -h, --help         this help`;

const HELP = {
  main: `signet — signing keys and signed playback at the edge

Usage: signet <command> [options]

Commands:
  keys create|list|get|rotate|delete   manage signing keys through the admin API
  sign                                 sign a playback token and print a ready playback URL
  inspect <token|url>                  decode a token and check it offline, each check explained
  verify <token|url>                   the same, but a JWKS is required and any failure exits 1

Every command takes --help and --json. Exit codes: 0 ok, 1 a check or an API call failed, 2 usage.
Environment: SIGNET_URL, SIGNET_ADMIN_ID, SIGNET_ADMIN_SECRET, SIGNET_KEY_ID, SIGNET_PRIVATE_KEY.

Run "signet <command> --help" for a command's options.`,
  keys: `Usage: signet keys <create|list|get|rotate|delete> [options]

  create    make a key pair; prints the private key ONCE (or writes it with --out)
  list      list keys, newest first
  get ID    one key, with its public key
  rotate ID a new key of the same algorithm; the old one verifies for a grace period
  delete ID remove a key; its tokens stop verifying

Run "signet keys <subcommand> --help" for its options.

${CONNECTION}`,
  'keys create': `Usage: signet keys create [--algorithm RS256|ES256|EdDSA] [--name NAME] [--expires-at ISO] [--out FILE]

  --algorithm ALG    RS256 (RSA-2048, default), ES256 (P-256) or EdDSA (Ed25519)
  --name NAME        a label
  --expires-at ISO   when the key stops verifying, e.g. 2027-01-01T00:00:00Z
  --out FILE         write the private key (PEM) to FILE with mode 0600 instead of printing it;
                     FILE must not exist

The private key is shown once and never stored by signet: put it in your backend's secrets.

${CONNECTION}`,
  'keys list': `Usage: signet keys list [--limit 1-100] [--offset PAGE]

  --limit N          keys per page (default 10)
  --offset PAGE      1-based page (default 1)

${CONNECTION}`,
  'keys get': `Usage: signet keys get ID

Prints the key's metadata and public key (SPKI PEM; --json adds the JWK).

${CONNECTION}`,
  'keys rotate': `Usage: signet keys rotate ID [--grace SECONDS] [--out FILE]

  --grace SECONDS    how long the old key keeps verifying (default 86400, at most 30 days)
  --out FILE         write the new private key (PEM) to FILE, mode 0600, instead of printing it

${CONNECTION}`,
  'keys delete': `Usage: signet keys delete ID

Tokens signed with the key stop verifying at once in the isolate that handles the delete, and
everywhere within KEY_CACHE_TTL_SECONDS + KV propagation (about 60 s).

${CONNECTION}`,
  sign: `Usage: signet sign --playback-id P [--kid KEY_ID] [--key-file FILE] [options]

Signs a playback token with your private key (locally: nothing is sent anywhere) and prints it
with a ready playback URL. The private key is never printed.

  --playback-id P       the asset (or give it as the first argument)
  --kid KEY_ID          signing key id (env SIGNET_KEY_ID)
  --key-file FILE       private key: PKCS#8 PEM or base64 of one (env SIGNET_PRIVATE_KEY)
  --ttl DURATION        lifetime: seconds, or 90s, 10m, 2h, 7d (default 3600)
  --dialect D           fastpix (aud "media:P", opens every resource; default) or
                        mux (sub P, aud = the resource class)
  --class C             mux dialect: v video (default), t thumbnail, g gif, s storyboard;
                        default: the class of --resource
  --resource R          the URL's resource: hls, dash, thumbnail.jpg, animated.gif, …
                        (default: hls, or the class's usual resource with --class)
  --base-url URL        the gate's public URL for the printed URL (default: --url, SIGNET_URL, ${DEFAULT_URL})
  --claim NAME=VALUE    an extra claim, repeatable; VALUE is JSON when it parses (groups='["premium"]')
  --algorithm ALG       must match the key (detected from it by default)
  --kid-location L      payload (default; what FastPix and Mux do), header or both
  --token-param NAME    the gate's TOKEN_QUERY_PARAM (default token)
  --json                machine-readable output
  -h, --help            this help`,
  inspect: `Usage: signet inspect <token | playback URL | -> [options]

Decodes a token and checks it offline as the gate would, printing each check and why it passed or
failed: format, algorithm allowed, kid, key found in the JWKS, signature, exp/nbf/iat with skew,
issuer, lifetime, asset binding. Given a playback URL, the token, playback ID and resource class
are read from it. "-" (or nothing, with a pipe) reads the token from stdin. Exits 1 if a check fails.

  --jwks URL            a JWKS URL, e.g. https://play.example.com/.well-known/jwks.json
  --jwks-file FILE      a JWKS file ({"keys": [...]})
  --playback-id P       check the asset binding for P
  --class C             the requested resource class: v (default), t, g, s
  --resource R          or: the requested resource (hls, thumbnail.jpg, …), its class is used
  --skew SECONDS        CLOCK_SKEW_SECONDS (default 30)
  --issuer ISS          ISSUER: require this iss
  --max-lifetime S      MAX_TOKEN_LIFETIME_SECONDS (default 0, no limit)
  --token-param NAME    the query parameter that carries the token in a URL (default token)
  --json                machine-readable output
  -h, --help            this help`,
};
HELP.verify = HELP.inspect.replace('Usage: signet inspect', 'Usage: signet verify').replace(
  'Exits 1 if a check fails.',
  'verify needs --jwks or --jwks-file; inspect works without (decode only).',
);

/** The command line is wrong: exit 2. */
class UsageError extends Error {}
/** An API call, a file or a check failed: exit 1. */
class CommandError extends Error {
  /** @param {string} message @param {Record<string, unknown>} [facts] */
  constructor(message, facts = {}) {
    super(message);
    this.facts = facts;
  }
}

const argv = process.argv.slice(2);
const wantsJson = argv.includes('--json');

function print(human, data) {
  process.stdout.write(wantsJson ? `${JSON.stringify(data, null, 2)}\n` : `${human}\n`);
}
const warn = (text) => process.stderr.write(`${text}\n`);

const COMMON = { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } };
const CONNECTION_OPTIONS = { url: { type: 'string' }, id: { type: 'string' }, secret: { type: 'string' } };

function parse(args, options) {
  try {
    return parseArgs({ args, allowPositionals: true, strict: true, options: { ...COMMON, ...options } });
  } catch (error) {
    throw new UsageError(error.message);
  }
}

function positiveInteger(value, flag, { min = 1, max = Number.MAX_SAFE_INTEGER } = {}) {
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) throw new UsageError(`${flag} must be a whole number from ${min} to ${max}, got "${value}"`);
  return Number(value);
}

function duration(value, flag) {
  const match = /^(\d+)(s|m|h|d)?$/.exec(value);
  const seconds = match ? Number(match[1]) * { s: 1, m: 60, h: 3600, d: 86400 }[match[2] ?? 's'] : NaN;
  if (!(seconds > 0)) throw new UsageError(`${flag} must be a positive duration (3600, 90s, 10m, 2h, 7d), got "${value}"`);
  return seconds;
}

function oneOf(value, allowed, flag) {
  if (value !== undefined && !allowed.includes(value)) throw new UsageError(`${flag} must be one of ${allowed.join(', ')}, got "${value}"`);
  return value;
}

function httpUrl(value, flag) {
  let url;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`${flag} must be an http(s) URL, got "${value}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`${flag} must be an http(s) URL, got "${value}"`);
  return url;
}

function readText(file, flag) {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new UsageError(`${flag}: cannot read ${file} (${error.code ?? error.message})`);
  }
}

const netError = (error) =>
  error?.name === 'TimeoutError' ? `no answer within ${HTTP_TIMEOUT_MS / 1000} s` : (error?.cause?.code ?? error?.cause?.errors?.[0]?.code ?? error?.cause?.message ?? error?.message);

// ---------------------------------------------------------------------------------------------
// keys: the admin API (SPEC §3)

function adminClient(values) {
  const base = httpUrl(values.url ?? process.env.SIGNET_URL ?? DEFAULT_URL, '--url');
  const id = values.id ?? process.env.SIGNET_ADMIN_ID;
  const secret = values.secret ?? process.env.SIGNET_ADMIN_SECRET;
  if (!id || !secret) throw new UsageError('admin credentials are required: SIGNET_ADMIN_ID and SIGNET_ADMIN_SECRET (or --id/--secret)');
  const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(base.hostname);
  if (base.protocol === 'http:' && !loopback) warn(`signet: warning: sending admin credentials over plain http to ${base.host}; use https`);
  const root = base.href.replace(/\/+$/, '');
  return async (method, path, body) => {
    let response;
    try {
      response = await fetch(`${root}${path}`, {
        method,
        // Never follow a redirect with the admin credentials attached.
        redirect: 'error',
        signal: AbortSignal.timeout(HTTP_TIMEOUT_MS),
        headers: { Authorization: `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`, ...(body && { 'Content-Type': 'application/json' }) },
        body: body ? JSON.stringify(body) : undefined,
      });
    } catch (error) {
      throw new CommandError(`cannot reach ${root}: ${netError(error)}${loopback ? ' (is the worker running? npm start)' : ''}`, { kind: 'network' });
    }
    const json = await response.json().catch(() => null);
    if (!json?.success) {
      const e = json?.error;
      const fields = e?.fields?.length ? ` (${e.fields.map((f) => `${f.field}: ${f.message}`).join('; ')})` : '';
      const hint = response.status === 401 ? ' — check SIGNET_ADMIN_ID/SIGNET_ADMIN_SECRET' : '';
      const detail = e ? `${e.reason}: ${e.description}${fields}${hint}` : `HTTP ${response.status}, not a signet answer (is ${root} a signet worker?)`;
      throw new CommandError(`${method} ${path} failed with ${response.status} ${detail}`, { kind: 'api', status: response.status, reason: e?.reason, fields: e?.fields });
    }
    return json;
  };
}

const describeKey = (k) =>
  [k.id, k.algorithm, k.status, `created ${k.createdAt}`, k.expiresAt && `expires ${k.expiresAt}`, k.lastUsedAt && `last used ${k.lastUsedAt}`, k.name && JSON.stringify(k.name)]
    .filter(Boolean)
    .join('  ');

/** --out is checked before the key exists: a key that cannot be saved would be lost. */
function checkOutFile(file) {
  if (file !== undefined && existsSync(file)) throw new UsageError(`--out ${file} already exists; signet will not overwrite a key file`);
}

/** Shows (or saves) a freshly created private key: the one moment it exists outside your backend. */
function handOver(data, file) {
  const view = { ...data };
  if (data.privateKey === undefined) return { view, text: '' };
  if (file !== undefined) {
    try {
      // 'wx': create only (mode applies), never follow an existing file or symlink.
      writeFileSync(file, `${Buffer.from(data.privateKey, 'base64').toString('utf8').trim()}\n`, { mode: 0o600, flag: 'wx' });
      delete view.privateKey;
      view.privateKeyFile = file;
      return { view, text: `\nprivate key written to ${file} (PEM, mode 0600). signet keeps no copy.` };
    } catch (error) {
      warn(`signet: could not write ${file} (${error.code ?? error.message}); printing the private key instead`);
      process.exitCode = 1;
    }
  }
  warn('signet: this is the only time the private key is shown; signet keeps no copy. Store it in your secrets now.');
  return { view, text: `\nprivateKey (base64 PKCS#8 PEM, as SIGNET_PRIVATE_KEY expects):\n${data.privateKey}` };
}

async function keys(args) {
  const [sub, ...rest] = args;
  if (sub === undefined || sub === '--help' || sub === '-h' || sub === 'help' || sub === '--json') return print(HELP.keys, { help: HELP.keys });
  const spec = {
    create: { algorithm: { type: 'string' }, name: { type: 'string' }, 'expires-at': { type: 'string' }, out: { type: 'string' } },
    list: { limit: { type: 'string' }, offset: { type: 'string' } },
    get: {},
    rotate: { grace: { type: 'string' }, out: { type: 'string' } },
    delete: {},
  }[sub];
  if (!spec) throw new UsageError(`unknown keys subcommand "${sub}" (create, list, get, rotate, delete)`);
  const { values, positionals } = parse(rest, { ...CONNECTION_OPTIONS, ...spec });
  if (values.help) return print(HELP[`keys ${sub}`], { help: HELP[`keys ${sub}`] });
  const takesId = sub === 'get' || sub === 'rotate' || sub === 'delete';
  if (takesId && positionals.length !== 1) throw new UsageError(`keys ${sub} takes one key ID`);
  if (!takesId && positionals.length > 0) throw new UsageError(`keys ${sub} takes no arguments, got "${positionals[0]}"`);
  const id = positionals[0];
  const keyPath = id && `/v1/iam/signing-keys/${encodeURIComponent(id)}`;

  switch (sub) {
    case 'create': {
      oneOf(values.algorithm, ALGORITHMS, '--algorithm');
      if (values['expires-at'] !== undefined && Number.isNaN(Date.parse(values['expires-at']))) throw new UsageError(`--expires-at must be an ISO 8601 time, got "${values['expires-at']}"`);
      checkOutFile(values.out);
      const api = adminClient(values);
      const body = { ...(values.algorithm && { algorithm: values.algorithm }), ...(values.name !== undefined && { name: values.name }), ...(values['expires-at'] && { expiresAt: values['expires-at'] }) };
      const { data } = await api('POST', '/v1/iam/signing-keys', body);
      const { view, text } = handOver(data, values.out);
      const next = view.privateKeyFile ? `signet sign --kid ${data.id} --key-file ${view.privateKeyFile} --playback-id P` : `SIGNET_KEY_ID=${data.id} SIGNET_PRIVATE_KEY=<the key above> signet sign --playback-id P`;
      return print(`created ${describeKey(data)}${text}\n\nsign with: ${next}`, view);
    }
    case 'list': {
      const query = new URLSearchParams();
      if (values.limit !== undefined) query.set('limit', String(positiveInteger(values.limit, '--limit', { max: 100 })));
      if (values.offset !== undefined) query.set('offset', String(positiveInteger(values.offset, '--offset')));
      const json = await adminClient(values)('GET', `/v1/iam/signing-keys${query.size ? `?${query}` : ''}`);
      const { totalRecords, currentOffset, offsetCount } = json.pagination;
      return print(`${json.data.map(describeKey).join('\n') || '(no keys)'}\npage ${currentOffset} of ${Math.max(offsetCount, 1)}, ${totalRecords} key(s)`, { data: json.data, pagination: json.pagination });
    }
    case 'get': {
      const { data } = await adminClient(values)('GET', keyPath);
      return print(`${describeKey(data)}${data.rotatedFrom ? `\nrotated from ${data.rotatedFrom}` : ''}${data.rotatedTo ? `\nrotated to ${data.rotatedTo}` : ''}\n${data.publicKey}`, data);
    }
    case 'rotate': {
      const grace = values.grace === undefined ? undefined : positiveInteger(values.grace, '--grace', { min: 0, max: 30 * 86400 });
      checkOutFile(values.out);
      const { data } = await adminClient(values)('POST', `${keyPath}/rotate`, grace === undefined ? {} : { gracePeriodSeconds: grace });
      const { view, text } = handOver(data, values.out);
      return print(`rotated ${data.rotatedFrom} → ${describeKey(data)}\n${data.rotatedFrom} keeps verifying for ${grace ?? 86400} s; move your backend to the new key before then.${text}`, view);
    }
    case 'delete': {
      const { data } = await adminClient(values)('DELETE', keyPath);
      return print(`deleted ${id}: tokens signed with it stop verifying within about 60 s (KEY_CACHE_TTL_SECONDS + KV propagation)`, { id, ...data });
    }
  }
}

// ---------------------------------------------------------------------------------------------
// sign: local, with the helper the package exports

async function sign(args) {
  const { values, positionals } = parse(args, {
    url: { type: 'string' },
    'playback-id': { type: 'string' },
    kid: { type: 'string' },
    'key-file': { type: 'string' },
    ttl: { type: 'string' },
    dialect: { type: 'string' },
    class: { type: 'string' },
    resource: { type: 'string' },
    'base-url': { type: 'string' },
    claim: { type: 'string', multiple: true },
    algorithm: { type: 'string' },
    'kid-location': { type: 'string' },
    'token-param': { type: 'string' },
  });
  if (values.help) return print(HELP.sign, { help: HELP.sign });
  if (positionals.length > 1 || (positionals.length === 1 && values['playback-id'] !== undefined)) throw new UsageError('sign takes one playback ID');
  const playbackId = values['playback-id'] ?? positionals[0];
  const keyId = values.kid ?? process.env.SIGNET_KEY_ID;
  if (!playbackId) throw new UsageError('a playback ID is required: --playback-id P');
  if (!keyId) throw new UsageError('a key id is required: --kid KEY_ID or SIGNET_KEY_ID');
  const dialect = oneOf(values.dialect, DIALECTS, '--dialect') ?? 'fastpix';
  oneOf(values.class, RESOURCE_CLASSES, '--class');
  // A class without a resource: the URL points at that class's usual resource.
  const resource = values.resource ?? { v: 'hls', t: 'thumbnail.jpg', g: 'animated.gif', s: 'storyboard.vtt' }[values.class ?? 'v'];
  const urlClass = resourceClassFor(resource);
  if (dialect === 'fastpix' && values.class !== undefined) throw new UsageError('--class applies to --dialect mux; a fastpix token opens every resource of the asset');
  const resourceClass = dialect === 'mux' ? (values.class ?? urlClass) : undefined;
  if (resourceClass !== undefined && resourceClass !== urlClass) warn(`signet: warning: the token opens class "${resourceClass}" but the URL's resource (${resource}) is class "${urlClass}": the gate will answer 403 audience_mismatch`);
  const expiresIn = values.ttl === undefined ? 3600 : duration(values.ttl, '--ttl');
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
  const privateKey = values['key-file'] !== undefined ? readText(values['key-file'], '--key-file') : process.env.SIGNET_PRIVATE_KEY;
  if (!privateKey) throw new UsageError('a private key is required: --key-file FILE or SIGNET_PRIVATE_KEY');
  const baseUrl = values['base-url'] ?? values.url ?? process.env.SIGNET_URL ?? DEFAULT_URL;
  httpUrl(baseUrl, '--base-url');
  const nowMs = Date.now();
  let token;
  let url;
  try {
    token = await signPlaybackToken({
      privateKey,
      keyId,
      playbackId,
      dialect,
      resourceClass,
      expiresIn,
      claims,
      algorithm: oneOf(values.algorithm, ALGORITHMS, '--algorithm'),
      kidLocation: oneOf(values['kid-location'], KID_LOCATIONS, '--kid-location'),
      now: nowMs,
    });
    url = playbackUrl({ baseUrl, playbackId, token, resource, tokenParam: values['token-param'] });
  } catch (error) {
    // Bad input (a wrong key file included): the command line must change.
    if (error instanceof SigningError) throw new UsageError(`${error.message} [${error.code}]`);
    throw error;
  }
  const expiresAt = new Date((Math.floor(nowMs / 1000) + Math.ceil(expiresIn)) * 1000).toISOString();
  const opens = dialect === 'fastpix' ? `every resource of ${playbackId}` : `class "${resourceClass}" of ${playbackId}`;
  return print(`token:   ${token}\nurl:     ${url}\nopens:   ${opens} (${dialect} dialect)\nexpires: ${expiresAt}`, {
    token,
    url,
    playbackId,
    dialect,
    ...(resourceClass && { resourceClass }),
    kid: keyId,
    expiresAt,
  });
}

// ---------------------------------------------------------------------------------------------
// inspect / verify: offline, against a JWKS

async function readStdin() {
  if (process.stdin.isTTY) throw new UsageError('no token given (pass it as an argument, or "-" to read it from stdin)');
  let text = '';
  for await (const chunk of process.stdin) text += chunk;
  return text.trim();
}

/** A token, or a playback URL carrying one: then the playback ID and class come from its path. */
function target(input, tokenParam) {
  if (!/^https?:\/\//i.test(input)) return { token: input };
  const url = new URL(input);
  const tokens = url.searchParams.getAll(tokenParam);
  if (tokens.length !== 1) throw new UsageError(`the URL must carry exactly one "${tokenParam}" parameter (found ${tokens.length})`);
  const match = /^\/([A-Za-z0-9_-]{1,128})(?:\.(?:m3u8|mpd)|\/(.+))$/.exec(url.pathname);
  return { token: tokens[0], playbackId: match?.[1], resourceClass: match ? resourceClassFor(match[2] ?? 'hls') : undefined, resource: match ? (match[2] ?? url.pathname.slice(1)) : undefined };
}

async function loadJwks(values) {
  let text;
  let source;
  if (values['jwks-file'] !== undefined) {
    source = values['jwks-file'];
    text = readText(source, '--jwks-file');
  } else if (values.jwks !== undefined) {
    source = httpUrl(values.jwks, '--jwks').href;
    let response;
    try {
      response = await fetch(source, { redirect: 'follow', signal: AbortSignal.timeout(HTTP_TIMEOUT_MS) });
    } catch (error) {
      throw new CommandError(`cannot fetch ${source}: ${netError(error)}`, { kind: 'network' });
    }
    if (!response.ok) throw new CommandError(`cannot fetch ${source}: HTTP ${response.status}`, { kind: 'jwks', status: response.status });
    text = await response.text();
  } else return undefined;
  let jwks;
  try {
    jwks = JSON.parse(text);
  } catch {
    throw new CommandError(`${source} is not JSON`, { kind: 'jwks' });
  }
  // A single JWK is accepted as a one-key set.
  if (jwks && typeof jwks === 'object' && !Array.isArray(jwks.keys) && typeof jwks.kty === 'string') jwks = { keys: [jwks] };
  if (!jwks || !Array.isArray(jwks.keys)) throw new CommandError(`${source} is not a JWKS ({"keys": [...]})`, { kind: 'jwks' });
  return { jwks, source };
}

const STATUS_OF = { token_too_large: 400 };

async function inspect(args, command) {
  const { values, positionals } = parse(args, {
    jwks: { type: 'string' },
    'jwks-file': { type: 'string' },
    'playback-id': { type: 'string' },
    class: { type: 'string' },
    resource: { type: 'string' },
    skew: { type: 'string' },
    issuer: { type: 'string' },
    'max-lifetime': { type: 'string' },
    'token-param': { type: 'string' },
  });
  if (values.help) return print(HELP[command], { help: HELP[command] });
  if (values.jwks !== undefined && values['jwks-file'] !== undefined) throw new UsageError('give --jwks or --jwks-file, not both');
  if (command === 'verify' && values.jwks === undefined && values['jwks-file'] === undefined) throw new UsageError('verify needs --jwks URL or --jwks-file FILE (inspect decodes without)');
  if (positionals.length > 1) throw new UsageError(`${command} takes one token or URL`);
  if (values.class !== undefined && values.resource !== undefined) throw new UsageError('give --class or --resource, not both');
  oneOf(values.class, RESOURCE_CLASSES, '--class');
  const input = positionals[0] === undefined || positionals[0] === '-' ? await readStdin() : positionals[0];
  if (!input) throw new UsageError('the token is empty');
  const fromUrl = target(input, values['token-param'] ?? 'token');
  const playbackId = values['playback-id'] ?? fromUrl.playbackId;
  const resourceClass = values.class ?? (values.resource !== undefined ? resourceClassFor(values.resource) : fromUrl.resourceClass) ?? 'v';
  const skew = values.skew === undefined ? 30 : positiveInteger(values.skew, '--skew', { min: 0 });
  const maxLifetime = values['max-lifetime'] === undefined ? 0 : positiveInteger(values['max-lifetime'], '--max-lifetime', { min: 0 });
  const loaded = await loadJwks(values);

  const report = await inspectPlaybackToken(fromUrl.token, {
    jwks: loaded?.jwks,
    playbackId,
    resourceClass,
    clockSkewSeconds: skew,
    issuer: values.issuer ?? '',
    maxTokenLifetimeSeconds: maxLifetime,
  });
  const mark = { pass: '✓', fail: '✗', skip: '–' };
  const lines = report.checks.map((c) => `${mark[c.status]} ${c.name.padEnd(16)} ${c.detail}${c.reason ? `  [${c.reason}]` : ''}`);
  const unchecked = report.checks.some((c) => c.name === 'signature' && c.status === 'skip');
  const verdict = !report.ok
    ? `REFUSED: the gate would answer ${STATUS_OF[report.reason] ?? 403} ${report.reason}`
    : unchecked
      ? 'DECODED: no check failed, but the signature was not checked (give --jwks or --jwks-file)'
      : `OK: the gate would accept this token${playbackId ? ` for ${playbackId} (class ${resourceClass})` : ''}`;
  const target_ = playbackId ? `\ntarget:  ${playbackId}, class ${resourceClass}${fromUrl.resource ? ` (${fromUrl.resource})` : ''}` : '';
  print(
    `header:  ${JSON.stringify(report.header)}\npayload: ${JSON.stringify(report.payload)}${target_}${loaded ? `\njwks:    ${loaded.source}` : ''}\n\n${lines.join('\n')}\n\n${verdict}`,
    { ...report, ...(playbackId && { playbackId, resourceClass }), signatureChecked: !unchecked },
  );
  if (!report.ok) process.exitCode = 1;
}

// ---------------------------------------------------------------------------------------------

async function main() {
  const [command, ...rest] = argv.filter((arg, i) => !(i === 0 && arg === '--json'));
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') return print(HELP.main, { help: HELP.main });
  if (command === '--version' || command === '-v') {
    const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
    return print(version, { version });
  }
  switch (command) {
    case 'keys':
      return keys(rest);
    case 'sign':
      return sign(rest);
    case 'inspect':
    case 'verify':
      return inspect(rest, command);
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

main().catch((error) => {
  const usage = error instanceof UsageError;
  const known = usage || error instanceof CommandError;
  const message = known ? error.message : `unexpected error: ${error?.stack ?? error}`;
  if (wantsJson) process.stderr.write(`${JSON.stringify({ ok: false, error: { kind: usage ? 'usage' : 'failure', message, ...(error.facts ?? {}) } })}\n`);
  else process.stderr.write(`signet: ${message}${usage ? '\nRun "signet --help" (or "signet <command> --help") for usage.' : ''}\n`);
  process.exitCode = usage ? 2 : 1;
});
