/** The structured logger: secrets never reach the output, and every line says which treasury, workflow and cycle or step it is about. */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Context } from '@temporalio/activity';
import type { ActivityInboundCallsInterceptor } from '@temporalio/worker';
import type { Logger } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { activityInterceptors } from '../../src/ops/activity-interceptor.ts';
import { childFor, createLogger, maskUrl, withLogContext } from '../../src/ops/logger.ts';
import { Metrics } from '../../src/ops/metrics.ts';

const dir = mkdtempSync(join(tmpdir(), 'pstr-logger-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let fileCount = 0;

/** A logger writing to a fresh file, and a reader that waits for its asynchronous writes. */
function fileLogger(level = 'info'): { logger: Logger; lines: (n: number) => Promise<{ raw: string[]; parsed: Record<string, unknown>[] }> } {
  fileCount += 1;
  const file = join(dir, 'sub', `log-${fileCount}.jsonl`);
  const logger = createLogger({ treasuryId: 'pstr-main', destination: file, level });
  return {
    logger,
    async lines(n) {
      const deadline = Date.now() + 5_000;
      for (;;) {
        try {
          logger.flush();
        } catch {
          // not open yet
        }
        const raw = existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
        if (raw.length >= n || Date.now() > deadline) return { raw, parsed: raw.map((l) => JSON.parse(l) as Record<string, unknown>) };
        await new Promise((r) => setTimeout(r, 20));
      }
    },
  };
}

const SECRETS = {
  pyth: 'pyth-key-5f2a9c',
  jupiter: 'jup-key-77aa01',
  bearer: 'Bearer eyJhbGciOiJIUzI1NiJ9.c2VjcmV0.sig',
  keypair: '[12,34,56,78,90,11,22,33]',
  secretKey: '4vJ9JU1bJJE96FWSJKvHsmmFADCg4gpZQff4P3bkLKi',
  helius: 'a1b2c3d4-e5f6-4711-8899-aabbccddeeff',
  quicknode: '9f8e7d6c5b4a39281706f5e4d3c2b1a0',
  telegram: '123456789:AAHk3x9fQz_secretBotToken42',
  slack: 'T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX',
  password: 'hunter2-pg-pass',
};

describe('secrets in log lines', () => {
  it('redacts named secret keys at any depth up to four objects and every credential inside a *Url', async () => {
    const { logger, lines } = fileLogger();
    logger.info({ apiKey: SECRETS.pyth, config: { oracle: { pyth: { apiKey: SECRETS.pyth, endpoint: 'https://hermes.pyth.network' } }, execution: { jupiter: { apiKey: SECRETS.jupiter } } } }, 'config loaded');
    logger.info({ request: { headers: { authorization: SECRETS.bearer, 'x-api-key': SECRETS.jupiter, accept: 'application/json' } } }, 'http');
    logger.warn({ keypair: SECRETS.keypair, wallet: { secretKey: SECRETS.secretKey }, token: SECRETS.jupiter }, 'signer');
    logger.info({ rpcUrl: `https://mainnet.helius-rpc.com/?api-key=${SECRETS.helius}&commitment=confirmed` }, 'rpc');
    logger.info({ solana: { wsUrl: `wss://example.solana-mainnet.quiknode.pro/${SECRETS.quicknode}/` } }, 'ws');
    logger.info({ alerts: { telegramUrl: `https://api.telegram.org/bot${SECRETS.telegram}/sendMessage`, webhookUrl: `https://hooks.slack.com/services/${SECRETS.slack}` } }, 'alerting');
    logger.info({ databaseUrl: `postgres://temporal:${SECRETS.password}@postgresql:5432/temporal` }, 'db');
    logger.child({ rpcUrl: `https://mainnet.helius-rpc.com/?api-key=${SECRETS.helius}` }).info('child bound to a secret url');
    const { raw, parsed } = await lines(8);
    expect(raw).toHaveLength(8);
    const text = raw.join('\n');
    for (const [name, secret] of Object.entries(SECRETS)) expect(text, name).not.toContain(secret);
    // What is not secret stays readable.
    expect(parsed[0]?.config).toMatchObject({ oracle: { pyth: { apiKey: '[redacted]', endpoint: 'https://hermes.pyth.network' } } });
    expect(parsed[1]?.request).toEqual({ headers: { authorization: '[redacted]', 'x-api-key': '[redacted]', accept: 'application/json' } });
    expect(parsed[3]?.rpcUrl).toBe('https://mainnet.helius-rpc.com/?api-key=[redacted]&commitment=confirmed');
    expect(parsed[4]?.solana).toEqual({ wsUrl: 'wss://example.solana-mainnet.quiknode.pro/[redacted]/' });
    expect((parsed[5]?.alerts as Record<string, unknown>).webhookUrl).toBe('[redacted]');
    expect((parsed[5]?.alerts as Record<string, unknown>).telegramUrl).toBe('https://api.telegram.org/[redacted]/sendMessage');
    expect(parsed[6]?.databaseUrl).toBe('postgres://[redacted]@postgresql:5432/temporal');
  });

  it('leaves a URL without credentials as it was, and a non-URL string untouched', () => {
    expect(maskUrl('https://hermes.pyth.network/v2/updates/price/latest?ids[]=ef0d')).toBe('https://hermes.pyth.network/v2/updates/price/latest?ids[]=ef0d');
    expect(maskUrl('http://127.0.0.1:8899')).toBe('http://127.0.0.1:8899');
    expect(maskUrl('not a url')).toBe('not a url');
  });

  it('does not change the object the caller logged', async () => {
    const { logger, lines } = fileLogger();
    const payload = { rpcUrl: `https://x.example/?token=${SECRETS.helius}`, apiKey: SECRETS.pyth };
    logger.info(payload, 'once');
    await lines(1);
    expect(payload).toEqual({ rpcUrl: `https://x.example/?token=${SECRETS.helius}`, apiKey: SECRETS.pyth });
  });
});

describe('fields on every line', () => {
  it('puts treasuryId, service, pid, hostname, an ISO time and the level name on every line, child or not, each key once', async () => {
    const { logger, lines } = fileLogger('debug');
    logger.info('starting');
    logger.debug({ treasuryId: 'pstr-main', cycleId: 'pstr-main/3' }, 'explicit treasury');
    childFor(logger, { workflowId: 'monitor/pstr-main', cycleId: 'pstr-main/4' }).info('cycle');
    childFor(logger, { workflowId: 'intervention/pstr-main/1', step: 'timelock' }).warn('waiting for approval');
    const { raw, parsed } = await lines(4);
    expect(parsed).toHaveLength(4);
    for (const [i, line] of parsed.entries()) {
      expect(line, `line ${i}`).toMatchObject({ treasuryId: 'pstr-main', service: 'pstr-treasury-agent', pid: process.pid });
      expect(typeof line.hostname).toBe('string');
      expect(new Date(line.time as string).toISOString()).toBe(line.time);
      expect((raw[i] as string).match(/"treasuryId":/g)).toHaveLength(1);
    }
    expect(parsed.map((l) => l.level)).toEqual(['info', 'debug', 'info', 'warn']);
    expect(parsed[2]).toMatchObject({ workflowId: 'monitor/pstr-main', cycleId: 'pstr-main/4', msg: 'cycle' });
    expect(parsed[3]).toMatchObject({ workflowId: 'intervention/pstr-main/1', step: 'timelock' });
  });

  it('adds the workflow, activity, attempt and cycle or step to every line an activity writes, through the interceptor', async () => {
    const { logger, lines } = fileLogger();
    const interceptor = (activityType: string, workflowId: string) =>
      activityInterceptors(new Metrics({ processMetrics: false }))
        .call(null, { info: { activityType, attempt: 3, workflowType: 'x', workflowExecution: { workflowId, runId: 'r' } } } as unknown as Context)
        .inbound as Required<ActivityInboundCallsInterceptor>;
    const cycle = { summary: { cycleId: 'pstr-main/12' } };
    await interceptor('recordCycle', 'monitor/pstr-main').execute({ args: [{ treasuryId: 'pstr-main', cycle }], headers: {} }, async () => {
      await new Promise((r) => setTimeout(r, 5)); // across an await, as real activities log
      logger.info('cycle recorded');
      return undefined;
    });
    await interceptor('recordInterventionStep', 'intervention/pstr-main/2').execute(
      { args: [{ treasuryId: 'pstr-main', interventionId: 'intervention/pstr-main/2', step: { step: 'size', verdict: 'ok' } }], headers: {} },
      () => Promise.resolve(logger.info({ step: 'size' }, 'step')),
    );
    logger.info('outside any activity');
    const { parsed, raw } = await lines(3);
    expect(parsed[0]).toMatchObject({ workflowId: 'monitor/pstr-main', activity: 'recordCycle', attempt: 3, cycleId: 'pstr-main/12', treasuryId: 'pstr-main' });
    expect(parsed[1]).toMatchObject({ workflowId: 'intervention/pstr-main/2', activity: 'recordInterventionStep', step: 'size' });
    expect((raw[1] as string).match(/"step":/g)).toHaveLength(1);
    expect(parsed[2]).not.toHaveProperty('workflowId');
    expect(parsed[2]).toMatchObject({ treasuryId: 'pstr-main' });
  });

  it('nests contexts: an inner withLogContext adds to the outer one', async () => {
    const { logger, lines } = fileLogger();
    withLogContext({ workflowId: 'monitor/pstr-main' }, () => withLogContext({ cycleId: 'pstr-main/1' }, () => logger.info('inner')));
    const { parsed } = await lines(1);
    expect(parsed[0]).toMatchObject({ workflowId: 'monitor/pstr-main', cycleId: 'pstr-main/1' });
  });
});

describe('options', () => {
  it('refuses an unknown level and an empty treasury id, naming the value', () => {
    expect(() => createLogger({ treasuryId: 'pstr-main', level: 'loud' })).toThrow(/level = "loud" is not a log level/);
    expect(() => createLogger({ treasuryId: '' })).toThrow(/treasuryId = ""/);
    expect(() => childFor(createLogger({ treasuryId: 't', level: 'silent' }), { workflowId: '' })).toThrow(/workflowId = ""/);
  });

  it('writes JSON to stdout when it is not a terminal, and pretty text only when asked or on a terminal', () => {
    const script = join(dir, 'to-stdout.ts');
    const loggerPath = fileURLToPath(new URL('../../src/ops/logger.ts', import.meta.url));
    writeFileSync(script, `import { createLogger } from ${JSON.stringify(loggerPath)};\nconst pretty = process.argv[2] === 'pretty' ? true : undefined;\ncreateLogger({ treasuryId: 'pstr-main', destination: 'stdout', pretty }).info({ apiKey: 'sekrit' }, 'hello');\n`);
    const run = (arg: string) => spawnSync(process.execPath, ['--import', 'tsx', script, arg], { encoding: 'utf8', timeout: 20_000 });
    const plain = run('auto');
    expect(plain.status, plain.stderr).toBe(0);
    const line = JSON.parse(plain.stdout.trim()) as Record<string, unknown>;
    expect(line).toMatchObject({ treasuryId: 'pstr-main', msg: 'hello', apiKey: '[redacted]' });
    const pretty = run('pretty');
    expect(pretty.status, pretty.stderr).toBe(0);
    expect(pretty.stdout).toMatch(/INFO.*hello/);
    expect(pretty.stdout).not.toContain('sekrit');
    expect(() => JSON.parse(pretty.stdout.trim()) as unknown).toThrow();
  });
});
