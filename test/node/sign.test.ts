/**
 * The signing helper (src/sign/index.ts; built into build/node by npm's `prepare`) in Node: the tokens it makes pass the gate's own
 * verification code (src/token/verify.ts, run here in Node), its errors carry stable codes, and
 * playbackUrl builds the paths the gate serves.
 */
import { exportJWK, exportPKCS8, generateKeyPair, importJWK, decodeJwt, decodeProtectedHeader } from 'jose';
import { build } from 'esbuild';
import { Miniflare } from 'miniflare';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { importSigningKey, playbackUrl, resourceClassFor, SigningError, signPlaybackToken, type Algorithm } from '../../src/sign/index.js';
import { SESSION_LIMITS } from '../../src/config.js';
import { streamLimitOf } from '../../src/sessions/claims.js';
import { existsSync, readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { loadGate, type TokenKey } from './gate';

const { verifyPlaybackToken } = await loadGate();
const ROOT = resolve(import.meta.dirname, '../..');
/** The files package.json exports as `signet/sign` and `signet/sign/inspect`: what a customer imports. */
const EXPORTS = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { exports: Record<string, { types: string; default: string }> }).exports;
const built = (entry: './sign' | './sign/inspect') => join(ROOT, EXPORTS[entry]!.default);

const NOW = Date.UTC(2026, 10, 28, 12, 0, 0); // calendar-safe: signed with `now` and checked by the gate's pure checks at that `now`
const POLICY = { clockSkewSeconds: 30, issuer: '', maxTokenLifetimeSeconds: 0 };
const base64 = (text: string) => Buffer.from(text).toString('base64');

async function keyPair(algorithm: Algorithm) {
  const pair = await generateKeyPair(algorithm, { extractable: true, ...(algorithm === 'EdDSA' && { crv: 'Ed25519' }) });
  const pem = await exportPKCS8(pair.privateKey);
  const publicKey = (await importJWK(await exportJWK(pair.publicKey), algorithm)) as CryptoKey;
  return { pem, adminApiForm: base64(pem), cryptoKey: pair.privateKey, gateKey: { algorithm, key: publicKey, expiresAtMs: undefined } satisfies TokenKey };
}

/** The gate's verification, in Node: parse → key lookup → signature → claims → asset binding. */
function gateAccepts(token: string, kid: string, key: TokenKey, playbackId: string, resourceClass: 'v' | 't' | 'g' | 's', nowMs = NOW) {
  return verifyPlaybackToken(token, async (k) => (k === kid ? key : null), POLICY, nowMs, playbackId, resourceClass);
}

const codeOf = async (promise: Promise<unknown> | (() => unknown)) => {
  try {
    await (typeof promise === 'function' ? promise() : promise);
  } catch (error) {
    expect(error).toBeInstanceOf(SigningError);
    return (error as SigningError).code;
  }
  throw new Error('expected a SigningError');
};

describe('signPlaybackToken', () => {
  for (const algorithm of ['RS256', 'ES256', 'EdDSA'] as const) {
    it(`signs ${algorithm} tokens the gate accepts, detecting the algorithm from the admin API's base64 PEM`, async () => {
      const key = await keyPair(algorithm);
      const token = await signPlaybackToken({ privateKey: key.adminApiForm, keyId: 'k1', playbackId: 'demo', now: NOW });
      expect(decodeProtectedHeader(token)).toEqual({ alg: algorithm, typ: 'JWT' });
      await expect(gateAccepts(token, 'k1', key.gateKey, 'demo', 'v')).resolves.toMatchObject({ kid: 'k1', alg: algorithm });
      await expect(gateAccepts(token, 'k1', key.gateKey, 'demo', 't')).resolves.toBeDefined();
    });
  }

  it('writes the FastPix dialect exactly: {kid, aud: "media:P", iat, exp}', async () => {
    const key = await keyPair('ES256');
    const token = await signPlaybackToken({ privateKey: key.pem, keyId: 'k1', playbackId: 'demo', expiresIn: 600, now: NOW });
    expect(decodeJwt(token)).toEqual({ kid: 'k1', aud: 'media:demo', iat: NOW / 1000, exp: NOW / 1000 + 600 });
  });

  it('writes the Mux dialect exactly: {kid, sub: P, aud: class, exp}, opening that class only', async () => {
    const key = await keyPair('RS256');
    const token = await signPlaybackToken({ privateKey: key.cryptoKey, keyId: 'k1', playbackId: 'demo', dialect: 'mux', resourceClass: 't', expiresIn: 60, now: NOW });
    expect(decodeJwt(token)).toEqual({ kid: 'k1', sub: 'demo', aud: 't', exp: NOW / 1000 + 60 });
    await expect(gateAccepts(token, 'k1', key.gateKey, 'demo', 't')).resolves.toBeDefined();
    await expect(gateAccepts(token, 'k1', key.gateKey, 'demo', 'v')).rejects.toMatchObject({ reason: 'audience_mismatch' });
    await expect(gateAccepts(token, 'k1', key.gateKey, 'other', 't')).rejects.toMatchObject({ reason: 'playback_id_mismatch' });
  });

  it('defaults the Mux class to v and the lifetime to an hour', async () => {
    const key = await keyPair('ES256');
    const token = await signPlaybackToken({ privateKey: key.pem, keyId: 'k1', playbackId: 'demo', dialect: 'mux', now: NOW });
    expect(decodeJwt(token)).toMatchObject({ aud: 'v', exp: NOW / 1000 + 3600 });
  });

  it('puts kid in the header, the payload or both, as asked; the gate reads each', async () => {
    const key = await keyPair('EdDSA');
    for (const kidLocation of ['payload', 'header', 'both'] as const) {
      const token = await signPlaybackToken({ privateKey: key.pem, keyId: 'k1', playbackId: 'demo', kidLocation, now: NOW });
      expect(decodeProtectedHeader(token).kid).toBe(kidLocation === 'payload' ? undefined : 'k1');
      expect(decodeJwt(token).kid).toBe(kidLocation === 'header' ? undefined : 'k1');
      await expect(gateAccepts(token, 'k1', key.gateKey, 'demo', 'v')).resolves.toBeDefined();
    }
  });

  it('expires as the gate counts it: refused once exp + skew has passed', async () => {
    const key = await keyPair('ES256');
    const token = await signPlaybackToken({ privateKey: key.pem, keyId: 'k1', playbackId: 'demo', expiresIn: 60, now: NOW });
    await expect(gateAccepts(token, 'k1', key.gateKey, 'demo', 'v', NOW + 89_000)).resolves.toBeDefined();
    await expect(gateAccepts(token, 'k1', key.gateKey, 'demo', 'v', NOW + 90_000)).rejects.toMatchObject({ reason: 'token_expired' });
  });

  it('carries extra claims and refuses the ones that make the binding or the lifetime', async () => {
    const key = await keyPair('ES256');
    const token = await signPlaybackToken({ privateKey: key.pem, keyId: 'k1', playbackId: 'demo', claims: { jti: 'session-1', groups: ['premium'] }, now: NOW });
    expect(decodeJwt(token)).toMatchObject({ jti: 'session-1', groups: ['premium'] });
    for (const claim of ['exp', 'kid', 'aud', 'iat', 'climit', 'climitPolicy']) {
      expect(await codeOf(signPlaybackToken({ privateKey: key.pem, keyId: 'k1', playbackId: 'demo', claims: { [claim]: 1 } })), claim).toBe('ERR_SIGN_RESERVED_CLAIM');
    }
    // sub is the playback ID in the Mux dialect only; a FastPix token may name its subject (the viewer)
    expect(await codeOf(signPlaybackToken({ privateKey: key.pem, keyId: 'k1', playbackId: 'demo', dialect: 'mux', claims: { sub: 'ada' } }))).toBe('ERR_SIGN_RESERVED_CLAIM');
    const withSubject = await signPlaybackToken({ privateKey: key.pem, keyId: 'k1', playbackId: 'demo', claims: { sub: 'ada' }, now: NOW });
    expect(decodeJwt(withSubject)).toMatchObject({ sub: 'ada', aud: 'media:demo' });
    await expect(gateAccepts(withSubject, 'k1', key.gateKey, 'demo', 'v')).resolves.toBeDefined();
    expect(await codeOf(signPlaybackToken({ privateKey: key.pem, keyId: 'k1', playbackId: 'demo', claims: { padding: 'x'.repeat(9000) } }))).toBe('ERR_SIGN_TOKEN_TOO_LARGE');
  });

  it('refuses bad options with stable codes, naming the option', async () => {
    const { pem } = await keyPair('ES256');
    const ok = { privateKey: pem, keyId: 'k1', playbackId: 'demo' };
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ keyId: '' }, 'ERR_SIGN_KEY_ID'],
      [{ keyId: 'has space' }, 'ERR_SIGN_KEY_ID'],
      [{ keyId: 'k'.repeat(257) }, 'ERR_SIGN_KEY_ID'], // the gate's parser reads kids of at most 256 characters
      [{ claims: { jti: 'j'.repeat(201) } }, 'ERR_SIGN_CLAIMS'], // longer than a revocation can name: the gate refuses it
      [{ claims: { jti: 4242 } }, 'ERR_SIGN_CLAIMS'], // RFC 7519 §4.1.7: a jti is a string
      [{ playbackId: '../etc' }, 'ERR_SIGN_PLAYBACK_ID'],
      [{ dialect: 'cloudflare' }, 'ERR_SIGN_DIALECT'],
      [{ dialect: 'mux', resourceClass: 'x' }, 'ERR_SIGN_RESOURCE_CLASS'],
      [{ resourceClass: 't' }, 'ERR_SIGN_RESOURCE_CLASS'], // fastpix opens every class: a class there is a mistake
      [{ expiresIn: 0 }, 'ERR_SIGN_EXPIRES_IN'],
      [{ expiresIn: -5 }, 'ERR_SIGN_EXPIRES_IN'],
      [{ expiresIn: Number.NaN }, 'ERR_SIGN_EXPIRES_IN'],
      [{ kidLocation: 'query' }, 'ERR_SIGN_KID_LOCATION'],
      [{ claims: ['jti'] }, 'ERR_SIGN_CLAIMS'],
      [{ algorithm: 'HS256' }, 'ERR_SIGN_ALGORITHM'],
      [{ algorithm: 'RS256' }, 'ERR_SIGN_ALGORITHM'], // an ES256 key
    ];
    for (const [patch, code] of cases) {
      expect(await codeOf(signPlaybackToken({ ...ok, ...patch } as never)), JSON.stringify(patch)).toBe(code);
    }
    const error = await signPlaybackToken({ ...ok, expiresIn: 0 }).catch((e: SigningError) => e);
    expect(error).toMatchObject({ name: 'SigningError', option: 'expiresIn' });
  });

  it('explains private keys it cannot use', async () => {
    const pkcs1 = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs1', format: 'pem' }) as string;
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    const spki = generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }) as string;
    for (const [privateKey, pattern] of [
      ['not a key', /PKCS#8 PEM/],
      [pkcs1, /PKCS#1/],
      [p384, /P-256/],
      [spki, /public key/],
      [base64(p384), /P-256/],
    ] as const) {
      const error = await signPlaybackToken({ privateKey, keyId: 'k1', playbackId: 'demo' }).catch((e: SigningError) => e);
      expect(error).toMatchObject({ code: 'ERR_SIGN_PRIVATE_KEY', option: 'privateKey' });
      expect((error as Error).message).toMatch(pattern);
      const body = privateKey.split('\n')[1] ?? privateKey;
      expect((error as Error).message).not.toContain(body.slice(0, 16)); // never echoes key material
    }
  });

  it('accepts a PEM whose newlines an env file turned into "\\n"', async () => {
    const key = await keyPair('ES256');
    const token = await signPlaybackToken({ privateKey: key.pem.replace(/\n/g, '\\n'), keyId: 'k1', playbackId: 'demo', now: NOW });
    await expect(gateAccepts(token, 'k1', key.gateKey, 'demo', 'v')).resolves.toBeDefined();
  });

  it('imports a key once for many signatures', async () => {
    const key = await keyPair('EdDSA');
    const imported = await importSigningKey(key.adminApiForm);
    expect(imported.algorithm).toBe('EdDSA');
    const token = await signPlaybackToken({ privateKey: imported.key, keyId: 'k1', playbackId: 'demo', now: NOW });
    await expect(gateAccepts(token, 'k1', key.gateKey, 'demo', 'v')).resolves.toBeDefined();
    expect(await codeOf(importSigningKey((await keyPair('ES256')).gateKey.key))).toBe('ERR_SIGN_PRIVATE_KEY'); // a public CryptoKey
  });
});

describe('signPlaybackToken: concurrent-stream limits (climit)', () => {
  const limitOf = (token: string, viewerClaim = 'sub') => streamLimitOf(decodeJwt(token) as Record<string, unknown>, viewerClaim);

  it.each<[string, Record<string, unknown>, string, { viewer: string; climit: number; evictOldest: boolean }]>([
    ['FastPix, the viewer in sub', { climit: 2, claims: { sub: 'ada' } }, 'sub', { viewer: 'ada', climit: 2, evictOldest: false }],
    ['the lowest limit', { climit: SESSION_LIMITS.minClimit, claims: { sub: 'ada' } }, 'sub', { viewer: 'ada', climit: SESSION_LIMITS.minClimit, evictOldest: false }],
    ['the highest limit, evict-oldest', { climit: SESSION_LIMITS.maxClimit, climitPolicy: 'evict-oldest', claims: { sub: 'ada' } }, 'sub', { viewer: 'ada', climit: SESSION_LIMITS.maxClimit, evictOldest: true }],
    ['refuse, said explicitly', { climit: 3, climitPolicy: 'refuse', claims: { sub: 'ada' } }, 'sub', { viewer: 'ada', climit: 3, evictOldest: false }],
    ['FastPix, the viewer in uid', { climit: 2, viewerClaim: 'uid', claims: { uid: 'ada@example.com' } }, 'uid', { viewer: 'ada@example.com', climit: 2, evictOldest: false }],
    ['Mux, the viewer in uid', { dialect: 'mux', climit: 2, viewerClaim: 'uid', claims: { uid: 'ada' } }, 'uid', { viewer: 'ada', climit: 2, evictOldest: false }],
  ])('signs a limited token the gate parses and limits: %s', async (_name, patch, viewerClaim, limit) => {
    const key = await keyPair('ES256');
    const token = await signPlaybackToken({ privateKey: key.pem, keyId: 'k1', playbackId: 'demo', now: NOW, ...patch });
    const payload = decodeJwt(token);
    expect(payload.climit).toBe(patch.climit);
    expect(payload.climitPolicy).toBe(patch.climitPolicy);
    expect(limitOf(token, viewerClaim)).toEqual(limit);
    await expect(gateAccepts(token, 'k1', key.gateKey, 'demo', 'v')).resolves.toBeDefined();
  });

  it('writes no climit claims when none is asked for', async () => {
    const key = await keyPair('ES256');
    const token = await signPlaybackToken({ privateKey: key.pem, keyId: 'k1', playbackId: 'demo', viewerClaim: 'uid', now: NOW });
    expect(decodeJwt(token)).not.toHaveProperty('climit');
    expect(decodeJwt(token)).not.toHaveProperty('climitPolicy');
    expect(limitOf(token)).toBeUndefined();
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['a limit of 0', { climit: SESSION_LIMITS.minClimit - 1, claims: { sub: 'ada' } }, 'climit'],
    ['a limit over the most', { climit: SESSION_LIMITS.maxClimit + 1, claims: { sub: 'ada' } }, 'climit'],
    ['a fractional limit', { climit: 1.5, claims: { sub: 'ada' } }, 'climit'],
    ['a limit as a string', { climit: '2', claims: { sub: 'ada' } }, 'climit'],
    ['an unknown policy', { climit: 2, climitPolicy: 'evict-newest', claims: { sub: 'ada' } }, 'climitPolicy'],
    ['a policy without a limit', { climitPolicy: 'evict-oldest', claims: { sub: 'ada' } }, 'climitPolicy'],
    ['no viewer', { climit: 2 }, 'claims'],
    ['an empty viewer', { climit: 2, claims: { sub: '' } }, 'claims'],
    ['a viewer that is no string', { climit: 2, viewerClaim: 'uid', claims: { uid: 42 } }, 'claims'],
    ['a viewer too long for the gate', { climit: 2, claims: { sub: 'v'.repeat(SESSION_LIMITS.maxIdLength + 1) } }, 'claims'],
    ['the viewer in another claim than viewerClaim', { climit: 2, viewerClaim: 'uid', claims: { sub: 'ada' } }, 'claims'],
    ['Mux with the default viewer claim (sub is the playback ID)', { dialect: 'mux', climit: 2, claims: { uid: 'ada' } }, 'viewerClaim'],
    ['a viewer claim set from the options', { climit: 2, viewerClaim: 'aud' }, 'viewerClaim'],
    ['a viewer claim the gate cannot be configured with', { climit: 2, viewerClaim: 'a b', claims: { 'a b': 'ada' } }, 'viewerClaim'],
  ])('refuses %s with ERR_SIGN_CLIMIT, naming the option', async (_name, patch, option) => {
    const key = await keyPair('ES256');
    const error = await signPlaybackToken({ privateKey: key.pem, keyId: 'k1', playbackId: 'demo', now: NOW, ...patch } as never).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SigningError);
    expect(error).toMatchObject({ code: 'ERR_SIGN_CLIMIT', option });
  });

  it("says the gate's reason and rule", async () => {
    const key = await keyPair('ES256');
    const error = (await signPlaybackToken({ privateKey: key.pem, keyId: 'k1', playbackId: 'demo', climit: 2 }).catch((e: unknown) => e)) as SigningError;
    expect(error.message).toBe('The gate would refuse this token as token_malformed: A token with "climit" must name its viewer in the "sub" claim (a string).');
    const range = (await signPlaybackToken({ privateKey: key.pem, keyId: 'k1', playbackId: 'demo', climit: 0, claims: { sub: 'ada' } }).catch((e: unknown) => e)) as SigningError;
    expect(range.message).toContain(`from ${SESSION_LIMITS.minClimit} to ${SESSION_LIMITS.maxClimit}`);
  });
});

describe('the package as built', () => {
  it('exports the built helper and inspector, with generated types, and no hand-written copy', async () => {
    for (const entry of ['./sign', './sign/inspect'] as const) {
      expect(existsSync(built(entry)), `${entry} is built (npm ci runs the prepare script)`).toBe(true);
      expect(existsSync(join(ROOT, EXPORTS[entry]!.types)), `${entry} has generated types`).toBe(true);
    }
    expect(existsSync(join(ROOT, 'src/sign/index.js')) || existsSync(join(ROOT, 'src/sign/index.d.ts'))).toBe(false);
    const helper = (await import(pathToFileURL(built('./sign')).href)) as typeof import('../../src/sign/index');
    expect(Object.keys(helper).sort()).toEqual(['ALGORITHMS', 'CLIMIT_POLICIES', 'DIALECTS', 'KID_LOCATIONS', 'RESOURCE_CLASSES', 'SigningError', 'importSigningKey', 'playbackUrl', 'resourceClassFor', 'signPlaybackToken']);
    const key = await keyPair('ES256');
    const token = await helper.signPlaybackToken({ privateKey: key.adminApiForm, keyId: 'k1', playbackId: 'demo', now: NOW });
    await expect(gateAccepts(token, 'k1', key.gateKey, 'demo', 'v')).resolves.toBeDefined();
    // Typed by hand: the inspector's types reach src/token/verify.ts, typed for Workers, not for this Node typecheck (see ./gate.ts).
    type Report = { ok: boolean; reason?: string; status?: number; signatureChecked: boolean; checks: Array<{ name: string; status: string }> };
    const { inspectPlaybackToken } = (await import(pathToFileURL(built('./sign/inspect')).href)) as { inspectPlaybackToken(token: string, options: object): Promise<Report> };
    const jwk = { ...(await exportJWK(key.gateKey.key)), kid: 'k1', alg: 'ES256' };
    const report = await inspectPlaybackToken(token, { jwks: { keys: [jwk] }, playbackId: 'demo', nowMs: NOW });
    expect(report).toMatchObject({ ok: true, signatureChecked: true });
    expect(report.checks.map((check) => `${check.name}:${check.status}`)).toEqual(['jws:pass', 'payload:pass', 'key:pass', 'signature:pass', 'claims:pass', 'binding:pass', 'revocable:pass']);
    expect(await inspectPlaybackToken(token, { jwks: { keys: [jwk] }, playbackId: 'other', nowMs: NOW })).toMatchObject({ ok: false, reason: 'playback_id_mismatch', status: 403 });
  });
});

describe('the helper in workerd', () => {
  it('signs in a Worker (the exported build, bundled as a customer would, jose only) tokens the gate accepts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'signet-sign-worker-'));
    const entry = join(dir, 'entry.js');
    writeFileSync(
      entry,
      `import { signPlaybackToken, playbackUrl } from ${JSON.stringify(built('./sign'))};
       export default { async fetch(request, env) {
         const token = await signPlaybackToken({ privateKey: env.PRIVATE_KEY, keyId: 'k1', playbackId: 'demo', dialect: 'mux', resourceClass: 'g' });
         return new Response(playbackUrl({ baseUrl: 'https://play.example.com', playbackId: 'demo', token, resource: 'animated.gif' }));
       } };`,
    );
    await build({ entryPoints: [entry], bundle: true, format: 'esm', platform: 'neutral', conditions: ['workerd', 'worker', 'browser'], mainFields: ['module', 'main'], outfile: join(dir, 'worker.js'), logLevel: 'warning' });
    const results: string[] = [];
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    for (const algorithm of ['RS256', 'ES256', 'EdDSA'] as const) {
      const key = await keyPair(algorithm);
      const mf = new Miniflare({ modules: true, modulesRoot: dir, scriptPath: join(dir, 'worker.js'), compatibilityDate: '2026-04-20', bindings: { PRIVATE_KEY: key.adminApiForm } });
      try {
        const url = new URL(await (await mf.dispatchFetch('http://worker/')).text());
        expect(url.pathname).toBe('/demo/animated.gif');
        const token = url.searchParams.get('token')!;
        await expect(gateAccepts(token, 'k1', key.gateKey, 'demo', 'g', Date.now())).resolves.toBeDefined();
        results.push(algorithm);
      } finally {
        await mf.dispose();
      }
    }
    expect(results).toEqual(['RS256', 'ES256', 'EdDSA']);
  });
});

describe('playbackUrl', () => {
  const token = 'aaa.bbb.ccc';
  it('builds the gate paths of SPEC §5', () => {
    expect(playbackUrl({ baseUrl: 'https://play.example.com', playbackId: 'demo', token })).toBe('https://play.example.com/demo.m3u8?token=aaa.bbb.ccc');
    expect(playbackUrl({ baseUrl: 'https://play.example.com/', playbackId: 'demo', token, resource: 'dash' })).toBe('https://play.example.com/demo.mpd?token=aaa.bbb.ccc');
    expect(playbackUrl({ baseUrl: 'https://play.example.com', playbackId: 'demo', token, resource: 'thumbnail.jpg' })).toBe('https://play.example.com/demo/thumbnail.jpg?token=aaa.bbb.ccc');
    expect(playbackUrl({ baseUrl: 'https://cdn.example.com/video/', playbackId: 'demo', token, tokenParam: 'jwt' })).toBe('https://cdn.example.com/video/demo.m3u8?jwt=aaa.bbb.ccc');
  });

  it('refuses what the gate would refuse', async () => {
    expect(await codeOf(() => playbackUrl({ baseUrl: 'play.example.com', playbackId: 'demo', token }))).toBe('ERR_SIGN_BASE_URL');
    expect(await codeOf(() => playbackUrl({ baseUrl: 'ftp://play.example.com', playbackId: 'demo', token }))).toBe('ERR_SIGN_BASE_URL');
    expect(await codeOf(() => playbackUrl({ baseUrl: 'https://x', playbackId: 'a/b', token }))).toBe('ERR_SIGN_PLAYBACK_ID');
    expect(await codeOf(() => playbackUrl({ baseUrl: 'https://x', playbackId: 'demo', token, resource: '../other.m3u8' }))).toBe('ERR_SIGN_RESOURCE');
    expect(await codeOf(() => playbackUrl({ baseUrl: 'https://x', playbackId: 'demo', token, resource: 'a//b' }))).toBe('ERR_SIGN_RESOURCE');
    expect(await codeOf(() => playbackUrl({ baseUrl: 'https://x', playbackId: 'demo', token: '' }))).toBe('ERR_SIGN_TOKEN');
    expect(await codeOf(() => playbackUrl({ baseUrl: 'https://x', playbackId: 'demo', token, tokenParam: 'a b' }))).toBe('ERR_SIGN_TOKEN_PARAM');
    expect(await codeOf(() => playbackUrl({ baseUrl: 'https://x', playbackId: 'demo', token, tokenParam: 'grant' }))).toBe('ERR_SIGN_TOKEN_PARAM'); // the grant's own parameter
  });

  it('names the resource class a Mux token needs for each resource', () => {
    expect(['hls', 'dash', 'v0/seg1.m4s', 'thumbnail.jpg', 'animated.gif', 'storyboard.vtt', 'spritesheet.webp', 'thumbnail.png', 'v0/thumbnail.jpg', 'toString'].map(resourceClassFor)).toEqual(['v', 'v', 'v', 't', 'g', 's', 's', 't', 'v', 'v']);
  });

  it('builds the URL the gate parses, and refuses one it would refuse (bad_path)', () => {
    const token = 'a.b.c';
    expect(playbackUrl({ baseUrl: 'https://x/video/', playbackId: 'demo', token, resource: 'toString' })).toBe('https://x/video/demo/toString?token=a.b.c');
    expect(playbackUrl({ baseUrl: 'https://x', playbackId: 'demo', token, resource: 'dash' })).toBe('https://x/demo.mpd?token=a.b.c');
    for (const resource of ['v0/../x', 'v0//seg.m4s', 'v0/%2e%2e/x', 'a b', 'v0/..;/x', '']) {
      expect(() => playbackUrl({ baseUrl: 'https://x', playbackId: 'demo', token, resource }), resource).toThrow(expect.objectContaining({ code: 'ERR_SIGN_RESOURCE' }));
    }
  });
});
