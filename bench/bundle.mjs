#!/usr/bin/env node
// Bundle composition of any tree (issue 13): node bench/bundle.mjs [--src=DIR] [--json]
// Builds <src>/src/index.ts minified the way wrangler does for workerd (bench/lib/bundle.mjs) and
// prints total minified and gzip KiB, bytes per package / src folder, and the ≤ 350 KiB target.
import { resolve } from 'node:path';
import { bundleComposition, renderBundle } from './lib/bundle.mjs';
import { ROOT } from './lib/harness.mjs';

const args = Object.fromEntries(process.argv.slice(2).map((a) => { const [k, ...v] = a.replace(/^--/, '').split('='); return [k, v.length ? v.join('=') : true]; }));
const b = await bundleComposition(resolve(String(args.src ?? ROOT)));
console.log(args.json ? JSON.stringify(b, null, 2) : renderBundle(b).join('\n'));
