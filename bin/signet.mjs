#!/usr/bin/env node
// The signet CLI. Its source is TypeScript (src/cli/), built for Node ≥ 20 into build/node/ by
// scripts/build-node.mjs, which `npm ci` and `npm install` run (the `prepare` script).
import { existsSync } from 'node:fs';

const cli = new URL('../build/node/cli.js', import.meta.url);
if (!existsSync(cli)) {
  process.stderr.write('signet: the CLI is not built; run "npm install" (or "node scripts/build-node.mjs") in the signet checkout\n');
  process.exit(1);
}
await import(cli.href);
