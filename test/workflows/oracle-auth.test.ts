/**
 * Refused oracle credentials through the monitor's own path: the real Hermes
 * client (with its Bearer key) against a local Hermes that answers 401 or 403,
 * read by the real observeMarket activity on a time-skipping Temporal server;
 * the cycle's classification raises the distinct critical `oracle-auth` alert
 * and recordCycle stores it. The key is in the request the server received,
 * and nowhere in the alert or the worker's log.
 */
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ActivityDeps } from '../../src/activities/index.ts';
import { createHermesClient, fetchPythReadings, pythRead, PYTH_SOURCE } from '../../src/oracles/pyth.ts';
import { resilientSource } from '../../src/oracles/resilience.ts';
import { monitorWorkflowId, statusQuery } from '../../src/workflows/contract.ts';
import { strategyMonitor } from '../../src/workflows/index.ts';
import { FixtureServer } from '../oracles/fixture-server.ts';
import { MINUTE, harness, sharedEnv, testConfig } from './harness.ts';

const LATEST = '/v2/updates/price/latest';
const FEED = 'ef0d8b6fda2ceba41da15d4095d1da392a0d2f8ed0c6c7bc0f4cfac8c280b56d';
const SECRET = 'pyth-key-7f3a9c-do-not-log';

let hermes: FixtureServer;
beforeAll(async () => {
  hermes = await FixtureServer.start();
});
afterAll(async () => {
  await hermes.close();
  await (await sharedEnv()).teardown();
});

/** Every log line the worker writes, as text. */
function capturingLogger(): { logger: ActivityDeps['logger']; text: () => string } {
  const lines: string[] = [];
  const sink = new Writable({ write(chunk, _enc, done) { lines.push(String(chunk)); done(); } });
  return { logger: pino({ level: 'trace' }, sink), text: () => lines.join('') };
}

/** The paper world's simulated Pyth replaced by the real Hermes reader against the local server. */
function realPyth(logger: ActivityDeps['logger']) {
  return (deps: ActivityDeps): ActivityDeps => ({
    ...deps, logger,
    sources: deps.sources.map((s) => (s.name !== PYTH_SOURCE ? s : resilientSource(
      PYTH_SOURCE,
      pythRead(createHermesClient({ endpoint: hermes.url, apiKey: SECRET, timeoutMs: 5_000 }), FEED, { maxStalenessSeconds: 60 }),
      { timeoutMs: 2_000, retries: 1, retryBackoffMs: 10, breaker: { failureThreshold: 100, cooldownMs: 1_000 } },
    ))),
  });
}

describe('an oracle that refuses our API key', () => {
  for (const status of [401, 403]) {
    it(`raises one critical oracle-auth alert on HTTP ${status}, naming the source and status but never the key, while the other two sources keep the price`, async () => {
      hermes.requests.length = 0;
      hermes.on('GET', LATEST, { status, json: { message: status === 401 ? 'Unauthorized: invalid or missing API key' : 'Forbidden' } });
      const log = capturingLogger();
      const h = await harness(testConfig(), { wrapDeps: realPyth(log.logger) });
      try {
        await h.run(async () => {
          const monitor = await h.env.client.workflow.start(strategyMonitor, {
            taskQueue: h.taskQueue, workflowId: monitorWorkflowId(h.treasuryId), args: [{ config: h.config }],
          });
          try {
            await h.env.sleep(16 * MINUTE);
            expect((await monitor.query(statusQuery)).cycles).toBeGreaterThanOrEqual(3);
          } finally {
            await monitor.terminate();
          }
        });
        const alerts = await h.world.store.alerts(h.treasuryId);
        const auth = alerts.filter((a) => a.kind === 'oracle-auth');
        // Once, not every cycle while the key stays refused; and not also as a plain "source failing" warning.
        expect(auth).toHaveLength(1);
        expect(auth[0]?.level).toBe('critical');
        expect(auth[0]?.data).toMatchObject({ source: PYTH_SOURCE, status });
        expect(auth[0]?.message).toMatch(new RegExp(`Oracle source pyth refused our credentials \\(HTTP ${status}\\)`));
        expect(auth[0]?.message).toMatch(/oracle\.pyth\.apiKey names the environment variable/);
        expect(alerts.filter((a) => a.kind === 'oracle-source-failing' && (a.data as { source?: string }).source === PYTH_SOURCE)).toEqual([]);
        // The key went out as Hermes wants it...
        expect(hermes.requestsTo(LATEST).length).toBeGreaterThanOrEqual(3);
        for (const r of hermes.requestsTo(LATEST)) expect(r.headers.authorization).toBe(`Bearer ${SECRET}`);
        // ...and never came back in an alert, a cycle record or a log line.
        expect(JSON.stringify(alerts)).not.toContain(SECRET);
        const logs = await h.world.store.monitoringLogs(h.treasuryId, 0, Number.MAX_SAFE_INTEGER);
        expect(logs.length).toBeGreaterThanOrEqual(3);
        expect(JSON.stringify(logs)).not.toContain(SECRET);
        expect(log.text()).toContain('oracle-auth');
        expect(log.text()).not.toContain(SECRET);
        // Pyth is out, Switchboard and the DEX agree: the cycles still have a valid price.
        expect(logs.every((l) => (l.data as { summary: { validPrice: boolean } }).summary.validPrice)).toBe(true);
      } finally {
        await h.close();
      }
    }, 60_000);
  }

  it('raises it too when the refused key is the market read (PUMP/SOL): those cycles have no price and fail closed, the alert names pyth-market once', async () => {
    hermes.requests.length = 0;
    hermes.on('GET', LATEST, { status: 401, json: { message: 'Unauthorized: invalid or missing API key' } });
    const log = capturingLogger();
    const client = createHermesClient({ endpoint: hermes.url, apiKey: SECRET, timeoutMs: 5_000 });
    const h = await harness(testConfig(), {
      wrapDeps: (deps) => {
        // The single market read (a market without PUMP/SOL consensus sources), whose Hermes request is refused.
        const { priceSources: _consensusSources, ...market } = deps.market;
        return {
          ...realPyth(log.logger)(deps),
          market: { ...market, pumpPrice: async () => (await fetchPythReadings(client, [FEED], { source: 'pyth-market', maxStalenessSeconds: 60 }))[0]?.price ?? NaN },
        };
      },
    });
    try {
      await h.run(async () => {
        const monitor = await h.env.client.workflow.start(strategyMonitor, {
          taskQueue: h.taskQueue, workflowId: monitorWorkflowId(h.treasuryId), args: [{ config: h.config }],
        });
        try {
          await h.env.sleep(16 * MINUTE);
          expect((await monitor.query(statusQuery)).cycles).toBeGreaterThanOrEqual(3);
        } finally {
          await monitor.terminate();
        }
      });
      const alerts = await h.world.store.alerts(h.treasuryId);
      const auth = alerts.filter((a) => a.kind === 'oracle-auth');
      expect(auth.map((a) => a.data)).toEqual([expect.objectContaining({ source: 'pyth-market', status: 401 })]);
      expect(auth[0]?.level).toBe('critical');
      expect(JSON.stringify(alerts)).not.toContain(SECRET);
      expect(log.text()).not.toContain(SECRET);
      const logs = await h.world.store.monitoringLogs(h.treasuryId, 0, Number.MAX_SAFE_INTEGER);
      expect(logs.length).toBeGreaterThanOrEqual(3);
      expect(logs.some((l) => (l.data as { summary: { validPrice: boolean } }).summary.validPrice)).toBe(false);
    } finally {
      await h.close();
    }
  }, 60_000);
});
