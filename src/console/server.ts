/**
 * The web console, served by the worker process: the page, uPlot from
 * node_modules (no CDN), the operator report as HTML, and the JSON API
 * (src/console/api.ts). Loopback by default (config `console`); the page's
 * Content-Security-Policy forbids loading anything from another origin.
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { createAdaptorServer } from '@hono/node-server';
import type { Client, Connection } from '@temporalio/client';
import type { TreasuryStore } from '../db/store.ts';
import type { Target } from '../client/connect.ts';
import { lastWatchdogVerdict, type WatchdogReading } from '../client/liveness.ts';
import { renderOperatorReport } from '../report/html.ts';
import { uplotAssets } from '../report/html-kit.ts';
import { consoleApi } from './api.ts';
import { reportView } from './data.ts';
import { consolePage } from './page.ts';

export interface ConsoleOptions {
  client: Client;
  treasuries: readonly string[];
  store?: TreasuryStore | undefined;
  watchdog?: ((treasuryId: string) => Promise<WatchdogReading>) | undefined;
  host: string;
  /** 0 picks a free port. */
  port: number;
}

export interface RunningConsole {
  url: string;
  close(): Promise<void>;
}

const CSP = "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'";

export async function startConsole(opts: ConsoleOptions): Promise<RunningConsole> {
  const app = consoleApi({ client: opts.client, treasuries: opts.treasuries, store: opts.store, watchdog: opts.watchdog });
  const html = (body: string) => new Response(body, { headers: { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': CSP, 'x-content-type-options': 'nosniff' } });
  const page = consolePage();
  app.get('/', () => html(page));
  app.get('/favicon.ico', (c) => c.body(null, 204));
  app.get('/assets/uplot.js', (c) => c.body(uplotAssets().js, 200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'max-age=3600' }));
  app.get('/assets/uplot.css', (c) => c.body(uplotAssets().css, 200, { 'content-type': 'text/css; charset=utf-8', 'cache-control': 'max-age=3600' }));
  app.get('/treasuries/:treasury/report', async (c) => {
    const treasuryId = c.req.param('treasury');
    if (!opts.treasuries.includes(treasuryId)) return c.json({ error: `treasury "${treasuryId}" is not run by this fleet` }, 404);
    const now = Date.now();
    const report = await reportView({ client: opts.client, treasuries: opts.treasuries }, treasuryId, now);
    return html(renderOperatorReport(report, { title: `PSTR treasury ${treasuryId} — operator report`, generatedAt: new Date(now).toISOString() }));
  });

  const server = createAdaptorServer({ fetch: app.fetch, hostname: opts.host, port: opts.port });
  server.listen(opts.port, opts.host);
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  const host = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  return {
    url: `http://${host}:${port}/`,
    async close() {
      // Open event streams would hold close() forever.
      (server as { closeAllConnections?: () => void }).closeAllConnections?.();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The watchdog's last verdict as `pstr status` reads it, for the console's status. */
export function watchdogReader(client: Client, target: Target): (treasuryId: string) => Promise<WatchdogReading> {
  return (treasuryId) => lastWatchdogVerdict({ client, connection: client.connection as Connection, target, close: () => Promise.resolve(), treasuryId, out: () => undefined, now: Date.now });
}
