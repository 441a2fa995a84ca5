/**
 * The `alerts` section of the configuration: where alerts go besides the log
 * and the store, and how duplicates are collapsed. Pure zod (workflows
 * validate the config too); mounted at `alerts` in config-schema.ts.
 *
 * Webhook URLs and the bot token are secrets (a Slack or Discord webhook URL
 * is its own credential). Each may be given inline or as `{ "env": "NAME" }`,
 * read by the worker at start-up: the env form keeps the secret out of the
 * config file and out of workflow histories, which carry the config.
 */
import { z } from 'zod';

export const ALERT_LEVELS = ['critical', 'warning', 'info', 'governance'] as const;

/** An inline value, or the name of the environment variable holding it. */
const secret = <T extends z.ZodType<string>>(inline: T) =>
  z.union([inline, z.strictObject({ env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name') })]);

const common = {
  /** Names the sink in results, logs and the store; defaults to its type. Never the URL. */
  name: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, 'lowercase letters, digits, dashes and underscores').optional(),
  enabled: z.boolean().default(true),
  /** Which levels this sink receives (SPEC §7 levels). */
  levels: z.array(z.enum(ALERT_LEVELS)).min(1).default([...ALERT_LEVELS]),
};

const webhookSink = z.strictObject({
  type: z.literal('webhook'),
  ...common,
  url: secret(z.url()),
  /** Extra request headers (e.g. Authorization); their values are secrets too. */
  headers: z.record(z.string().regex(/^[A-Za-z0-9-]+$/, 'a header name'), secret(z.string().min(1))).default({}),
});

const slackSink = z.strictObject({ type: z.literal('slack'), ...common, webhookUrl: secret(z.url()) });

const discordSink = z.strictObject({
  type: z.literal('discord'),
  ...common,
  webhookUrl: secret(z.url()),
  username: z.string().min(1).max(80).optional(),
});

const telegramSink = z.strictObject({
  type: z.literal('telegram'),
  ...common,
  botToken: secret(z.string().regex(/^\d+:[A-Za-z0-9_-]+$/, 'a bot token, "<digits>:<key>"')),
  chatId: z.union([z.string().min(1), z.number().int()]),
  /** The Bot API server; a local one in tests. */
  apiBaseUrl: z.url().default('https://api.telegram.org'),
  /** HTML: the header is bold and the message is escaped; absent: plain text. */
  parseMode: z.enum(['HTML']).optional(),
});

export const alertSinkSchema = z.discriminatedUnion('type', [webhookSink, slackSink, discordSink, telegramSink]);

export const alertsConfigSchema = z.strictObject({
  /** The same alert (level, kind, subject) again within this window is collapsed into a count. 0: never. */
  dedupeWindowSeconds: z.number().min(0).default(600),
  /** One attempt at one sink, including reading its answer. */
  sinkTimeoutMs: z.number().positive().default(5_000),
  sinks: z.array(alertSinkSchema).default([]),
}).superRefine((c, ctx) => {
  // Per-sink delivery is recorded by name, so two sinks may not share one.
  const seen = new Set<string>();
  c.sinks.forEach((s, i) => {
    const name = s.name ?? s.type;
    if (seen.has(name)) {
      ctx.addIssue({ code: 'custom', path: ['sinks', i, 'name'], input: s.name, message: `two sinks are named "${name}": give each a distinct name` });
    }
    seen.add(name);
  });
}).prefault({});

export type AlertsConfig = z.infer<typeof alertsConfigSchema>;
export type AlertSinkConfig = z.infer<typeof alertSinkSchema>;
export type AlertSinkType = AlertSinkConfig['type'];
export type SecretRef = string | { env: string };
