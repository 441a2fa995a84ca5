import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, resolveTemporalCli, resolveTestServer, venvExecutablePath } from './binaries.ts';

let scratch: string;
let fakeTemporal: string;
let notExecutable: string;

beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), 'temporal-binaries-'));
  fakeTemporal = join(scratch, 'temporal');
  writeFileSync(fakeTemporal, '#!/bin/sh\necho fake\n');
  chmodSync(fakeTemporal, 0o755);
  notExecutable = join(scratch, 'plain.txt');
  writeFileSync(notExecutable, 'not a program');
  chmodSync(notExecutable, 0o644);
});

afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
});

describe('resolveTemporalCli', () => {
  it('throws naming TEMPORAL_CLI_PATH and its value when the file is missing', () => {
    const missing = join(scratch, 'no-such-temporal');
    expect(() => resolveTemporalCli({ TEMPORAL_CLI_PATH: missing })).toThrow(`TEMPORAL_CLI_PATH=${missing} is not an executable file`);
  });

  it('throws when TEMPORAL_CLI_PATH names a file without the execute bit', () => {
    expect(() => resolveTemporalCli({ TEMPORAL_CLI_PATH: notExecutable })).toThrow(`TEMPORAL_CLI_PATH=${notExecutable}`);
  });

  it('throws when TEMPORAL_CLI_PATH names a directory', () => {
    expect(() => resolveTemporalCli({ TEMPORAL_CLI_PATH: scratch })).toThrow(`TEMPORAL_CLI_PATH=${scratch}`);
  });

  it('returns TEMPORAL_CLI_PATH when it names an executable, ahead of PATH', () => {
    const otherDir = mkdtempSync(join(scratch, 'path-'));
    const onPath = join(otherDir, 'temporal');
    writeFileSync(onPath, '#!/bin/sh\n');
    chmodSync(onPath, 0o755);
    expect(resolveTemporalCli({ TEMPORAL_CLI_PATH: fakeTemporal, PATH: otherDir })).toBe(fakeTemporal);
  });

  it('ignores an empty TEMPORAL_CLI_PATH and finds temporal on PATH before the venv', () => {
    expect(resolveTemporalCli({ TEMPORAL_CLI_PATH: '', PATH: `/nonexistent-dir:${scratch}` })).toBe(fakeTemporal);
  });
});

describe('resolveTestServer', () => {
  it('throws naming TEMPORAL_TEST_SERVER_PATH and its value when the file is missing', () => {
    const missing = join(scratch, 'no-such-test-server');
    expect(() => resolveTestServer({ TEMPORAL_TEST_SERVER_PATH: missing })).toThrow(
      `TEMPORAL_TEST_SERVER_PATH=${missing} is not an executable file`,
    );
  });

  it('does not take the temporal CLI on PATH for the test server', () => {
    // scratch holds only `temporal`, so the answer must come from the venv (or be null), never scratch.
    const found = resolveTestServer({ PATH: scratch });
    expect(found === null || !found.startsWith(scratch)).toBe(true);
  });
});

describe('after scripts/setup-temporal.mjs', () => {
  beforeAll(() => {
    // Strip the overrides so the script really fills the venv (cold: ~10 s, warm: ~0.1 s).
    const env = { ...process.env };
    delete env.TEMPORAL_ADDRESS;
    delete env.TEMPORAL_CLI_PATH;
    delete env.TEMPORAL_TEST_SERVER_PATH;
    const setup = spawnSync(process.execPath, [join(repoRoot, 'scripts', 'setup-temporal.mjs')], { env, encoding: 'utf8' });
    if (setup.status !== 0) throw new Error(`setup-temporal failed (${setup.status}): ${setup.stdout}${setup.stderr}`);
  }, 120_000);

  it('finds the venv temporal CLI when PATH has none, and it is the pinned 1.9.1', () => {
    const cli = resolveTemporalCli({ PATH: '' });
    expect(cli).toBe(venvExecutablePath('temporal'));
    const version = spawnSync(cli ?? 'missing', ['--version'], { encoding: 'utf8' });
    expect(version.stdout).toContain('temporal version 1.9.1');
  });

  it('finds the venv time-skipping test server when PATH has none', () => {
    expect(resolveTestServer({ PATH: '' })).toBe(venvExecutablePath('temporal-test-server'));
  });

  it('places the venv under .tools/temporal-venv in the repository', () => {
    expect(venvExecutablePath('temporal')).toBe(join(repoRoot, '.tools', 'temporal-venv', 'bin', 'temporal'));
  });
});
