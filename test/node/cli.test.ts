/**
 * The CLI and the signing helper against the real worker (`npm start`'s wrangler dev, local KV,
 * the demo stream): keys create → sign → play → inspect against the JWKS → rotate → delete →
 * inspect refuses. Node side: these spawn processes.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { playbackUrl, signPlaybackToken } from '../../src/sign/index.js';
import { startDevServer, type DevServer } from '../support/dev-server';

const run = promisify(execFile);
const scratch = mkdtempSync(join(tmpdir(), 'signet-cli-'));
let dev: DevServer | undefined;
let base: string;

async function cli(args: string[], env: Record<string, string> = {}) {
  try {
    const { stdout, stderr } = await run(process.execPath, ['bin/signet.mjs', ...args], {
      env: { ...process.env, SIGNET_URL: base, SIGNET_ADMIN_ID: 'dev', SIGNET_ADMIN_SECRET: 'signet-dev-secret', ...env },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failure = error as { code: number; stdout: string; stderr: string };
    return { code: failure.code, stdout: failure.stdout, stderr: failure.stderr };
  }
}

beforeAll(async () => {
  dev = await startDevServer(scratch);
  base = dev.base;
}, 60_000);

afterAll(() => {
  dev?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

describe('signet CLI', () => {
  it('prints help everywhere and exits 2 on usage errors', async () => {
    for (const args of [['--help'], ['keys', '--help'], ['sign', '--help'], ['inspect', '--help']]) {
      const result = await cli(args);
      expect(result.code, args.join(' ')).toBe(0);
      expect(result.stdout).toMatch(/Usage: signet/);
    }
    expect((await cli(['frobnicate'])).code).toBe(2);
    expect((await cli(['sign', '--kid', 'x'])).code).toBe(2);
    expect((await cli(['keys', 'get'])).code).toBe(2);
  });

  it('walks a key through its life: create → sign → play → inspect → rotate → delete → inspect refuses', async () => {
    const keyFile = join(scratch, 'key.pem');
    const created = await cli(['keys', 'create', '--algorithm', 'ES256', '--name', 'cli', '--out', keyFile, '--json']);
    expect(created.code).toBe(0);
    const key = JSON.parse(created.stdout) as { id: string; privateKey?: string };
    expect(key.privateKey).toBeUndefined(); // written to the file instead, never printed
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);

    const signed = JSON.parse((await cli(['sign', '--playback-id', 'demo', '--kid', key.id, '--key-file', keyFile, '--ttl', '600', '--json'])).stdout) as { token: string; url: string };
    expect(signed.url).toBe(`${base}/demo.m3u8?token=${signed.token}`);
    expect((await fetch(signed.url)).status).toBe(200);

    const good = await cli(['inspect', signed.token, '--jwks', `${base}/.well-known/jwks.json`, '--playback-id', 'demo', '--json']);
    expect(good.code).toBe(0);
    expect((JSON.parse(good.stdout) as { checks: Array<{ check: string; ok: boolean }> }).checks.filter((c) => c.ok === false)).toEqual([]);

    const wrongAsset = await cli(['inspect', signed.token, '--jwks', `${base}/.well-known/jwks.json`, '--playback-id', 'other']);
    expect(wrongAsset.code).toBe(1);
    expect(wrongAsset.stdout).toMatch(/✗ asset binding/);

    const listed = await cli(['keys', 'list']);
    expect(listed.stdout).toContain(key.id);

    const rotated = JSON.parse((await cli(['keys', 'rotate', key.id, '--grace', '0', '--json'])).stdout) as { id: string; rotatedFrom: string; privateKey: string };
    expect(rotated.rotatedFrom).toBe(key.id);
    expect(rotated.privateKey).toMatch(/^LS0t/);

    expect((await cli(['keys', 'delete', rotated.id])).code).toBe(0);
    const afterDelete = await cli(['inspect', signed.token, '--jwks', `${base}/.well-known/jwks.json`]);
    expect(afterDelete.code).toBe(1);
    expect(afterDelete.stdout).toMatch(/✗ key found/);
    expect((await cli(['keys', 'get', rotated.id])).code).toBe(1);
  }, 60_000);

  it('the signing helper makes Mux-dialect thumbnail tokens the gate accepts, and nothing else', async () => {
    const created = JSON.parse((await cli(['keys', 'create', '--algorithm', 'RS256', '--json'])).stdout) as { id: string; privateKey: string };
    const token = await signPlaybackToken({ privateKey: created.privateKey, keyId: created.id, playbackId: 'demo', dialect: 'mux', resourceClass: 't', expiresIn: 60 });
    expect((await fetch(playbackUrl({ baseUrl: base, playbackId: 'demo', token, resource: 'thumbnail.jpg' }))).status).toBe(200);
    expect((await fetch(playbackUrl({ baseUrl: base, playbackId: 'demo', token }))).status).toBe(403);
    await expect(signPlaybackToken({ privateKey: created.privateKey, keyId: created.id, playbackId: 'demo', claims: { exp: 1 } })).rejects.toMatchObject({ code: 'ERR_RESERVED_CLAIM' });
    await expect(signPlaybackToken({ privateKey: 'not a key', keyId: created.id, playbackId: 'demo' })).rejects.toMatchObject({ code: 'ERR_PRIVATE_KEY_FORMAT' });
    expect(readFileSync('bin/signet.mjs', 'utf8')).toMatch(/^#!\/usr\/bin\/env node/);
  });
});
