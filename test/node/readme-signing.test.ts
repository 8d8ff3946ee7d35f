/**
 * The README's signing-helper examples, run as a reader would paste them (issue 15): the `js`
 * blocks of the "Or with signet's own helper" passage are taken from README.md as they are, their
 * `signet/sign` import pointed at this checkout, and run with a key created through the admin API
 * of the built worker (test/node/worker.ts); each token they print must open its resource at that
 * worker. A README edit that breaks an example fails here.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, startWorker, type RunningWorker } from './worker';

const ROOT = resolve(import.meta.dirname, '../..');
/** What `signet/sign` resolves to for a reader: the built helper package.json exports (npm ci builds it). */
const BUILT_HELPER = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { exports: Record<string, { default: string }> }).exports['./sign']!.default;

/** The `js` code blocks of the README between `from` and the next `###` heading. */
function readmeBlocks(from: string): string[] {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf(from);
  if (start < 0) throw new Error(`README.md no longer has "${from}"`);
  const passage = readme.slice(start, readme.indexOf('\n###', start));
  return [...passage.matchAll(/```js\n([\s\S]*?)```/g)].map((match) => match[1]!);
}

let worker: RunningWorker;
const scratch = mkdtempSync(join(tmpdir(), 'signet-readme-'));
beforeAll(async () => {
  worker = await startWorker();
}, 120_000);
afterAll(async () => {
  await worker?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

async function createKey(algorithm: string): Promise<{ id: string; privateKey: string }> {
  const response = await fetch(`${worker.url}/v1/iam/signing-keys`, {
    method: 'POST',
    headers: { Authorization: `Basic ${btoa(`${ADMIN.id}:${ADMIN.secret}`)}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ algorithm }),
  });
  expect(response.status).toBe(201);
  return ((await response.json()) as { data: { id: string; privateKey: string } }).data;
}

/** Runs one README block as an ES module with the key in its environment; returns the top-level constants it names. */
async function run(block: string, names: string[], key: { id: string; privateKey: string }): Promise<Record<string, string>> {
  const file = join(scratch, `block-${Math.random().toString(36).slice(2)}.mjs`);
  const source = block.replaceAll("'signet/sign'", JSON.stringify(pathToFileURL(join(ROOT, BUILT_HELPER)).href));
  expect(source, 'the block imports signet/sign').not.toBe(block);
  writeFileSync(file, `${source}\nexport { ${names.join(', ')} };\n`);
  process.env.SIGNET_PRIVATE_KEY = key.privateKey;
  process.env.SIGNET_KEY_ID = key.id;
  try {
    return (await import(pathToFileURL(file).href)) as Record<string, string>;
  } finally {
    delete process.env.SIGNET_PRIVATE_KEY;
    delete process.env.SIGNET_KEY_ID;
  }
}

describe("the README's signing-helper examples", () => {
  const blocks = readmeBlocks("Or with signet's own helper");

  it('has the two examples: a token and its URL, and a key imported once', () => {
    expect(blocks).toHaveLength(2);
  });

  it.each(['RS256', 'ES256', 'EdDSA'])('signs a FastPix token and a URL the gate opens (%s key)', async (algorithm) => {
    const key = await createKey(algorithm);
    const { token, url } = await run(blocks[0]!, ['token', 'url'], key);
    const parsed = new URL(url!);
    expect(parsed.origin).toBe('https://play.example.com');
    expect(parsed.searchParams.get('token')).toBe(token);
    const answer = await fetch(`${worker.url}${parsed.pathname}${parsed.search}`);
    expect(answer.status).toBe(200);
    expect(await answer.text()).toMatch(/^#EXTM3U/);
  });

  it('imports the key once and signs a Mux thumbnail token with what importSigningKey returned', async () => {
    const key = await createKey('ES256');
    const { thumbnail } = await run(blocks[1]!, ['thumbnail'], key);
    expect((await fetch(`${worker.url}/demo/thumbnail.jpg?token=${thumbnail}`)).status).toBe(200);
    // A Mux thumbnail token opens thumbnails only.
    const refused = await fetch(`${worker.url}/demo.m3u8?token=${thumbnail}`);
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { error: { reason: string } }).error.reason).toBe('audience_mismatch');
  });
});
