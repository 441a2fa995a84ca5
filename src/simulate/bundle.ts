/**
 * The workflow bundle for `simulate`, cached on disk. Bundling src/workflows
 * with webpack costs about 10 s of CPU here, a sixth of the 60 s
 * budget, and a simulation is one short process: so the bundle is kept in
 * node_modules/.cache, keyed by a hash of every source file it could include
 * (all of src/ but tests) and of the SDK's version. Any edit to the code gives
 * a new key, so a stale bundle is never run; the worst a wrong cache can do
 * is cost the 10 s again.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { workflowsPath } from '../runtime/worker.ts';
import { repoRoot } from '../temporal/binaries.ts';

const SRC = join(repoRoot, 'src');
const CACHE_DIR = join(repoRoot, 'node_modules', '.cache', 'pstr-simulate');

/** Every file under `dir` the bundle may import (TypeScript and JSON, not tests), sorted so the hash is stable. */
function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...sourceFiles(path));
    else if (/\.(ts|json)$/.test(entry.name) && !entry.name.endsWith('.test.ts')) out.push(path);
  }
  return out.sort();
}

function sdkVersion(): string {
  const pkg = JSON.parse(readFileSync(join(repoRoot, 'node_modules', '@temporalio', 'worker', 'package.json'), 'utf8')) as { version?: string };
  return pkg.version ?? 'unknown';
}

/** The cache key: the SDK version and every source file's path and bytes. */
export function bundleKey(): string {
  const hash = createHash('sha256').update(sdkVersion());
  for (const file of sourceFiles(SRC)) hash.update(relative(SRC, file)).update('\0').update(readFileSync(file)).update('\0');
  return hash.digest('hex').slice(0, 24);
}

/** The bundled workflow code: from the cache when the sources are unchanged, else built and cached. */
export async function cachedWorkflowBundle(): Promise<{ code: string }> {
  const file = join(CACHE_DIR, `workflows-${bundleKey()}.js`);
  try {
    return { code: readFileSync(file, 'utf8') };
  } catch {
    // Not cached yet (or unreadable): build it.
  }
  const silent = { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} };
  const { code } = await bundleWorkflowCode({ workflowsPath, logger: silent });
  try {
    mkdirSync(CACHE_DIR, { recursive: true });
    // Written aside and renamed: a concurrent run never reads half a bundle.
    const tmp = `${file}.tmp-${process.pid}`;
    writeFileSync(tmp, code);
    renameSync(tmp, file);
    // Only the current sources' bundle is worth keeping (a few MB each).
    for (const old of readdirSync(CACHE_DIR)) if (old.startsWith('workflows-') && join(CACHE_DIR, old) !== file) rmSync(join(CACHE_DIR, old), { force: true });
  } catch {
    // A read-only checkout still simulates, bundling each time.
  }
  return { code };
}
