/**
 * The CLI as built (src/cli, bundled into build/node by npm's `prepare`; bin/signet.mjs launches it),
 * run as `node bin/signet.mjs` in a child process, against the real worker
 * under Miniflare: keys create → sign → play through the gate → inspect against the worker's JWKS →
 * rotate → delete → inspect refuses, with the reason; climit tokens and a viewer's sessions (issue 16).
 * Plus help, usage errors and exit codes.
 */
import { spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { playbackUrl, signPlaybackToken } from '../../src/sign/index.js';
import { ADMIN, startWorker, type RunningWorker } from './worker';

const ROOT = resolve(import.meta.dirname, '../..');
const CLI = join(ROOT, 'bin/signet.mjs');
const scratch = mkdtempSync(join(tmpdir(), 'signet-cli-'));
let worker: RunningWorker;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI asynchronously (the loopback origin lives in this process: never block its event loop). */
function cli(args: string[], { env = {}, stdin }: { env?: Record<string, string | undefined>; stdin?: string } = {}): Promise<Run> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('SIGNET_')));
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd: scratch,
    env: { ...clean, SIGNET_URL: worker?.url, SIGNET_ADMIN_ID: ADMIN.id, SIGNET_ADMIN_SECRET: ADMIN.secret, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  child.stdin.end(stdin ?? '');
  return new Promise((done) => child.on('close', (code) => done({ code, stdout, stderr })));
}

const json = <T>(run: Run): T => {
  expect(run.code, run.stderr).toBe(0);
  return JSON.parse(run.stdout) as T;
};
/** A loopback port nothing listens on. */
function closedPort(): Promise<number> {
  return new Promise((done) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => done(port));
    });
  });
}
const jwksUrl = () => `${worker.url}/.well-known/jwks.json`;

beforeAll(async () => {
  worker = await startWorker();
}, 60_000);

afterAll(async () => {
  await worker?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

describe('signet CLI: help and usage', () => {
  it('answers --help on every command and subcommand, exit 0', async () => {
    const helps = [[], ['--help'], ['-h'], ['keys'], ['keys', '--help'], ['sign', '--help'], ['inspect', '--help'], ['verify', '--help']];
    for (const sub of ['create', 'list', 'get', 'rotate', 'delete']) helps.push(['keys', sub, '--help']);
    helps.push(['sessions'], ['sessions', '--help'], ['sessions', 'list', '--help'], ['sessions', 'end', '--help']);
    const runs = await Promise.all(helps.map((args) => cli(args, { env: { SIGNET_ADMIN_ID: undefined, SIGNET_ADMIN_SECRET: undefined } })));
    runs.forEach((run, i) => {
      expect(run.code, helps[i]!.join(' ')).toBe(0);
      expect(run.stdout, helps[i]!.join(' ')).toMatch(/Usage: signet/);
    });
    expect(runs[helps.findIndex((args) => args[1] === 'rotate')]!.stdout).toMatch(/--grace SECONDS/); // each subcommand has its own help
  });

  it("takes its numbers from the gate's configuration and its statuses from the reason table", async () => {
    const { LIMITS, DEFAULTS, SESSION_LIMITS } = (await import(new URL('../../src/config.ts', import.meta.url).pathname)) as typeof import('../../src/config');
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    const [rotate, list, inspectHelp, version, tooLarge, signHelp, endHelp] = await Promise.all([
      cli(['keys', 'rotate', '--help']),
      cli(['keys', 'list', '--help']),
      cli(['inspect', '--help']),
      cli(['--version']),
      cli(['inspect', `${'a'.repeat(LIMITS.maxTokenBytes)}.b.c`, '--json']),
      cli(['sign', '--help']),
      cli(['sessions', 'end', '--help']),
    ]);
    expect(rotate.stdout).toContain(`(default ${LIMITS.defaultGraceSeconds}, at most ${LIMITS.maxGraceSeconds / 86_400} days)`);
    expect(signHelp.stdout).toContain(`--climit N            at most N playback sessions of the viewer at once (${SESSION_LIMITS.minClimit}-${SESSION_LIMITS.maxClimit})`);
    expect(signHelp.stdout).toContain(`--viewer-claim NAME   the gate's VIEWER_CLAIM (default ${DEFAULTS.VIEWER_CLAIM})`);
    expect(endHelp.stdout).toContain(`within SESSION_RENEW_SECONDS (default ${DEFAULTS.SESSION_RENEW_SECONDS} s)`);
    expect(list.stdout).toContain(`[--limit 1-${LIMITS.maxPageLimit}]`);
    expect(inspectHelp.stdout).toContain(`CLOCK_SKEW_SECONDS (default ${DEFAULTS.CLOCK_SKEW_SECONDS})`);
    expect(version.stdout.trim()).toBe(pkg.version);
    // token_too_large is a 400 at the gate (src/errors.ts), not the 403 of the other token reasons
    expect(tooLarge.code).toBe(1);
    const report = JSON.parse(tooLarge.stdout) as { checks: Array<{ name: string; status: string }> };
    expect(report).toMatchObject({ ok: false, reason: 'token_too_large', status: 400 });
    expect(report.checks[0]).toMatchObject({ name: 'jws', status: 'fail' });
    // more than the grace limit is a usage error
    const tooLong = await cli(['keys', 'rotate', 'k', '--grace', String(LIMITS.maxGraceSeconds + 1)]);
    expect(tooLong.code).toBe(2);
    expect(tooLong.stderr).toContain(`--grace must be a whole number from 0 to ${LIMITS.maxGraceSeconds}`);
  });

  it('exits 2 on usage errors, saying what is wrong', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['frobnicate'], /unknown command "frobnicate"/],
      [['keys', 'frob'], /unknown keys subcommand/],
      [['keys', 'list', '--bogus'], /Unknown option '--bogus'/],
      [['keys', 'get'], /takes one key ID/],
      [['keys', 'create', '--algorithm', 'HS256'], /--algorithm must be one of RS256, ES256, EdDSA/],
      [['keys', 'list', '--limit', '500'], /--limit must be a whole number from 1 to 100/],
      [['sign', '--kid', 'k'], /playback ID is required/],
      [['sign', 'demo', '--kid', 'k'], /private key is required/],
      [['sign', 'demo', '--kid', 'k', '--key-file', 'nope.pem'], /cannot read nope.pem \(ENOENT\)/],
      [['sign', 'demo', '--kid', 'k', '--ttl', '0'], /--ttl must be a positive duration/],
      [['sign', 'demo', '--kid', 'k', '--class', 't'], /--class applies to --dialect mux/],
      [['sign', 'demo', '--kid', 'k', '--dialect', 'cloudflare'], /--dialect must be one of fastpix, mux/],
      [['verify', 'a.b.c'], /verify needs --jwks/],
      [['sign', 'demo', '--kid', 'k', '--climit', '0'], /--climit must be a whole number from 1 to 100, got "0"/],
      [['sign', 'demo', '--kid', 'k', '--climit', '2.5'], /--climit must be a whole number from 1 to 100/],
      [['sign', 'demo', '--kid', 'k', '--climit', '2', '--climit-policy', 'evict-newest'], /--climit-policy must be one of refuse, evict-oldest/],
      [['sign', 'demo', '--kid', 'k', '--climit-policy', 'evict-oldest'], /--climit-policy applies to a token with --climit/],
      [['sign', 'demo', '--kid', 'k', '--viewer', 'ada', '--claim', 'sub=bob'], /--viewer sets the "sub" claim, which a --claim sets too/],
      [['sessions', 'frob'], /unknown sessions subcommand "frob" \(list, end\)/],
      [['sessions', 'list'], /sessions list takes VIEWER/],
      [['sessions', 'end', 'ada'], /sessions end takes VIEWER ID/],
      [['sessions', 'list', 'ada', '--bogus'], /Unknown option '--bogus'/],
      [['inspect', 'a.b.c', '--class', 'x'], /--class must be one of v, t, g, s/],
    ];
    const runs = await Promise.all(cases.map(([args]) => cli(args)));
    runs.forEach((run, i) => {
      expect(run.code, cases[i]![0].join(' ')).toBe(2);
      expect(run.stderr, cases[i]![0].join(' ')).toMatch(cases[i]![1]);
      expect(run.stdout).toBe('');
    });
  });

  it('exits 1 on API failures, with the API reason, and reports errors as JSON under --json', async () => {
    const denied = await cli(['keys', 'list'], { env: { SIGNET_ADMIN_SECRET: 'wrong' } });
    expect(denied.code).toBe(1);
    expect(denied.stderr).toMatch(/401 unauthorized: .*check SIGNET_ADMIN_ID/);
    const missing = await cli(['keys', 'get', 'no-such-key', '--json']);
    expect(missing.code).toBe(1);
    expect(JSON.parse(missing.stderr)).toMatchObject({ ok: false, error: { kind: 'api', status: 404, reason: 'not_found' } });
    const port = await closedPort();
    const down = await cli(['keys', 'list', '--url', `http://127.0.0.1:${port}`]);
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(new RegExp(`cannot reach http://127\\.0\\.0\\.1:${port}: ECONNREFUSED \\(is the worker running`));
  });
});

describe('signet CLI against the worker', () => {
  it('walks a key through its life: create → sign → play → inspect → rotate → delete → inspect refuses', async () => {
    // create, private key to a 0600 file, never printed
    const keyFile = join(scratch, 'web-key.pem');
    const created = await cli(['keys', 'create', '--algorithm', 'ES256', '--name', 'web', '--out', keyFile, '--json']);
    const key = json<{ id: string; algorithm: string; privateKey?: string; privateKeyFile: string }>(created);
    expect(key).toMatchObject({ algorithm: 'ES256', privateKeyFile: keyFile });
    expect(key.privateKey).toBeUndefined();
    expect(created.stderr).not.toMatch(/PRIVATE|LS0t/);
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    expect(readFileSync(keyFile, 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    // --out never overwrites (and creates no key it could not save)
    const again = await cli(['keys', 'create', '--out', keyFile]);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/already exists/);

    const listed = await cli(['keys', 'list']);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(new RegExp(`${key.id}  ES256  active .*"web"`));
    expect(listed.stdout).toMatch(/1 key\(s\)/);
    const detail = json<{ id: string; publicKey: string; jwk: { kid?: string } }>(await cli(['keys', 'get', key.id, '--json']));
    expect(detail.publicKey).toMatch(/BEGIN PUBLIC KEY/);

    // sign → a URL the gate serves
    const signed = await cli(['sign', 'demo', '--kid', key.id, '--key-file', keyFile, '--ttl', '10m']);
    expect(signed.code, signed.stderr).toBe(0);
    const token = /^token: +(\S+)$/m.exec(signed.stdout)![1]!;
    const url = /^url: +(\S+)$/m.exec(signed.stdout)![1]!;
    expect(url).toBe(`${worker.url}/demo.m3u8?token=${token}`);
    expect(signed.stdout).not.toContain(readFileSync(keyFile, 'utf8').split('\n')[1]!);
    const played = await fetch(url);
    expect(played.status).toBe(200);
    expect(await played.text()).toMatch(/^#EXTM3U/);

    // inspect against the worker's JWKS: every check passes and says why
    const good = await cli(['verify', token, '--jwks', jwksUrl(), '--playback-id', 'demo']);
    expect(good.code, good.stdout).toBe(0);
    for (const line of [/✓ jws +compact JWS, \d+ bytes, alg ES256/, new RegExp(`✓ key +${key.id}: ES256`), /✓ signature +verifies/, /✓ claims +valid until/, /✓ binding +FastPix dialect/, /OK: the gate would accept this token for demo/]) {
      expect(good.stdout).toMatch(line);
    }
    // a playback URL works as input too: token, playback ID and class are read from it
    const fromUrl = json<{ ok: boolean; playbackId: string; resourceClass: string }>(await cli(['inspect', url, '--jwks', jwksUrl(), '--json']));
    expect(fromUrl).toMatchObject({ ok: true, playbackId: 'demo', resourceClass: 'v' });
    // and stdin, so tokens need not sit in argv or shell history
    expect((await cli(['verify', '-', '--jwks', jwksUrl()], { stdin: `${token}\n` })).code).toBe(0);
    // the wrong asset: exit 1 and the reason the gate gives
    const wrongAsset = await cli(['verify', token, '--jwks', jwksUrl(), '--playback-id', 'other']);
    expect(wrongAsset.code).toBe(1);
    expect(wrongAsset.stdout).toMatch(/✗ binding +The token was issued for another playback ID, not other\. +\[playback_id_mismatch\]/);
    expect(wrongAsset.stdout).toMatch(/REFUSED: the gate would answer 403 playback_id_mismatch/);
    expect((await fetch(playbackUrl({ baseUrl: worker.url, playbackId: 'other', token }))).status).toBe(403);

    // rotate: the new private key is printed once, with a warning; the old key still verifies (grace)
    const rotated = await cli(['keys', 'rotate', key.id, '--grace', '3600']);
    expect(rotated.code, rotated.stderr).toBe(0);
    expect(rotated.stdout).toMatch(new RegExp(`rotated ${key.id} → \\S+  ES256  active`));
    expect(rotated.stdout).toMatch(/privateKey \(base64 PKCS#8 PEM.*\):\nLS0t/);
    expect(rotated.stderr).toMatch(/only time the private key is shown/);
    const newId = /→ (\S+)/.exec(rotated.stdout)![1]!;
    const newKey = /\n(LS0t\S+)/.exec(rotated.stdout)![1]!;
    expect((await cli(['keys', 'list'])).stdout).toMatch(new RegExp(`${key.id}  ES256  retiring`));
    expect((await fetch(url)).status).toBe(200);
    const fresh = json<{ url: string }>(await cli(['sign', '--playback-id', 'demo', '--kid', newId, '--json'], { env: { SIGNET_PRIVATE_KEY: newKey } }));
    expect((await fetch(fresh.url)).status).toBe(200);

    // delete the old key: its tokens stop, and inspect says why
    const deleted = await cli(['keys', 'delete', key.id]);
    expect(deleted.code).toBe(0);
    expect(deleted.stdout).toMatch(new RegExp(`deleted ${key.id}`));
    const gone = await cli(['verify', token, '--jwks', jwksUrl(), '--playback-id', 'demo']);
    expect(gone.code).toBe(1);
    expect(gone.stdout).toMatch(new RegExp(`✗ key +no key with kid ${key.id} in the JWKS .*\\[key_unknown\\]`));
    expect(gone.stdout).toMatch(/REFUSED: the gate would answer 403 key_unknown/);
    const refused = await fetch(url);
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { error: { reason: string } }).error.reason).toBe('key_unknown');
    expect((await cli(['keys', 'get', key.id])).code).toBe(1);
  });

  it('prints a created private key once, with a warning, and inspect explains a tampered and an expired token', async () => {
    const created = await cli(['keys', 'create', '--algorithm', 'EdDSA']);
    expect(created.code).toBe(0);
    expect(created.stderr).toMatch(/only time the private key is shown/);
    const id = /^created (\S+)/.exec(created.stdout)![1]!;
    const privateKey = /\n(LS0t\S+)/.exec(created.stdout)![1]!;

    const token = await signPlaybackToken({ privateKey, keyId: id, playbackId: 'demo' });
    const [h, p, s] = token.split('.');
    const tampered = `${h}.${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p!, 'base64url').toString()), aud: 'media:premium' })).toString('base64url')}.${s}`;
    const forged = await cli(['verify', tampered, '--jwks', jwksUrl(), '--playback-id', 'premium', '--json']);
    expect(forged.code).toBe(1);
    expect(JSON.parse(forged.stdout)).toMatchObject({ ok: false, reason: 'signature_invalid', signatureChecked: true });
    expect((await fetch(playbackUrl({ baseUrl: worker.url, playbackId: 'premium', token: tampered }))).status).toBe(403);

    const old = await signPlaybackToken({ privateKey, keyId: id, playbackId: 'demo', expiresIn: 60, now: Date.now() - 3_600_000 });
    const expired = await cli(['verify', old, '--jwks', jwksUrl()]);
    expect(expired.code).toBe(1);
    expect(expired.stdout).toMatch(/✗ claims +The token expired at \S+\. +\[token_expired\]/);
    // the checks that do not read the expiry still run, and say so
    expect(expired.stdout).toMatch(/✓ signature +verifies/);
    expect(expired.stdout).toMatch(/REFUSED: the gate would answer 403 token_expired/);

    // a JWKS file works like a URL; inspect without a JWKS decodes and says the signature is unchecked
    const jwksFile = join(scratch, 'jwks.json');
    writeFileSync(jwksFile, await (await fetch(jwksUrl())).text());
    expect((await cli(['verify', token, '--jwks-file', jwksFile])).code).toBe(0);
    const decoded = await cli(['inspect', token]);
    expect(decoded.code).toBe(0);
    expect(decoded.stdout).toMatch(/– signature +not checked/);
    expect(decoded.stdout).toMatch(/DECODED: no check failed, but the signature was not checked/);
  });

  it('the signing helper makes Mux-dialect thumbnail tokens (aud t) the gate accepts for thumbnails only', async () => {
    const { id, privateKey } = json<{ id: string; privateKey: string }>(await cli(['keys', 'create', '--algorithm', 'RS256', '--json']));
    const token = await signPlaybackToken({ privateKey, keyId: id, playbackId: 'demo', dialect: 'mux', resourceClass: 't', expiresIn: 120 });
    const thumbnail = await fetch(playbackUrl({ baseUrl: worker.url, playbackId: 'demo', token, resource: 'thumbnail.jpg' }));
    expect(thumbnail.status).toBe(200);
    const playlist = await fetch(playbackUrl({ baseUrl: worker.url, playbackId: 'demo', token }));
    expect(playlist.status).toBe(403);
    expect(((await playlist.json()) as { error: { reason: string } }).error.reason).toBe('audience_mismatch');

    // the CLI derives the class from --resource, and inspect reads it back from the URL
    const keyFile = join(scratch, 'rs.pem');
    writeFileSync(keyFile, privateKey, { mode: 0o600 });
    const signed = json<{ url: string; resourceClass: string }>(await cli(['sign', 'demo', '--kid', id, '--key-file', keyFile, '--dialect', 'mux', '--resource', 'thumbnail.jpg', '--json']));
    expect(signed.resourceClass).toBe('t');
    expect((await fetch(signed.url)).status).toBe(200);
    const checked = json<{ ok: boolean; resourceClass: string }>(await cli(['verify', signed.url, '--jwks', jwksUrl(), '--json']));
    expect(checked).toMatchObject({ ok: true, resourceClass: 't' });
    const asVideo = await cli(['verify', signed.url, '--jwks', jwksUrl(), '--class', 'v']);
    expect(asVideo.code).toBe(1);
    expect(asVideo.stdout).toMatch(/\[audience_mismatch\]/);
  });

  it('signs climit tokens for one viewer: two play, the third is refused; sessions list shows them, end ends one', async () => {
    const keyFile = join(scratch, 'climit-key.pem');
    const { id } = json<{ id: string }>(await cli(['keys', 'create', '--algorithm', 'ES256', '--out', keyFile, '--json']));
    // A viewer that only survives the path percent-encoded: a slash, a hash, an at sign.
    const viewer = 'team/ada#1@example.com';
    type Signed = { url: string; token: string; climit: number; climitPolicy: string; viewerClaim: string; viewer: string };
    const signScreen = async (jti: string) => json<Signed>(await cli(['sign', 'demo', '--kid', id, '--key-file', keyFile, '--climit', '2', '--viewer', viewer, '--claim', `jti=${jti}`, '--json']));
    const [a, b, c] = await Promise.all([signScreen('screen-a'), signScreen('screen-b'), signScreen('screen-c')]);
    expect(a).toMatchObject({ climit: 2, climitPolicy: 'refuse', viewerClaim: 'sub', viewer });
    expect(JSON.parse(Buffer.from(a.token.split('.')[1]!, 'base64url').toString())).toMatchObject({ sub: viewer, climit: 2, jti: 'screen-a' });
    const human = await cli(['sign', 'demo', '--kid', id, '--key-file', keyFile, '--climit', '3', '--climit-policy', 'evict-oldest', '--viewer', 'bob']);
    expect(human.stdout).toMatch(/^limit: +3 streams at once for viewer "bob" \(claim sub\), the oldest ended beyond it$/m);

    const reasonOf = async (response: Response) => ((await response.json()) as { error: { reason: string; description: string } }).error;
    expect((await fetch(a.url)).status).toBe(200);
    expect((await fetch(b.url)).status).toBe(200);
    const third = await fetch(c.url);
    expect(third.status).toBe(403);
    const refusal = await reasonOf(third);
    expect(refusal.reason).toBe('stream_limit_reached');
    expect(refusal.description).toMatch(/already plays 2 streams/);

    const listed = json<{ viewer: string; data: Array<{ id: string; playbackId: string }> }>(await cli(['sessions', 'list', viewer, '--json']));
    expect(listed.viewer).toBe(viewer);
    expect(listed.data.map((s) => [s.id, s.playbackId])).toEqual([
      ['screen-a', 'demo'],
      ['screen-b', 'demo'],
    ]);
    const text = await cli(['sessions', 'list', viewer]);
    expect(text.stdout).toMatch(/^screen-a  demo  started \S+  last seen \S+  lease ends \S+/m);
    expect(text.stdout).toMatch(/2 active sessions of "team\/ada#1@example.com"/);
    expect((await cli(['sessions', 'list', 'nobody'])).stdout).toMatch(/\(no active sessions\)\n0 active sessions of "nobody"/);

    // end one: its token cannot start it again, and the freed screen admits the third
    const ended = await cli(['sessions', 'end', viewer, 'screen-a']);
    expect(ended.code, ended.stderr).toBe(0);
    expect(ended.stdout).toMatch(/^ended session screen-a of "team\/ada#1@example.com"/);
    expect(await reasonOf(await fetch(a.url))).toMatchObject({ reason: 'session_ended' });
    expect((await fetch(c.url)).status).toBe(200);
    expect(json<{ data: Array<{ id: string }> }>(await cli(['sessions', 'list', viewer, '--json'])).data.map((s) => s.id)).toEqual(['screen-b', 'screen-c']);
    // ending it again: exit 1 with the API's reason
    const again = await cli(['sessions', 'end', viewer, 'screen-a', '--json']);
    expect(again.code).toBe(1);
    expect(JSON.parse(again.stderr)).toMatchObject({ ok: false, error: { kind: 'api', status: 404, reason: 'not_found' } });
  });

  it('refuses, as a usage error, a climit token the gate would refuse for its viewer', async () => {
    const keyFile = join(scratch, 'usage-key.pem');
    writeFileSync(keyFile, generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, { mode: 0o600 });
    const cases: Array<[string[], RegExp]> = [
      [['--climit', '2'], /must name its viewer in the "sub" claim.*\[ERR_SIGN_CLIMIT\]/],
      [['--climit', '2', '--viewer-claim', 'uid', '--claim', 'sub=ada'], /must name its viewer in the "uid" claim.*\[ERR_SIGN_CLIMIT\]/],
      [['--climit', '2', '--dialect', 'mux'], /viewerClaim "sub" is the playback ID in the mux dialect.*\[ERR_SIGN_CLIMIT\]/],
      [['--climit', '2', '--dialect', 'mux', '--viewer', 'ada'], /claims must not set "sub".*mux dialect.*\[ERR_SIGN_RESERVED_CLAIM\]/],
    ];
    const runs = await Promise.all(cases.map(([args]) => cli(['sign', 'demo', '--kid', 'k1', '--key-file', keyFile, ...args])));
    runs.forEach((run, i) => {
      expect(run.code, cases[i]![0].join(' ')).toBe(2);
      expect(run.stderr, cases[i]![0].join(' ')).toMatch(cases[i]![1]);
    });
    // Mux with the viewer in uid (a gate deployed with VIEWER_CLAIM = "uid")
    const mux = json<{ token: string; viewerClaim: string; viewer: string }>(
      await cli(['sign', 'demo', '--kid', 'k1', '--key-file', keyFile, '--dialect', 'mux', '--climit', '2', '--viewer-claim', 'uid', '--viewer', 'ada', '--json']),
    );
    expect(mux).toMatchObject({ viewerClaim: 'uid', viewer: 'ada' });
    expect(JSON.parse(Buffer.from(mux.token.split('.')[1]!, 'base64url').toString())).toMatchObject({ sub: 'demo', aud: 'v', uid: 'ada', climit: 2 });
  });

  it('never writes a key file it was not asked for', () => {
    expect(existsSync(join(scratch, 'signet-private-key.pem'))).toBe(false);
    expect(readFileSync(CLI, 'utf8')).toMatch(/^#!\/usr\/bin\/env node\n/);
    expect(statSync(CLI).mode & 0o111).not.toBe(0);
  });
});
