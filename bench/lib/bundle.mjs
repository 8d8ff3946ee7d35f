// Bundle composition (issue 13): signet's src/index.ts built minified the way wrangler builds it
// for workerd (bundle, format esm, conditions workerd/worker/browser, platform neutral, target
// es2024, keepNames, NODE_ENV=production, minify), with esbuild's metafile: total minified bytes,
// gzip bytes (zlib default level, as wrangler's "Total Upload … / gzip:" line) and the bytes each
// input contributes to the output, grouped by npm package (node_modules/<pkg>) and by top-level
// folder of src/. Checked against `wrangler deploy --dry-run --minify` (4.86) on a737958: the same
// 786.90 KiB / gzip 210.13 KiB.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join, relative, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { WORKERD_BUILD } from './harness.mjs';

export const BUNDLE_TARGET_KIB = 350;

/** Which row an input of the metafile belongs to. */
export function groupOf(input) {
  const path = input.replace(/\\/g, '/');
  const nm = path.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = path.slice(nm + 'node_modules/'.length).split('/');
    return `node_modules/${rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]}`;
  }
  const src = /(?:^|\/)src\/(.*)$/.exec(path);
  if (src) return src[1].includes('/') ? `src/${src[1].split('/')[0]}/` : 'src/ (top-level files)';
  return path.startsWith('<') ? path : `other: ${path}`;
}

/**
 * Builds `<root>/src/index.ts` minified and returns { minifiedBytes, gzipBytes, targetKiB, met,
 * groups: [{ name, bytes, share }] sorted by size } (an "(esbuild glue)" row holds what no input owns).
 */
export async function bundleComposition(root) {
  const work = mkdtempSync(join(os.tmpdir(), 'signet-bundle-'));
  const outfile = join(work, 'index.js');
  try {
    const result = await build({
      ...WORKERD_BUILD,
      entryPoints: [join(root, 'src/index.ts')],
      absWorkingDir: resolve(root),
      target: 'es2024',
      keepNames: true,
      define: { 'process.env.NODE_ENV': '"production"', 'global.process.env.NODE_ENV': '"production"', 'globalThis.process.env.NODE_ENV': '"production"' },
      minify: true,
      metafile: true,
      outfile,
      logLevel: 'warning',
    });
    const code = readFileSync(outfile);
    const output = Object.entries(result.metafile.outputs).find(([path]) => resolve(root, path) === outfile || path.endsWith('index.js'))[1];
    const bytesBy = new Map();
    let attributed = 0;
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
      const group = groupOf(input);
      bytesBy.set(group, (bytesBy.get(group) ?? 0) + bytesInOutput);
      attributed += bytesInOutput;
    }
    if (code.length > attributed) bytesBy.set('(esbuild glue: module wrappers, __name, exports)', code.length - attributed);
    const groups = [...bytesBy.entries()]
      .map(([name, bytes]) => ({ name, bytes, share: bytes / code.length }))
      .sort((a, b) => b.bytes - a.bytes);
    const minifiedBytes = code.length;
    return {
      entry: relative(root, join(root, 'src/index.ts')),
      minifiedBytes,
      gzipBytes: gzipSync(code).length,
      targetKiB: BUNDLE_TARGET_KIB,
      met: minifiedBytes / 1024 <= BUNDLE_TARGET_KIB,
      options: 'esbuild bundle, esm, platform neutral, target es2024, conditions workerd/worker/browser, keepNames, NODE_ENV=production, minify',
      groups,
    };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

const kib = (bytes) => (bytes / 1024).toFixed(1);

/** Markdown lines for a bundleComposition() result. */
export function renderBundle(b) {
  if (!b) return [];
  return [
    `Minified: **${kib(b.minifiedBytes)} KiB**, gzip ${kib(b.gzipBytes)} KiB (${b.options}). Target ≤ ${b.targetKiB} KiB minified: **${b.met ? 'met' : 'not met'}**.`,
    '',
    '| package / folder | bytes (minified) | KiB | share |',
    '| --- | ---: | ---: | ---: |',
    ...b.groups.map((g) => `| ${g.name} | ${g.bytes} | ${kib(g.bytes)} | ${(g.share * 100).toFixed(1)} % |`),
  ];
}
