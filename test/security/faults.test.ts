/**
 * Faults (issue 4): a failing KV (wrapped binding: throws on the chosen operation, or on the
 * n-th put) and a misbehaving origin. Admin writes answer 503 with nothing half-written; the gate
 * never answers 500 or opens; remote errors never surface stack traces.
 */
import { createExecutionContext, env, waitOnExecutionContext } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import worker from '../../src/index';
import { adminAuth, createKey, fastpixToken, play, playbackId, refusal } from '../support/helpers';

type Operation = 'get' | 'put' | 'list' | 'delete';

function faultyKv(inner: KVNamespace, fail: (operation: Operation, call: number) => boolean) {
  const calls: Record<Operation, number> = { get: 0, put: 0, list: 0, delete: 0 };
  return new Proxy(inner, {
    get(target, property) {
      const value = Reflect.get(target, property);
      if (property === 'get' || property === 'put' || property === 'list' || property === 'delete') {
        return (...args: unknown[]) => {
          calls[property] += 1;
          if (fail(property, calls[property])) return Promise.reject(new Error(`KV ${property} failed (injected) at /internal/stack.js:1`));
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      }
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

async function call(kv: KVNamespace, method: string, path: string, body?: string) {
  const headers: Record<string, string> = { Authorization: adminAuth() };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const ctx = createExecutionContext();
  const response = await worker.fetch(new Request(`https://gate.test${path}`, { method, headers, body }), { ...env, KEYS: kv }, ctx);
  await waitOnExecutionContext(ctx);
  return response;
}

async function keyIds() {
  return (await env.KEYS.list({ prefix: 'key:' })).keys.map((k) => k.name).sort();
}

describe('KV failures at the admin API', () => {
  it.each([
    ['create, put failing', 'POST', '/v1/iam/signing-keys', '{"algorithm":"ES256"}', (op: Operation) => op === 'put'],
    ['create, list failing (key limit check)', 'POST', '/v1/iam/signing-keys', '{"algorithm":"ES256"}', (op: Operation) => op === 'list'],
    ['list, list failing', 'GET', '/v1/iam/signing-keys', undefined, (op: Operation) => op === 'list'],
  ])('%s → 503 storage_unavailable, nothing written, no stack trace', async (_name, method, path, body, fail) => {
    const before = await keyIds();
    const response = await call(faultyKv(env.KEYS, fail), method, path, body);
    const answer = await refusal(response);
    expect(answer).toMatchObject({ status: 503, reason: 'storage_unavailable' });
    expect(JSON.stringify(answer.body)).not.toMatch(/stack|injected|\.js/);
    expect(await keyIds()).toEqual(before);
  });

  it('rotate: when writing the retiring old key fails, the new key is removed again (nothing half-written)', async () => {
    const key = await createKey('ES256');
    const before = await keyIds();
    const response = await call(faultyKv(env.KEYS, (op, n) => op === 'put' && n === 2), 'POST', `/v1/iam/signing-keys/${key.id}/rotate`, '{}');
    expect(await refusal(response)).toMatchObject({ status: 503, reason: 'storage_unavailable' });
    expect(await keyIds()).toEqual(before);
    const old = JSON.parse((await env.KEYS.get(`key:${key.id}`))!);
    expect(old.rotatedTo).toBeUndefined();
  });

  it('delete, delete failing → 503 and the key still verifies', async () => {
    const key = await createKey('ES256');
    const response = await call(faultyKv(env.KEYS, (op) => op === 'delete'), 'DELETE', `/v1/iam/signing-keys/${key.id}`);
    expect(await refusal(response)).toMatchObject({ status: 503, reason: 'storage_unavailable' });
    const p = playbackId();
    expect((await play(`/${p}.m3u8?token=${await fastpixToken(key, p)}`)).status).toBe(200);
  });
});

describe('a misbehaving origin', () => {
  it('closing mid-body: headers already sent, the body ends early (never a 200 with a full length of garbage)', async () => {
    const key = await createKey('ES256');
    const p = playbackId('fault-midbody');
    const response = await play(`/${p}/v0/seg0.m4s?token=${await fastpixToken(key, p)}`);
    expect(response.status).toBe(200);
    await expect(response.arrayBuffer()).rejects.toThrow();
  });

  it('a 50 MB playlist is refused with 502 origin_error, not buffered', async () => {
    const key = await createKey('ES256');
    const p = playbackId('fault-huge');
    expect(await refusal(await play(`/${p}.m3u8?token=${await fastpixToken(key, p)}`))).toMatchObject({ status: 502, reason: 'origin_error' });
  });

  it('an origin 503 is 502 origin_error without the origin body', async () => {
    const key = await createKey('ES256');
    const p = playbackId('fault-500');
    const answer = await refusal(await play(`/${p}/v0/seg0.m4s?token=${await fastpixToken(key, p)}`));
    expect(answer).toMatchObject({ status: 502, reason: 'origin_error' });
    expect(JSON.stringify(answer.body)).not.toContain('Traceback');
  });
});
