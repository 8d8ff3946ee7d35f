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
    for (const claim of ['exp', 'kid', 'aud', 'sub', 'iat']) {
      expect(await codeOf(signPlaybackToken({ privateKey: key.pem, keyId: 'k1', playbackId: 'demo', claims: { [claim]: 1 } }))).toBe('ERR_SIGN_RESERVED_CLAIM');
    }
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

describe('the package as built', () => {
  it('exports the built helper and inspector, with generated types, and no hand-written copy', async () => {
    for (const entry of ['./sign', './sign/inspect'] as const) {
      expect(existsSync(built(entry)), `${entry} is built (npm ci runs the prepare script)`).toBe(true);
      expect(existsSync(join(ROOT, EXPORTS[entry]!.types)), `${entry} has generated types`).toBe(true);
    }
    expect(existsSync(join(ROOT, 'src/sign/index.js')) || existsSync(join(ROOT, 'src/sign/index.d.ts'))).toBe(false);
    const helper = (await import(pathToFileURL(built('./sign')).href)) as typeof import('../../src/sign/index');
    expect(Object.keys(helper).sort()).toEqual(['ALGORITHMS', 'DIALECTS', 'KID_LOCATIONS', 'RESOURCE_CLASSES', 'SigningError', 'importSigningKey', 'playbackUrl', 'resourceClassFor', 'signPlaybackToken']);
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
