// Bundle composition (issue 13): signet built exactly as wrangler deploys it (scripts/build.mjs:
// minified, production defines, an entry module and chunks loaded on first use), with esbuild's
// metafile: the bytes of every module, gzip bytes (zlib default level, as wrangler's "Total Upload
// … / gzip:" line), the part a new isolate compiles before its first answer (the entry and the
// chunks it imports statically), and the bytes each input contributes, grouped by npm package
// (node_modules/<pkg>) and by top-level folder of src/. Checked against `wrangler deploy --dry-run`
// (4.86): the same modules and total.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { buildSignet } from '../../scripts/build.mjs';

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

/** The outputs a module imports statically, transitively (itself included): what loads with it. */
function staticGraph(outputs, start) {
  const seen = new Set();
  const visit = (path) => {
    if (seen.has(path) || !outputs[path]) return;
    seen.add(path);
    for (const { path: next, kind } of outputs[path].imports ?? []) if (kind === 'import-statement') visit(next);
  };
  visit(start);
  return seen;
}

/**
 * Builds signet into a temporary folder and returns { minifiedBytes, gzipBytes, modules,
 * startup: { bytes, modules }, targetKiB, met, groups: [{ name, bytes, startupBytes, share }] }
 * sorted by size (an "(esbuild glue)" row holds what no input owns). `met` compares the total of
 * all modules with the target: what is uploaded, not only what starts.
 */
export async function bundleComposition(root) {
  const work = mkdtempSync(join(os.tmpdir(), 'signet-bundle-'));
  try {
    const metafile = await buildSignet({ outdir: work, root: resolve(root) });
    const outputs = Object.fromEntries(Object.entries(metafile.outputs).filter(([path]) => path.endsWith('.js')));
    const entry = Object.keys(outputs).find((path) => /(^|\/)index\.js$/.test(path));
    const startup = staticGraph(outputs, entry);
    const bytesBy = new Map();
    let minifiedBytes = 0;
    let gzipBytes = 0;
    let startupBytes = 0;
    const add = (group, bytes, atStart) => {
      const row = bytesBy.get(group) ?? { bytes: 0, startupBytes: 0 };
      row.bytes += bytes;
      if (atStart) row.startupBytes += bytes;
      bytesBy.set(group, row);
    };
    for (const [path, output] of Object.entries(outputs)) {
      const code = readFileSync(resolve(root, path));
      const atStart = startup.has(path);
      minifiedBytes += code.length;
      gzipBytes += gzipSync(code).length;
      if (atStart) startupBytes += code.length;
      let attributed = 0;
      for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
        add(groupOf(input), bytesInOutput, atStart);
        attributed += bytesInOutput;
      }
      if (code.length > attributed) add('(esbuild glue: module wrappers, imports, exports)', code.length - attributed, atStart);
    }
    const groups = [...bytesBy.entries()]
      .map(([name, row]) => ({ name, ...row, share: row.bytes / minifiedBytes }))
      .sort((a, b) => b.bytes - a.bytes);
    return {
      entry: 'src/index.ts',
      minifiedBytes,
      gzipBytes,
      modules: Object.keys(outputs).length,
      startup: { bytes: startupBytes, modules: startup.size },
      targetKiB: BUNDLE_TARGET_KIB,
      met: minifiedBytes / 1024 <= BUNDLE_TARGET_KIB,
      options: 'scripts/build.mjs: esbuild, esm, splitting, platform neutral, target es2024, conditions workerd/worker/browser, NODE_ENV=production, minify',
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
  const startup = b.startup
    ? ` A new isolate compiles **${kib(b.startup.bytes)} KiB** (${b.startup.modules} of ${b.modules} modules: the entry and what it imports statically) before its first answer; the rest loads on first use.`
    : '';
  return [
    `All modules: **${kib(b.minifiedBytes)} KiB** minified, gzip ${kib(b.gzipBytes)} KiB (${b.options}). Target ≤ ${b.targetKiB} KiB minified: **${b.met ? 'met' : 'not met'}**.${startup}`,
    '',
    '| package / folder | bytes (minified) | KiB | share | of it loaded at start, KiB |',
    '| --- | ---: | ---: | ---: | ---: |',
    ...b.groups.map((g) => `| ${g.name} | ${g.bytes} | ${kib(g.bytes)} | ${(g.share * 100).toFixed(1)} % | ${kib(g.startupBytes ?? g.bytes)} |`),
  ];
}
