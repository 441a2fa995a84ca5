/**
 * Alert sinks: the configured sinks with their secrets resolved, and for each
 * service the exact HTTP request an alert becomes. Building is pure; sending
 * is deliver.ts. A sink's URL and token are secrets: they are only ever put in
 * the request, and `redact` removes them from any text that leaves a sink.
 */
import type { AlertLevel } from '../domain/alerts.ts';
import type { AlertsConfig, AlertSinkConfig, SecretRef } from './config.ts';

/** One alert as the sinks send it: the message already carries its count suffix. */
export interface AlertNotice {
  readonly treasuryId: string;
  readonly level: AlertLevel;
  readonly kind: string;
  readonly message: string;
  readonly data: Readonly<Record<string, unknown>>;
  /** When the alert occurred, epoch ms. */
  readonly at: number;
  /** How many occurrences this notice stands for (see domain/alert-dedupe.ts). */
  readonly count: number;
}

interface SinkBase {
  readonly name: string;
  readonly levels: readonly AlertLevel[];
}

export type ResolvedSink =
  | (SinkBase & { readonly type: 'webhook'; readonly url: string; readonly headers: Readonly<Record<string, string>> })
  | (SinkBase & { readonly type: 'slack'; readonly webhookUrl: string })
  | (SinkBase & { readonly type: 'discord'; readonly webhookUrl: string; readonly username?: string })
  | (SinkBase & { readonly type: 'telegram'; readonly botToken: string; readonly chatId: string | number; readonly apiBaseUrl: string; readonly parseMode?: 'HTML' });

export interface SinkRequest {
  readonly url: string;
  readonly method: 'POST';
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/** Service limits: Discord refuses content over 2000 characters, Telegram text over 4096, Slack a section over 3000. */
export const DISCORD_CONTENT_MAX = 2000;
export const TELEGRAM_TEXT_MAX = 4096;
export const SLACK_SECTION_MAX = 3000;
const DISCORD_FIELDS_MAX = 10;
const DISCORD_FIELD_VALUE_MAX = 1024;

const JSON_HEADERS = Object.freeze({ 'content-type': 'application/json' });

const LEVEL_LABEL: Readonly<Record<AlertLevel, string>> = { critical: 'CRITICAL', warning: 'WARNING', info: 'INFO', governance: 'GOVERNANCE' };
const LEVEL_MARK: Readonly<Record<AlertLevel, string>> = { critical: '🔴', warning: '🟠', info: '🔵', governance: '🗳️' };
/** Discord embed colours: red, amber, blue, purple. */
const LEVEL_COLOR: Readonly<Record<AlertLevel, number>> = { critical: 0xd93f0b, warning: 0xfbca04, info: 0x1d76db, governance: 0x8250df };

function resolveSecret(ref: SecretRef, sink: string, field: string, env: Readonly<Record<string, string | undefined>>): string {
  if (typeof ref === 'string') return ref;
  const value = env[ref.env];
  if (value === undefined || value === '') {
    throw new Error(`alerts sink "${sink}": ${field} is read from environment variable ${ref.env}, which is not set`);
  }
  return value;
}

/** The enabled sinks with their secrets read (inline or from `env`). Throws naming the sink, field and variable. */
export function resolveSinks(config: AlertsConfig, env: Readonly<Record<string, string | undefined>> = process.env): ResolvedSink[] {
  return config.sinks.filter((s) => s.enabled).map((s): ResolvedSink => resolveSink(s, env));
}

function resolveSink(s: AlertSinkConfig, env: Readonly<Record<string, string | undefined>>): ResolvedSink {
  const base = { name: s.name ?? s.type, levels: s.levels };
  const get = (ref: SecretRef, field: string) => resolveSecret(ref, base.name, field, env);
  switch (s.type) {
    case 'webhook': {
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(s.headers)) headers[k] = get(v, `headers.${k}`);
      return { ...base, type: 'webhook', url: get(s.url, 'url'), headers };
    }
    case 'slack':
      return { ...base, type: 'slack', webhookUrl: get(s.webhookUrl, 'webhookUrl') };
    case 'discord':
      return { ...base, type: 'discord', webhookUrl: get(s.webhookUrl, 'webhookUrl'), ...(s.username !== undefined && { username: s.username }) };
    case 'telegram':
      return {
        ...base, type: 'telegram', botToken: get(s.botToken, 'botToken'), chatId: s.chatId, apiBaseUrl: s.apiBaseUrl,
        ...(s.parseMode !== undefined && { parseMode: s.parseMode }),
      };
  }
}

/** The sinks that take alerts of this level. */
export function sinksFor(sinks: readonly ResolvedSink[], level: AlertLevel): ResolvedSink[] {
  return sinks.filter((s) => s.levels.includes(level));
}

/** Cuts `text` to at most `max` characters, marking the cut. */
export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

const iso = (at: number): string => new Date(at).toISOString();
const headline = (n: AlertNotice): string => `${LEVEL_MARK[n.level]} ${LEVEL_LABEL[n.level]} · ${n.kind} · ${n.treasuryId}`;

function post(url: string, payload: unknown, headers: Readonly<Record<string, string>> = {}): SinkRequest {
  return { url, method: 'POST', headers: { ...headers, ...JSON_HEADERS }, body: JSON.stringify(payload) };
}

/** Generic webhook: the alert as JSON, `at` as ISO 8601. */
export function webhookRequest(sink: Extract<ResolvedSink, { type: 'webhook' }>, n: AlertNotice): SinkRequest {
  return post(sink.url, {
    level: n.level, kind: n.kind, message: n.message, data: n.data, treasuryId: n.treasuryId, at: iso(n.at), count: n.count,
  }, sink.headers);
}

/** Slack mrkdwn treats &, < and > as control characters. */
function slackEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Slack incoming webhook: `text` is the notification fallback, `blocks` the formatted message. */
export function slackRequest(sink: Extract<ResolvedSink, { type: 'slack' }>, n: AlertNotice): SinkRequest {
  return post(sink.webhookUrl, {
    text: truncate(slackEscape(`${headline(n)}: ${n.message}`), SLACK_SECTION_MAX),
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: truncate(headline(n), 150), emoji: true } },
      { type: 'section', text: { type: 'mrkdwn', text: truncate(slackEscape(n.message), SLACK_SECTION_MAX) } },
      { type: 'context', elements: [{ type: 'mrkdwn', text: slackEscape(`${iso(n.at)}${n.count > 1 ? ` · ×${n.count}` : ''}`) }] },
    ],
  });
}

function fieldValue(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value) ?? String(value);
  return truncate(text === '' ? '—' : text, DISCORD_FIELD_VALUE_MAX);
}

/** Discord webhook: the whole alert in `content` (≤ 2000), one embed with its level colour and data; mentions disabled. */
export function discordRequest(sink: Extract<ResolvedSink, { type: 'discord' }>, n: AlertNotice): SinkRequest {
  const fields = Object.entries(n.data).slice(0, DISCORD_FIELDS_MAX).map(([name, value]) => ({ name: truncate(name, 256), value: fieldValue(value), inline: true }));
  return post(sink.webhookUrl, {
    content: truncate(`**${headline(n)}**\n${n.message}`, DISCORD_CONTENT_MAX),
    embeds: [{ title: truncate(`${LEVEL_LABEL[n.level]} · ${n.kind}`, 256), color: LEVEL_COLOR[n.level], timestamp: iso(n.at), fields }],
    // Alert text can quote external errors: never let it ping @everyone or anyone.
    allowed_mentions: { parse: [] },
    ...(sink.username !== undefined && { username: sink.username }),
  });
}

function htmlEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** `prefix` + the escaped message, cut before escaping so an entity (&amp;) is never split. */
function escapedWithin(prefix: string, message: string, max: number): string {
  const fits = (n: number) => prefix.length + htmlEscape(truncate(message, n)).length <= max;
  if (fits(message.length)) return prefix + htmlEscape(message);
  // The longest cut that fits: escaping lengthens unevenly, so search for it.
  let lo = 1;
  let hi = message.length;
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (fits(mid)) lo = mid;
    else hi = mid;
  }
  return prefix + htmlEscape(truncate(message, lo));
}

/** Telegram Bot API sendMessage: plain text unless parse_mode HTML is configured. */
export function telegramRequest(sink: Extract<ResolvedSink, { type: 'telegram' }>, n: AlertNotice): SinkRequest {
  const url = `${sink.apiBaseUrl.replace(/\/+$/, '')}/bot${sink.botToken}/sendMessage`;
  const text = sink.parseMode === 'HTML'
    ? escapedWithin(`<b>${htmlEscape(headline(n))}</b>\n`, n.message, TELEGRAM_TEXT_MAX)
    : truncate(`${headline(n)}\n${n.message}`, TELEGRAM_TEXT_MAX);
  return post(url, { chat_id: sink.chatId, text, ...(sink.parseMode !== undefined && { parse_mode: sink.parseMode }) });
}

export function buildRequest(sink: ResolvedSink, notice: AlertNotice): SinkRequest {
  switch (sink.type) {
    case 'webhook': return webhookRequest(sink, notice);
    case 'slack': return slackRequest(sink, notice);
    case 'discord': return discordRequest(sink, notice);
    case 'telegram': return telegramRequest(sink, notice);
  }
}

/** Shorter pieces would redact ordinary words; every secret here is longer. */
const MIN_SECRET_LENGTH = 4;

function urlSecrets(url: string): string[] {
  const out = [url, encodeURIComponent(url)];
  try {
    const u = new URL(url);
    // The path and query of a webhook URL are its credential, and errors may quote them alone.
    if (u.pathname.length > 1) out.push(u.pathname + u.search, u.pathname);
    if (u.search.length > 1) out.push(u.search);
    if (u.password) out.push(u.password);
  } catch {
    // Not a URL: the whole string is still redacted.
  }
  return out;
}

/** Every string from this sink's configuration that must never appear in a log or an error. */
export function secretsOf(sink: ResolvedSink): string[] {
  switch (sink.type) {
    case 'webhook': return [...urlSecrets(sink.url), ...Object.values(sink.headers)];
    case 'slack':
    case 'discord': return urlSecrets(sink.webhookUrl);
    case 'telegram': return [sink.botToken, encodeURIComponent(sink.botToken)];
  }
}

/** Replaces every secret in `text` with "[redacted]", longest first so no fragment of a longer one survives. */
export function redact(text: string, secrets: readonly string[]): string {
  const pieces = [...new Set(secrets)].filter((s) => s.length >= MIN_SECRET_LENGTH).sort((a, b) => b.length - a.length);
  return pieces.reduce((t, s) => t.split(s).join('[redacted]'), text);
}
