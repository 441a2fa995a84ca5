/**
 * The installed CLI's start-up (issue #11): the median of 10 runs of
 * `node dist/pstr.mjs status --help` beside the median of 10 `node -e 0`
 * measured in the same run (the floor: starting Node itself), as a ratio.
 * Builds dist/ first when it is missing.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const RUNS = Number(process.env.BENCH_RUNS ?? 10);
const root = fileURLToPath(new URL('..', import.meta.url));
const cli = fileURLToPath(new URL('../dist/pstr.mjs', import.meta.url));
if (!existsSync(cli)) execFileSync(process.execPath, ['scripts/build-cli.mjs'], { cwd: root, stdio: 'inherit' });

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

function timeRun(args: string[]): number {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, args, { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`node ${args.join(' ')} exited ${r.status}: ${r.stderr.toString()}`);
  return ms;
}

// Interleaved so machine noise hits both alike; one warm-up each (file cache).
timeRun(['-e', '0']);
timeRun([cli, 'status', '--help']);
const bare: number[] = [];
const help: number[] = [];
for (let i = 0; i < RUNS; i++) {
  bare.push(timeRun(['-e', '0']));
  help.push(timeRun([cli, 'status', '--help']));
}
const b = median(bare);
const h = median(help);
console.log(`CLI start-up (median of ${RUNS}): pstr status --help ${h.toFixed(0)} ms · node -e 0 ${b.toFixed(0)} ms · ratio ${(h / b).toFixed(2)}× (Node ${process.version})`);
