import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { alertsConfigSchema } from '../../src/alerts/config.ts';
import { deliverAlert, retryAfterMs, sendToSink } from '../../src/alerts/deliver.ts';
import { DISCORD_CONTENT_MAX, TELEGRAM_TEXT_MAX, resolveSinks, type AlertNotice, type ResolvedSink } from '../../src/alerts/sinks.ts';
import { startReceiver, type Receiver } from './receiver.ts';

const AT = Date.UTC(2025, 0, 2, 3, 4, 5);
const TOKEN = '123456789:AAH-secret_bot_key';
const SLACK_PATH = '/services/T000/B000/slackSecretXYZ';
const DISCORD_PATH = '/api/webhooks/42/discordSecretABC';

const notice: AlertNotice = {
  treasuryId: 'pstr-main', level: 'critical', kind: 'reserve-ratio-critical',
  message: 'Reserve ratio 1.40 fell below 1.5 <now> & then', data: { reserveRatio: 1.4, threshold: 1.5 }, at: AT, count: 3,
};

let rx: Receiver;
let sinks: { webhook: ResolvedSink; slack: ResolvedSink; discord: ResolvedSink; telegram: ResolvedSink; telegramHtml: ResolvedSink };

function sinksAt(base: string) {
  const config = alertsConfigSchema.parse({
    sinks: [
      { type: 'webhook', url: `${base}/hook/generic`, headers: { Authorization: 'Bearer hdr-secret-1' } },
      { type: 'slack', webhookUrl: `${base}${SLACK_PATH}` },
      { type: 'discord', webhookUrl: `${base}${DISCORD_PATH}`, username: 'Treasury' },
      { type: 'telegram', botToken: TOKEN, chatId: -1001, apiBaseUrl: base },
      { type: 'telegram', name: 'telegram-html', botToken: TOKEN, chatId: '@ops', apiBaseUrl: `${base}/`, parseMode: 'HTML' },
    ],
  });
  const [webhook, slack, discord, telegram, telegramHtml] = resolveSinks(config, {});
  if (!webhook || !slack || !discord || !telegram || !telegramHtml) throw new Error('expected five sinks');
  return { webhook, slack, discord, telegram, telegramHtml };
}

beforeAll(async () => {
  rx = await startReceiver();
  sinks = sinksAt(rx.base);
});
afterAll(() => rx.close());
beforeEach(() => {
  rx.requests.length = 0;
  rx.fallback = { status: 200, body: 'ok' };
});

describe('payload shape per service', () => {
  it('posts the generic webhook the alert as JSON with its treasury, ISO time and count, and the configured header', async () => {
    const [r] = await deliverAlert([sinks.webhook], notice);
    expect(r?.ok).toBe(true);
    const req = rx.to('/hook/generic')[0];
    expect(req?.method).toBe('POST');
    expect(req?.headers['content-type']).toBe('application/json');
    expect(req?.headers.authorization).toBe('Bearer hdr-secret-1');
    expect(req?.json).toEqual({
      level: 'critical', kind: 'reserve-ratio-critical', message: notice.message, data: { reserveRatio: 1.4, threshold: 1.5 },
      treasuryId: 'pstr-main', at: '2025-01-02T03:04:05.000Z', count: 3,
    });
  });

  it('posts Slack a text fallback and blocks, escaping mrkdwn control characters', async () => {
    await deliverAlert([sinks.slack], notice);
    const body = rx.to(SLACK_PATH)[0]?.json as { text: string; blocks: { type: string; text?: { text: string } }[] };
    expect(body.text).toContain('CRITICAL · reserve-ratio-critical · pstr-main');
    expect(body.text).toContain('&lt;now&gt; &amp; then');
    expect(body.blocks.map((b) => b.type)).toEqual(['header', 'section', 'context']);
    expect(body.blocks[1]?.text?.text).toBe('Reserve ratio 1.40 fell below 1.5 &lt;now&gt; &amp; then');
  });

  it('posts Discord content with an embed in the level colour, mentions disabled', async () => {
    await deliverAlert([sinks.discord], notice);
    const body = rx.to(DISCORD_PATH)[0]?.json as Record<string, unknown>;
    expect(body.content).toBe(`**🔴 CRITICAL · reserve-ratio-critical · pstr-main**\n${notice.message}`);
    expect(body.allowed_mentions).toEqual({ parse: [] });
    expect(body.username).toBe('Treasury');
    expect(body.embeds).toEqual([{
      title: 'CRITICAL · reserve-ratio-critical', color: 0xd93f0b, timestamp: '2025-01-02T03:04:05.000Z',
      fields: [{ name: 'reserveRatio', value: '1.4', inline: true }, { name: 'threshold', value: '1.5', inline: true }],
    }]);
  });

  it('keeps Discord content within 2000 characters for a long message', async () => {
    await deliverAlert([sinks.discord], { ...notice, message: 'x'.repeat(5000) });
    const content = (rx.to(DISCORD_PATH)[0]?.json as { content: string }).content;
    expect(content.length).toBe(DISCORD_CONTENT_MAX);
    expect(content.endsWith('…')).toBe(true);
  });

  it('calls Telegram sendMessage at /bot<token>/ with chat_id and plain text', async () => {
    await deliverAlert([sinks.telegram], notice);
    const req = rx.requests[0];
    expect(req?.path).toBe(`/bot${TOKEN}/sendMessage`);
    expect(req?.json).toEqual({ chat_id: -1001, text: `🔴 CRITICAL · reserve-ratio-critical · pstr-main\n${notice.message}` });
  });

  it('sends Telegram HTML with parse_mode, the message escaped and within 4096 characters', async () => {
    await deliverAlert([sinks.telegramHtml], { ...notice, message: '<&>'.repeat(3000) });
    const req = rx.requests[0];
    expect(req?.path).toBe(`/bot${TOKEN}/sendMessage`);
    const body = req?.json as { chat_id: string; text: string; parse_mode: string };
    expect(body.chat_id).toBe('@ops');
    expect(body.parse_mode).toBe('HTML');
    expect(body.text.startsWith('<b>🔴 CRITICAL · reserve-ratio-critical · pstr-main</b>\n&lt;&amp;&gt;')).toBe(true);
    expect(body.text.length).toBeLessThanOrEqual(TELEGRAM_TEXT_MAX);
    // Cut before escaping: no entity is split at the end.
    expect(body.text).toMatch(/(&lt;|&amp;|&gt;)…$/);
  });

  it('sends one request per sink, all in one call', async () => {
    const results = await deliverAlert([sinks.webhook, sinks.slack, sinks.discord, sinks.telegram], notice);
    expect(results.map((r) => [r.sink, r.ok])).toEqual([['webhook', true], ['slack', true], ['discord', true], ['telegram', true]]);
    expect(rx.requests).toHaveLength(4);
  });
});

describe('failure classification', () => {
  it('reports a 503 as retryable', async () => {
    rx.script({ status: 503, body: 'down for maintenance' });
    const r = await sendToSink(sinks.slack, notice);
    expect(r).toMatchObject({ ok: false, retryable: true, status: 503, error: 'HTTP 503 Service Unavailable: down for maintenance' });
  });

  it('reports a 400 as not retryable', async () => {
    rx.script({ status: 400, body: 'invalid_payload' });
    expect(await sendToSink(sinks.slack, notice)).toMatchObject({ ok: false, retryable: false, status: 400 });
  });

  it('reports a 429 as retryable with its Retry-After', async () => {
    rx.script({ status: 429, headers: { 'retry-after': '7' } });
    expect(await sendToSink(sinks.discord, notice)).toMatchObject({ ok: false, retryable: true, status: 429, retryAfterMs: 7000 });
  });

  it('reads Telegram\'s retry_after from its JSON answer', async () => {
    rx.script({ status: 429, body: JSON.stringify({ ok: false, error_code: 429, parameters: { retry_after: 3 } }) });
    expect(await sendToSink(sinks.telegram, notice)).toMatchObject({ retryable: true, retryAfterMs: 3000 });
  });

  it('does not follow a redirect, and does not retry it', async () => {
    rx.script({ status: 302, headers: { location: 'http://127.0.0.1:9/elsewhere' } });
    expect(await sendToSink(sinks.webhook, notice)).toMatchObject({ ok: false, retryable: false, status: 302 });
    expect(rx.requests).toHaveLength(1);
  });

  it('gives up on a slow sink at the timeout and reports it retryable', async () => {
    rx.script({ status: 200, delayMs: 2_000 });
    const started = Date.now();
    const r = await sendToSink(sinks.slack, notice, { timeoutMs: 150 });
    expect(Date.now() - started).toBeLessThan(1_500);
    expect(r).toMatchObject({ ok: false, retryable: true, status: null, error: 'timed out after 150 ms' });
  });

  it('parses Retry-After given as an HTTP date', () => {
    expect(retryAfterMs('Thu, 02 Jan 2025 03:04:10 GMT', '', AT)).toBe(5000);
    expect(retryAfterMs(null, 'not json')).toBeNull();
  });
});

describe('secrets', () => {
  it('redacts the Telegram token from an error that echoes the request path', async () => {
    rx.script({ status: 400, body: `Bad Request: chat not found for /bot${TOKEN}/sendMessage` });
    const r = await sendToSink(sinks.telegram, notice);
    expect(r.ok).toBe(false);
    const error = r.ok ? '' : r.error;
    expect(error).toContain('[redacted]');
    expect(error).not.toContain('AAH-secret_bot_key');
  });

  it('redacts a webhook URL and its path from an error body', async () => {
    rx.script({ status: 404, body: `no hook at ${rx.base}${DISCORD_PATH} (path ${DISCORD_PATH})` });
    const r = await sendToSink(sinks.discord, notice);
    const error = r.ok ? '' : r.error;
    expect(error).not.toContain('discordSecretABC');
    expect(error).toBe('HTTP 404 Not Found: no hook at [redacted] (path [redacted])');
  });

  it('names no URL when the connection is refused', async () => {
    const closed = await startReceiver();
    const dead = sinksAt(closed.base);
    await closed.close();
    const r = await sendToSink(dead.slack, notice);
    expect(r).toMatchObject({ ok: false, retryable: true, status: null });
    expect(r.ok ? '' : r.error).toMatch(/^network error/);
    expect(r.ok ? '' : r.error).not.toContain('slackSecretXYZ');
  });
});

describe('configuration', () => {
  it('defaults to a 10-minute dedupe window, a 5-second sink timeout and no sinks', () => {
    expect(alertsConfigSchema.parse(undefined)).toEqual({ dedupeWindowSeconds: 600, sinkTimeoutMs: 5000, sinks: [] });
  });

  it('refuses two sinks with the same name', () => {
    const r = alertsConfigSchema.safeParse({ sinks: [{ type: 'slack', webhookUrl: 'https://a.example/x' }, { type: 'slack', webhookUrl: 'https://b.example/y' }] });
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.message).toMatch(/two sinks are named "slack"/);
    expect(r.error?.issues[0]?.path).toEqual(['sinks', 1, 'name']);
  });

  it('refuses a malformed bot token', () => {
    expect(alertsConfigSchema.safeParse({ sinks: [{ type: 'telegram', botToken: 'nope', chatId: 1 }] }).success).toBe(false);
  });

  it('reads a secret from the environment, and names the variable (not a value) when it is missing', () => {
    const config = alertsConfigSchema.parse({ sinks: [{ type: 'slack', name: 'ops', webhookUrl: { env: 'SLACK_HOOK' } }, { type: 'discord', enabled: false, webhookUrl: { env: 'UNSET' } }] });
    const [ops, ...rest] = resolveSinks(config, { SLACK_HOOK: 'https://hooks.example/T/B/k' });
    expect(ops).toMatchObject({ name: 'ops', type: 'slack', webhookUrl: 'https://hooks.example/T/B/k' });
    expect(rest).toEqual([]);
    expect(() => resolveSinks(config, {})).toThrow('alerts sink "ops": webhookUrl is read from environment variable SLACK_HOOK, which is not set');
  });
});
