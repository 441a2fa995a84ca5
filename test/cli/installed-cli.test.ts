/**
 * The CLI as installed (issue #11): the bundle `npm ci` builds (dist/pstr.mjs),
 * run as a user runs it. A closed pipe ends it quietly (no EPIPE stack trace),
 * `--json` prints one JSON document, errors included, and `--help` answers
 * without loading the Temporal client (it never connects).
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
const bin = join(root, 'dist', 'pstr.mjs');
const history = join(root, 'test', 'fixtures', 'histories', 'monitor-i10b.json');
const run = promisify(execFile);

/** `pstr args | head -c bytes` in bash: the exit code of pstr itself and what it wrote to stderr. */
function throughHead(args: string, bytes: number): { code: number; stderr: string; stdout: string } {
  const out = execFileSync('bash', ['-c', `node ${bin} ${args} 2>"$ERR" | head -c ${bytes}; echo; echo "exit=\${PIPESTATUS[0]}"`], {
    env: { ...process.env, ERR: join(root, 'dist', `stderr-${process.pid}.txt`) }, encoding: 'utf8',
  });
  const stderr = execFileSync('cat', [join(root, 'dist', `stderr-${process.pid}.txt`)], { encoding: 'utf8' });
  const code = Number(/exit=(\d+)/.exec(out)?.[1] ?? NaN);
  return { code, stderr, stdout: out };
}

beforeAll(() => {
  // The suite tests the bundle of this checkout, so it builds it first (npm ci did once; a source edit since would be missed).
  execFileSync(process.execPath, [join(root, 'scripts', 'build-cli.mjs')], { stdio: 'ignore' });
}, 60_000);

describe('the installed CLI', () => {
  it('is built by the prepare script into dist/pstr.mjs and named pstr', async () => {
    expect(existsSync(bin)).toBe(true);
    const { stdout } = await run(process.execPath, [bin, 'status', '--help']);
    expect(stdout).toMatch(/^Usage: pstr status \[options\]/);
  });

  it('ends quietly when the reader closes the pipe early', () => {
    expect(existsSync(history)).toBe(true);
    const r = throughHead(`audit monitor/pstr-main --file ${history}`, 200);
    expect(r.stdout.length).toBeGreaterThan(100);
    expect(r.stderr).not.toMatch(/EPIPE|Error|\n\s+at /);
    expect(r.code).toBe(0);
  });

  it('ends quietly when a --json document is cut short', () => {
    const r = throughHead(`--json audit monitor/pstr-main --file ${history}`, 10);
    expect(r.stdout.startsWith('{')).toBe(true);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });

  it('prints one JSON document under --json', async () => {
    const { stdout } = await run(process.execPath, [bin, '--json', 'audit', 'monitor/pstr-main', '--file', history], { maxBuffer: 64 * 1024 * 1024 });
    const doc = JSON.parse(stdout) as { lines: string[] };
    expect(doc.lines.length).toBeGreaterThan(10);
    expect(doc.lines.some((l) => /cycle/.test(l))).toBe(true);
  });

  it('runs the backtest from its bundle as npm run backtest does: the same document as the source, byte for byte', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pstr-bundle-'));
    try {
      const prices = join(dir, 'prices.csv');
      await run(process.execPath, ['--import', 'tsx', join(root, 'src/cli/gen-prices.ts'), '--days', '20', '--interval', '15m', '--seed', '5', '--crash', '12:0.35', '--out', prices], { cwd: root });
      const args = ['--prices', prices, '--json', '--no-progress'];
      const bundled = await run(process.execPath, [join(root, 'dist', 'backtest.mjs'), ...args], { cwd: root, maxBuffer: 1 << 26 });
      const source = await run(process.execPath, ['--import', 'tsx', join(root, 'src/cli/backtest.ts'), ...args], { cwd: root, maxBuffer: 1 << 26 });
      expect(bundled.stdout).toBe(source.stdout);
      expect((JSON.parse(bundled.stdout) as { interventions: unknown[] }).interventions.length).toBeGreaterThan(0);
      // The benchmark's baseline: the same bundle only reads and parses.
      expect((await run(process.execPath, [join(root, 'dist', 'backtest.mjs'), '--prices', prices, '--parse-only'], { cwd: root })).stdout.trim()).toBe(String(20 * 96));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('prints an error as a JSON document under --json, with a non-zero exit and no stack', async () => {
    const err = await run(process.execPath, [bin, '--json', 'audit', 'monitor/pstr-main', '--file', join(root, 'no-such-history.json')]).then(() => null, (e: { code: number; stdout: string; stderr: string }) => e);
    expect(err?.code).toBe(1);
    expect(JSON.parse(err?.stdout ?? '')).toMatchObject({ error: expect.stringMatching(/no-such-history\.json/) as unknown });
    expect(err?.stderr).toBe('');
  });
});
