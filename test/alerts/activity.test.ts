import { ApplicationFailure } from '@temporalio/common';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ALERT_DELIVERY_FAILED, alertActivities, type AlertToDeliver } from '../../src/alerts/activity.ts';
import { alertsConfigSchema } from '../../src/alerts/config.ts';
import { alertRow, deliveryOf, undeliveredCritical } from '../../src/db/alert-delivery.ts';
import type { TreasuryStore } from '../../src/db/store.ts';
import { STORE_BACKENDS } from '../support/stores.ts';
import { startReceiver, type Receiver } from './receiver.ts';

const T = 'pstr-main';
const T0 = Date.UTC(2025, 0, 2, 3, 0, 0);
const MIN = 60_000;
const TOKEN = '987654:tg-SECRET-token';
const SLACK = '/services/T1/B1/slack-SECRET';
const DISCORD = '/api/webhooks/7/discord-SECRET';
const HOOK = '/generic/hook-SECRET';

let rx: Receiver;
let store: TreasuryStore;
let logLines: string[];

beforeAll(async () => { rx = await startReceiver(); });
afterAll(() => rx.close());
beforeEach(() => {
  rx.requests.length = 0;
  rx.fallback = { status: 200, body: 'ok' };
  logLines = [];
});

type SinkName = 'slack' | 'discord' | 'telegram' | 'webhook';

function activities(use: readonly SinkName[], extra: Record<string, unknown> = {}) {
  const all = {
    slack: { type: 'slack', webhookUrl: { env: 'SLACK_URL' } },
    discord: { type: 'discord', webhookUrl: `${rx.base}${DISCORD}` },
    telegram: { type: 'telegram', botToken: { env: 'TG_TOKEN' }, chatId: 5, apiBaseUrl: rx.base },
    webhook: { type: 'webhook', url: `${rx.base}${HOOK}` },
  };
  const alerts = alertsConfigSchema.parse({ sinkTimeoutMs: 500, ...extra, sinks: use.map((n) => all[n]) });
  const logger = pino({ level: 'debug' }, { write: (line: string) => { logLines.push(line); } });
  return alertActivities({ store, logger, alerts, env: { SLACK_URL: `${rx.base}${SLACK}`, TG_TOKEN: TOKEN }, clock: () => T0 });
}

const ratioCritical = (key: string, at: number): AlertToDeliver => ({
  key, level: 'critical', kind: 'reserve-ratio-critical', message: 'Reserve ratio 1.40 fell below 1.5.', data: { reserveRatio: 1.4 }, at,
});
const outlier = (key: string, at: number, source: string): AlertToDeliver => ({
  key, level: 'warning', kind: 'oracle-outlier', message: `Oracle source ${source} deviated.`, data: { source }, at,
});

/** Runs the activity; returns the failure it threw, or null. */
async function attempt(run: () => Promise<unknown>): Promise<ApplicationFailure | null> {
  try {
    await run();
    return null;
  } catch (err) {
    if (err instanceof ApplicationFailure) return err;
    throw err;
  }
}

const allText = (f: ApplicationFailure | null) => `${f?.message ?? ''} ${JSON.stringify(f?.details ?? [])}`;

for (const backend of STORE_BACKENDS) {
  describe.skipIf(!backend.available)(`on ${backend.name}`, () => {
    beforeEach(async () => {
      store = await backend.throwaway();
    });
    afterEach(async () => {
      await store.close();
    });

    describe('deliverAlerts: retries', () => {
      it('fails retryably on a 5xx, and the retry succeeds with one more request', async () => {
        const acts = activities(['slack']);
        rx.script({ status: 503, body: 'busy' });
        const input = { treasuryId: T, alerts: [ratioCritical('c1/0/reserve-ratio-critical', T0)] };

        const first = await attempt(() => acts.deliverAlerts(input));
        expect(first?.type).toBe(ALERT_DELIVERY_FAILED);
        expect(first?.nonRetryable).toBe(false);
        expect(first?.message).toContain('slack');
        expect((await alertRow(store, T, 'c1/0/reserve-ratio-critical'))?.delivered).toBe(false);
        expect((await undeliveredCritical(store, T)).map((u) => [u.alertKey, u.failures[0]?.error])).toEqual([['c1/0/reserve-ratio-critical', 'HTTP 503 Service Unavailable: busy']]);

        const second = await acts.deliverAlerts(input);
        expect(second.outcomes[0]).toMatchObject({ decision: 'deliver', reached: true, sinks: [{ sink: 'slack', ok: true }] });
        expect(rx.to(SLACK)).toHaveLength(2);
        expect((await alertRow(store, T, 'c1/0/reserve-ratio-critical'))?.delivered).toBe(true);
        expect(await undeliveredCritical(store, T)).toEqual([]);
      });

      it('does not retry a 400: no failure is thrown and a later attempt sends nothing', async () => {
        const acts = activities(['discord']);
        rx.script({ status: 400, body: '{"message":"Cannot send an empty message"}' });
        const input = { treasuryId: T, alerts: [ratioCritical('c1/0/x', T0)] };

        const result = await acts.deliverAlerts(input);
        expect(result.outcomes[0]).toMatchObject({ reached: false, sinks: [{ sink: 'discord', ok: false, retryable: false }] });
        await acts.deliverAlerts(input);
        expect(rx.to(DISCORD)).toHaveLength(1);
        // No sink took it: the status must show it.
        expect((await undeliveredCritical(store, T)).map((u) => u.failures)).toEqual([[
          { sink: 'discord', error: 'HTTP 400 Bad Request: {"message":"Cannot send an empty message"}', retryable: false, attempts: 1 },
        ]]);
      });

      it('retries a 429, asking Temporal to wait the Retry-After', async () => {
        const acts = activities(['telegram']);
        rx.script({ status: 429, headers: { 'retry-after': '12' }, body: '{"ok":false}' });
        const input = { treasuryId: T, alerts: [outlier('c1/0/oracle-outlier', T0, 'pyth')] };

        const first = await attempt(() => acts.deliverAlerts(input));
        expect(first?.nonRetryable).toBe(false);
        expect(first?.nextRetryDelay).toBe(12_000);
        await acts.deliverAlerts(input);
        expect(rx.to(`/bot${TOKEN}/sendMessage`)).toHaveLength(2);
      });

      it('after a partial failure re-sends only to the sink that failed', async () => {
        const acts = activities(['slack', 'discord', 'webhook']);
        const input = { treasuryId: T, alerts: [ratioCritical('c2/0/x', T0)] };
        // The three requests are concurrent: the 500 is routed to Discord by path, whatever the arrival order.
        const failing = activitiesFailingOnly(DISCORD);
        const first = await attempt(() => failing.deliverAlerts(input));
        expect(first?.message).toMatch(/sink\(s\) discord;/);
        expect(JSON.stringify(first?.details)).toBe(JSON.stringify([{ sinks: ['discord'], alerts: ['c2/0/x'] }]));
        // Reached through Slack and the webhook already: not an undelivered critical.
        expect(await undeliveredCritical(store, T)).toEqual([]);

        await acts.deliverAlerts(input);
        expect(rx.to(SLACK)).toHaveLength(1);
        expect(rx.to(HOOK)).toHaveLength(1);
        expect(rx.to(DISCORD)).toHaveLength(2);
        const d = deliveryOf(await alertRow(store, T, 'c2/0/x') ?? { data: null });
        expect(d?.decision === 'deliver' && Object.fromEntries(Object.entries(d.sinks).map(([k, o]) => [k, [o.ok, o.attempts]])))
          .toEqual({ slack: [true, 1], discord: [true, 2], webhook: [true, 1] });
      });

      it('reports a timed-out sink as retryable and names it', async () => {
        const acts = activities(['webhook']);
        rx.script({ status: 200, delayMs: 2_000 });
        const failure = await attempt(() => acts.deliverAlerts({ treasuryId: T, alerts: [ratioCritical('c3/0/x', T0)] }));
        expect(failure?.message).toContain('webhook: timed out after 500 ms');
      });
    });

    /** The same three sinks, where only requests to `failPath` get a 500 (concurrent requests arrive in any order). */
    function activitiesFailingOnly(failPath: string) {
      const realFetch = fetch;
      const failingFetch: typeof fetch = async (url, init) => {
        if ((typeof url === 'string' ? url : url instanceof URL ? url.href : url.url).includes(failPath)) {
          await realFetch(url, init); // the receiver still sees it
          return new Response('oops', { status: 500 });
        }
        return realFetch(url, init);
      };
      return alertActivities({
        store, logger: pino({ level: 'silent' }),
        alerts: alertsConfigSchema.parse({ sinks: [
          { type: 'slack', webhookUrl: `${rx.base}${SLACK}` },
          { type: 'discord', webhookUrl: `${rx.base}${DISCORD}` },
          { type: 'webhook', url: `${rx.base}${HOOK}` },
        ] }),
        fetchImpl: failingFetch, clock: () => T0,
      });
    }

    describe('deliverAlerts: dedupe window', () => {
      it('collapses a repeat within the window and reports the count with the next notice', async () => {
        const acts = activities(['webhook'], { dedupeWindowSeconds: 600 });
        for (const [i, at] of [T0, T0 + 5 * MIN, T0 + 10 * MIN].entries()) {
          await acts.deliverAlerts({ treasuryId: T, alerts: [outlier(`c${i}/0/oracle-outlier`, at, 'pyth')] });
        }
        const sent = rx.to(HOOK).map((r) => r.json as { message: string; count: number });
        expect(sent.map((s) => s.count)).toEqual([1, 2]);
        expect(sent[1]?.message).toBe('Oracle source pyth deviated. (×2 in the last 5 min)');
        // The collapsed one is in the store, delivered through the notice it joined.
        expect((await alertRow(store, T, 'c1/0/oracle-outlier'))?.delivered).toBe(true);
        expect(deliveryOf(await alertRow(store, T, 'c1/0/oracle-outlier') ?? { data: null })).toMatchObject({ decision: 'collapse', into: 'c0/0/oracle-outlier' });
      });

      it('does not collapse outliers from two different sources', async () => {
        const acts = activities(['webhook'], { dedupeWindowSeconds: 600 });
        await acts.deliverAlerts({ treasuryId: T, alerts: [outlier('c0/0/o', T0, 'pyth'), outlier('c0/1/o', T0, 'dex')] });
        expect(rx.to(HOOK)).toHaveLength(2);
      });

      it('collapses the second of two identical alerts in one batch', async () => {
        const acts = activities(['webhook'], { dedupeWindowSeconds: 600 });
        await acts.deliverAlerts({ treasuryId: T, alerts: [ratioCritical('a/0', T0), ratioCritical('b/0', T0 + MIN)] });
        expect(rx.to(HOOK)).toHaveLength(1);
      });

      it('does not collapse into a notice that reached nobody', async () => {
        const acts = activities(['discord'], { dedupeWindowSeconds: 600 });
        rx.script({ status: 400 });
        await acts.deliverAlerts({ treasuryId: T, alerts: [ratioCritical('a/0', T0)] });
        await acts.deliverAlerts({ treasuryId: T, alerts: [ratioCritical('b/0', T0 + MIN)] });
        const sent = rx.to(DISCORD).map((r) => (r.json as { content: string }).content);
        expect(sent).toHaveLength(2);
        expect(sent[1]).toContain('(×2 in the last 1 min)');
        expect((await undeliveredCritical(store, T)).map((u) => u.alertKey)).toEqual(['a/0']);
      });

      it('keeps the decision on a retry: a collapsed alert stays collapsed', async () => {
        const acts = activities(['webhook'], { dedupeWindowSeconds: 600 });
        await acts.deliverAlerts({ treasuryId: T, alerts: [ratioCritical('a/0', T0)] });
        const input = { treasuryId: T, alerts: [ratioCritical('b/0', T0 + MIN)] };
        await acts.deliverAlerts(input);
        await acts.deliverAlerts(input);
        expect(rx.to(HOOK)).toHaveLength(1);
      });
    });

    describe('deliverAlerts: store and secrets', () => {
      it('joins the row recordCycle already wrote, keeping its data', async () => {
        await store.recordAlert({ treasuryId: T, alertKey: 'cy/0/reserve-ratio-critical', at: T0, level: 'critical', kind: 'reserve-ratio-critical', message: 'm', data: { cycleId: 'cy' } });
        await activities(['webhook']).deliverAlerts({ treasuryId: T, alerts: [ratioCritical('cy/0/reserve-ratio-critical', T0)] });
        const row = await alertRow(store, T, 'cy/0/reserve-ratio-critical');
        expect(row?.delivered).toBe(true);
        expect(row?.data).toMatchObject({ cycleId: 'cy', delivery: { decision: 'deliver', reached: true } });
      });

      it('with no sink configured, counts the log and the store as delivery', async () => {
        const result = await activities([]).deliverAlerts({ treasuryId: T, alerts: [ratioCritical('a/0', T0)] });
        expect(result.outcomes[0]).toMatchObject({ reached: true, sinks: [] });
        expect(await undeliveredCritical(store, T)).toEqual([]);
      });

      it('sends only the levels a sink takes', async () => {
        const acts = alertActivities({
          store, logger: pino({ level: 'silent' }), clock: () => T0,
          alerts: alertsConfigSchema.parse({ sinks: [{ type: 'webhook', url: `${rx.base}${HOOK}`, levels: ['critical'] }] }),
        });
        const result = await acts.deliverAlerts({ treasuryId: T, alerts: [outlier('w/0', T0, 'pyth')] });
        expect(rx.requests).toHaveLength(0);
        expect(result.outcomes[0]?.reached).toBe(true);
      });

      it('never puts a URL or token in the thrown failure or the logs', async () => {
        const acts = activities(['slack', 'discord', 'telegram', 'webhook']);
        rx.fallback = { status: 502, body: `upstream said: ${rx.base}${SLACK} ${DISCORD} bot${TOKEN} ${HOOK}` };
        const failure = await attempt(() => acts.deliverAlerts({ treasuryId: T, alerts: [ratioCritical('s/0', T0)] }));
        expect(failure?.message).toMatch(/sink\(s\) slack, discord, telegram, webhook/);
        const stored = JSON.stringify(await undeliveredCritical(store, T));
        for (const text of [allText(failure), logLines.join('\n'), stored]) {
          expect(text).not.toMatch(/SECRET/);
          expect(text).toContain('[redacted]');
        }
      });

      it('refuses an alert with an unknown level, naming the field and value, without retrying', async () => {
        const failure = await attempt(() => activities([]).deliverAlerts({ treasuryId: T, alerts: [{ ...ratioCritical('a', T0), level: 'loud' as never }] }));
        expect(failure?.nonRetryable).toBe(true);
        expect(failure?.message).toBe('alerts[0].level must be one of critical, warning, info, governance, got "loud"');
      });
    });

    describe('undeliveredCriticalAlerts', () => {
      it('lists critical alerts no sink has taken, oldest first, and ignores warnings', async () => {
        const acts = activities(['slack']);
        rx.fallback = { status: 500 };
        await attempt(() => acts.deliverAlerts({ treasuryId: T, alerts: [ratioCritical('late', T0 + MIN), ratioCritical('early/x', T0 - 20 * MIN), outlier('w', T0, 'pyth')] }));
        const listed = await acts.undeliveredCriticalAlerts({ treasuryId: T });
        expect(listed.map((u) => u.alertKey)).toEqual(['early/x', 'late']);
        expect((await acts.undeliveredCriticalAlerts({ treasuryId: T, sinceMs: T0 })).map((u) => u.alertKey)).toEqual(['late']);
      });
    });
  });
}
