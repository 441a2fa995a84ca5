#!/usr/bin/env node
/**
 * Builds the operator's CLI ahead of time (issue #11): client.ts bundled by
 * esbuild into dist/pstr.mjs, so `npx pstr …` starts without compiling
 * TypeScript. Runs on `npm ci`/`npm install` (the `prepare` script) and by
 * `npm run build:cli`. Dependencies stay in node_modules (not bundled).
 */
import { chmodSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outdir = join(root, 'dist');
const outfile = join(outdir, 'pstr.mjs');
await build({
  // Split: each command's modules are a chunk loaded when that command runs, so `--help` starts fast.
  // The backtest too: `npm run backtest` starts as plain JavaScript (what its speed target measures, start-up included).
  entryPoints: { pstr: join(root, 'client.ts'), backtest: join(root, 'src/cli/backtest.ts') },
  outdir,
  outExtension: { '.js': '.mjs' },
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node24',
  packages: 'external',
  banner: { js: '#!/usr/bin/env node' },
  logLevel: 'warning',
});
chmodSync(outfile, 0o755);
console.log(`built ${outfile}`);
