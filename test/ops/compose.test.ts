/**
 * The deployment files: docker-compose.yml validated by `docker-compose config`
 * (Debian's docker-compose package; no Docker engine needed), and the
 * Dockerfile checked against the repository it copies from.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const composeFile = `${root}docker-compose.yml`;

/** Where the binary is, or null: `command -v` is what a shell would run. */
function which(bin: string): string | null {
  const r = spawnSync('sh', ['-c', `command -v ${bin}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

const composeBin = which('docker-compose');
const MISSING = 'docker-compose is not installed (Debian: apt-get install docker-compose); the compose file was not validated';

/** Runs docker-compose on our file with a clean environment plus `env`, from a neutral directory (no stray .env). */
function compose(args: string[], env: Record<string, string> = {}) {
  return spawnSync(composeBin as string, ['-f', composeFile, '--project-directory', root, ...args], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', ...env },
    timeout: 60_000,
  });
}

describe('docker-compose.yml', () => {
  it('is valid for docker-compose config -q', (ctx) => {
    if (!composeBin) ctx.skip(MISSING);
    const r = compose(['config', '-q']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('declares PostgreSQL, the schema job, the server, the namespace job, the UI and the worker, with named volumes', (ctx) => {
    if (!composeBin) ctx.skip(MISSING);
    const services = compose(['config', '--services']);
    expect(services.status, services.stderr).toBe(0);
    expect(services.stdout.trim().split('\n').sort()).toEqual(['postgresql', 'temporal', 'temporal-namespace', 'temporal-schema', 'temporal-ui', 'worker']);
    const volumes = compose(['config', '--volumes']);
    expect(volumes.stdout.trim().split('\n').sort()).toEqual(['temporal-db', 'worker-data']);
  });

  it('takes its settings from the environment and falls back to safe defaults', (ctx) => {
    if (!composeBin) ctx.skip(MISSING);
    const defaults = compose(['config']);
    expect(defaults.status, defaults.stderr).toBe(0);
    // Published ports stay on the loopback interface; PostgreSQL is not published at all.
    expect(defaults.stdout).toContain('127.0.0.1:7233:7233');
    expect(defaults.stdout).toContain('127.0.0.1:8080:8080');
    expect(defaults.stdout).not.toMatch(/5432:5432/);
    expect(defaults.stdout).toMatch(/METRICS_PORT: '9464'/);
    expect(defaults.stdout).toMatch(/BIND_ON_IP: 0\.0\.0\.0/);
    expect(defaults.stdout).toMatch(/DB: postgres12/);

    const custom = compose(['config'], { POSTGRES_PASSWORD: 's3cret-pw', METRICS_PORT: '9999', TEMPORAL_VERSION: '9.9.9', TEMPORAL_UI_PORT: '18080', PYTH_API_KEY: 'pk' });
    expect(custom.status, custom.stderr).toBe(0);
    // One password reaches the database, the schema job, the server and the worker's store URL.
    expect(custom.stdout.match(/s3cret-pw/g)).toHaveLength(4);
    expect(custom.stdout).toMatch(/METRICS_PORT: '9999'/);
    expect(custom.stdout).toContain('temporalio/server:9.9.9');
    expect(custom.stdout).toContain('127.0.0.1:18080:8080');
    expect(custom.stdout).toMatch(/PYTH_API_KEY: pk/);
  });

  it('gives the workers one shared store in PostgreSQL, created by the schema job, unless DATABASE_URL is set otherwise', (ctx) => {
    if (!composeBin) ctx.skip(MISSING);
    const block = (out: string, service: string) => out.split(/\n {2}(?=[a-z-]+:\n)/).find((b) => b.startsWith(`${service}:`)) ?? '';
    const out = compose(['config']).stdout;
    expect(block(out, 'worker')).toContain('DATABASE_URL: postgres://postgresql:5432/treasury');
    expect(block(out, 'worker')).toMatch(/PGUSER: temporal/);
    expect(block(out, 'worker')).toMatch(/PGPASSWORD: temporal/);
    expect(block(out, 'temporal-schema')).toContain('for db in temporal temporal_visibility treasury; do');
    const sqlite = compose(['config'], { DATABASE_URL: '' }).stdout;
    expect(block(sqlite, 'worker')).toMatch(/DATABASE_URL: ''/);
  });

  it('starts the worker only after the namespace exists, and the server only after the schema job succeeded', (ctx) => {
    if (!composeBin) ctx.skip(MISSING);
    const out = compose(['config']).stdout;
    const block = (service: string) => out.split(/\n {2}(?=[a-z-]+:\n)/).find((b) => b.startsWith(`${service}:`)) ?? '';
    expect(block('worker')).toMatch(/temporal-namespace:\n\s+condition: service_completed_successfully/);
    expect(block('temporal')).toMatch(/temporal-schema:\n\s+condition: service_completed_successfully/);
    expect(block('temporal-schema')).toMatch(/postgresql:\n\s+condition: service_healthy/);
    expect(block('worker')).not.toMatch(/container_name|ports:/);
  });
});

describe('Dockerfile', () => {
  const dockerfile = readFileSync(`${root}Dockerfile`, 'utf8');

  it('copies only paths that exist in the repository', () => {
    const copies = [...dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap((m) => (m[1] as string).split(/\s+/));
    expect(copies.length).toBeGreaterThan(3);
    for (const path of copies) expect(existsSync(`${root}${path}`), path).toBe(true);
  });

  it('builds on the node:<engines floor>-bookworm-slim image (node:24) and runs the worker as a non-root user', () => {
    const engines = (JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as { engines: { node: string } }).engines.node;
    const floor = /^>=(\d+)$/.exec(engines)?.[1];
    expect(floor).toBe('24');
    expect(dockerfile).toMatch(new RegExp(`^ARG NODE_IMAGE=node:${floor}-bookworm-slim$`, 'm'));
    const users = [...dockerfile.matchAll(/^USER (\S+)$/gm)].map((m) => m[1]);
    expect(users.at(-1)).toBe('pstr');
    expect(dockerfile).toMatch(/CMD .*tsx worker\.ts/);
  });

  it('is not sent what the image installs or must not contain', () => {
    const ignored = readFileSync(`${root}.dockerignore`, 'utf8').split('\n');
    for (const entry of ['node_modules', '.git', 'data', '.env']) expect(ignored).toContain(entry);
  });
});
