// This machine's npm registry mirror serves only the linux-x64 (glibc) builds of
// packages that ship one optional package per platform (@swc/core, litesvm, …).
// `npm install` then leaves the other platforms out of package-lock.json and a
// later `npm ci` refuses the lock as out of sync. This adds those entries back,
// with their os/cpu/libc read from the package name, so npm skips them on this
// platform. Run after any dependency change: node scripts/patch-lock.mjs
import { readFileSync, writeFileSync } from 'node:fs';

const file = process.argv[2] ?? 'package-lock.json';
const lock = JSON.parse(readFileSync(file, 'utf8'));
const OS = ['darwin', 'linux', 'win32', 'freebsd', 'android', 'openbsd', 'sunos', 'aix'];
const CPU = ['arm64', 'x64', 'ia32', 'arm', 'ppc64', 's390x', 'riscv64', 'loong64', 'mips64el'];

function platformOf(name) {
  const parts = name.split(/[-/]/);
  const os = parts.find((p) => OS.includes(p)) ?? (parts.includes('win32') ? 'win32' : null);
  const cpu = parts.find((p) => CPU.includes(p)) ?? (parts.includes('gnueabihf') ? 'arm' : null);
  const libc = parts.includes('musl') ? 'musl' : parts.some((p) => p === 'gnu' || p === 'gnueabihf') ? 'glibc' : null;
  return os && cpu ? { os, cpu, libc } : null;
}

const added = [];
for (const [path, entry] of Object.entries(lock.packages)) {
  for (const [dep, range] of Object.entries(entry.optionalDependencies ?? {})) {
    const base = path === '' ? '' : `${path}/`;
    if (lock.packages[`${base}node_modules/${dep}`] || lock.packages[`node_modules/${dep}`]) continue;
    const platform = platformOf(dep);
    if (!platform) continue;
    const version = /^\d+\.\d+\.\d+/.test(range) ? range : entry.version;
    lock.packages[`node_modules/${dep}`] = {
      version,
      cpu: [platform.cpu],
      ...(platform.libc ? { libc: [platform.libc] } : {}),
      optional: true,
      os: [platform.os],
    };
    added.push(`${dep}@${version}`);
  }
}
lock.packages = Object.fromEntries(Object.entries(lock.packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a.localeCompare(b))));
writeFileSync(file, `${JSON.stringify(lock, null, 2)}\n`);
console.log(added.length ? `patch-lock: added ${added.join(', ')}` : 'patch-lock: nothing to add');
