/**
 * The decision log (SPEC §5): one line per gated request, never the token or grant; allowed requests
 * sampled by DECISION_LOG_SAMPLE_RATE, refusals always logged (issue 13).
 */
import { env } from 'cloudflare:test';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { callWorker, createKey, fastpixToken, nowSeconds, playbackId, sign } from '../support/helpers';

afterEach(() => vi.restoreAllMocks());

async function gateLines(rate: string, paths: string[]) {
  const isolate = { ...env, DECISION_LOG_SAMPLE_RATE: rate };
  const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
  for (const path of paths) {
    const response = await callWorker(path, isolate);
    await response.body?.cancel();
  }
  return log.mock.calls.map(([line]) => JSON.parse(String(line))).filter((line) => line.event === 'gate');
}

describe('the decision log', () => {
  it('writes one line per request at rate 1, allowed and refused, with the facts the pipeline learned', async () => {
    const key = await createKey('ES256');
    const p = playbackId();
    const token = await fastpixToken(key, p);
    const forged = await sign(await createKey('ES256'), { kid: key.id, aud: `media:${p}`, exp: nowSeconds() + 600 }); // another key's signature under this kid
    const lines = await gateLines('1', [`/${p}.m3u8?token=${token}`, `/${p}.m3u8`, `/${p}.m3u8?token=${forged}`]);
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatchObject({ decision: 'allow', playbackId: p, resourceClass: 'v', kid: key.id, credential: 'query', status: 200 });
    expect(lines[1]).toMatchObject({ decision: 'deny', reason: 'token_missing', credential: 'none', status: 401 });
    expect(lines[2]).toMatchObject({ decision: 'deny', reason: 'signature_invalid', kid: key.id, status: 403 });
    expect(JSON.stringify(lines)).not.toContain(token.slice(-20));
  });

  it('at rate 0 logs no allowed request and every refusal', async () => {
    const key = await createKey('ES256');
    const p = playbackId();
    const token = await fastpixToken(key, p);
    const lines = await gateLines('0', [`/${p}.m3u8?token=${token}`, `/${p}/v0/seg0.m4s?token=${token}`, `/${p}.m3u8`, `/..%2f${p}.m3u8`]);
    expect(lines.map((line) => line.reason)).toEqual(['token_missing', 'bad_path']);
  });
});
