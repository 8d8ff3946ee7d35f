#!/usr/bin/env node
// The build of signet for workerd: the one esbuild configuration that `wrangler dev`, `wrangler
// deploy` (wrangler.toml [build]), the benchmark and the Node-side tests all use.
//
// Why signet builds itself instead of letting wrangler bundle: wrangler's bundle is one script, and
// a dynamic `import()` inside one script still costs its whole text at startup — workerd compiles
// the script before the first request. Measured here (Miniflare 4.20260426, median of 5 starts): a
// worker that only *lazily* imports zod became ready ≈ 1.1 s later than a trivial one, the same
// worker code-split into modules ≈ 0.05 s. So the entry module holds what every request needs (the
// path test, the configuration, the grant check); the admin face, jose, the XML parser, the remote
// JWKS code and the key hygiene checks are chunks that workerd compiles when a request first needs
// them. wrangler uploads the chunks as additional modules (`find_additional_modules`, `rules`).
//
// Usage: node scripts/build.mjs [--outdir dist] [--no-minify]   (wrangler runs it with no arguments)
import { readdirSync, rmSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** esbuild options for any worker run by workerd: the conditions wrangler uses for it. */
export const WORKERD_BUILD = {
  bundle: true,
  format: 'esm',
  platform: 'neutral',
  target: 'es2024',
  conditions: ['workerd', 'worker', 'browser'],
  mainFields: ['module', 'main'],
  external: ['cloudflare:*', 'node:*'],
  logLevel: 'warning',
};

/**
 * What wrangler defines for a production build (libraries drop their development checks). Unlike
 * wrangler, no `keepNames`: nothing in signet reads a function's or class's name (the Durable
 * Object is bound by its export name; logs name errors by `error.name`, which keepNames does not
 * touch), and the `__name` wrappers cost ≈ 20 KiB.
 */
const PRODUCTION = {
  define: { 'process.env.NODE_ENV': '"production"', 'global.process.env.NODE_ENV': '"production"', 'globalThis.process.env.NODE_ENV': '"production"' },
};

/** Where the chunks go inside the output folder (wrangler.toml's module rule names this folder). */
export const CHUNKS = 'chunks';

/**
 * Builds signet (`<root>/src/index.ts`) into `outdir`: `index.js` and `chunks/*.js`. The folder is
 * emptied first, so no chunk of an older build is uploaded with this one. Returns esbuild's
 * metafile (its `outputs` are the modules, with the bytes each input contributes).
 */
export async function buildSignet({ outdir, root = ROOT, minify = true, sourcemap = false }) {
  rmSync(outdir, { recursive: true, force: true });
  const result = await build({
    ...WORKERD_BUILD,
    ...PRODUCTION,
    entryPoints: { index: join(root, 'src/index.ts') },
    absWorkingDir: root,
    outdir,
    splitting: true,
    chunkNames: `${CHUNKS}/[name]-[hash]`,
    minify,
    sourcemap,
    metafile: true,
  });
  return result.metafile;
}

/** The modules of a build in `outdir` for Miniflare's `modules` option (the entry first). */
export function workerModules(outdir) {
  const chunks = readdirSync(join(outdir, CHUNKS)).filter((name) => name.endsWith('.js')).sort();
  return ['index.js', ...chunks.map((name) => `${CHUNKS}/${name}`)].map((path) => ({ type: 'ESModule', path: join(outdir, path) }));
}

/** Runs as a script: `wrangler dev` and `wrangler deploy` build through here (wrangler.toml [build]). */
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: { outdir: { type: 'string', default: join(ROOT, 'dist') }, 'no-minify': { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) {
    console.log('Usage: node scripts/build.mjs [--outdir dist] [--no-minify]\nBuilds signet for workerd into dist/ (index.js + chunks/), as wrangler deploys it.');
    process.exit(0);
  }
  const outdir = resolve(values.outdir);
  const metafile = await buildSignet({ outdir, minify: !values['no-minify'] });
  const entry = Object.entries(metafile.outputs).find(([path]) => path.endsWith('index.js'));
  const total = Object.values(metafile.outputs).reduce((sum, output) => sum + output.bytes, 0);
  const modules = Object.keys(metafile.outputs).filter((path) => path.endsWith('.js')).length;
  console.log(`signet built into ${relative(process.cwd(), outdir) || '.'}: ${modules} modules, ${(total / 1024).toFixed(1)} KiB; entry ${(entry[1].bytes / 1024).toFixed(1)} KiB`);
}
