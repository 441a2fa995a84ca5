/**
 * Alert de-duplication (issue "Alerts": duplicates within a configurable
 * window are collapsed into one with a count). Pure: the caller reads the
 * previous notice of the same alert from the store and passes `now` in.
 *
 * Two alerts are "the same" when level, kind and subject agree: the subject
 * is what the alert is about (the oracle source of an outlier, the
 * intervention of a failed swap), so two different sources never hide each
 * other. A notice opens a window of `dedupeWindowSeconds`; the same alert
 * inside it is collapsed (not sent) and counted. The first one after the
 * window closes is sent with that count: "… (×5 in the last 10 min)".
 *
 * Only a notice that reached an operator (at least one sink accepted it)
 * opens a window: collapsing into a notice nobody received would hide the
 * alert, so while the previous one is unreached every new one is sent, and
 * it carries the unreached notice's count forward.
 */

/** What the store remembers of the last notice (delivery decision) of one alert. */
export interface PreviousNotice {
  /** When the alert it delivered occurred (epoch ms). */
  readonly at: number;
  /** At least one sink accepted it (or no sink was due, the log and store being all). */
  readonly reached: boolean;
  /** How many occurrences that notice itself stood for (1 without collapsing). */
  readonly count: number;
  /** The earliest occurrence that count covers (epoch ms). */
  readonly since: number;
  /** Occurrences collapsed into it since it was sent. */
  readonly collapsed: number;
  /** The first of those, or null when none. */
  readonly firstCollapsedAt: number | null;
}

export type DedupeDecision =
  | { readonly action: 'deliver'; readonly count: number; readonly since: number }
  | { readonly action: 'collapse' };

const MINUTE_MS = 60_000;

/** Per kind, the data field that names what the alert is about; kinds not listed have one subject. */
const SUBJECT_FIELD: Readonly<Record<string, string>> = Object.freeze({
  'oracle-outlier': 'source',
  'oracle-source-failing': 'source',
  'oracle-auth': 'source',
  'swap-failed': 'interventionId',
  'system-failure': 'component',
  'intervention-executed': 'interventionId',
  'health-improved': 'to',
  'proposal-needs-votes': 'proposalId',
  'voting-deadline': 'proposalId',
});

/** For a kind this module does not know yet: the first of these fields present is its subject. */
const FALLBACK_SUBJECT_FIELDS = ['source', 'component', 'interventionId', 'proposalId'] as const;

function subjectOf(kind: string, data: Readonly<Record<string, unknown>>): string {
  const fields = kind in SUBJECT_FIELD ? [SUBJECT_FIELD[kind] as string] : FALLBACK_SUBJECT_FIELDS;
  for (const field of fields) {
    const value = data[field];
    if (typeof value === 'string' || typeof value === 'number') return String(value);
  }
  return '';
}

/** The identity two occurrences of "the same alert" share: level, kind and subject. */
export function dedupeKey(alert: { readonly level: string; readonly kind: string; readonly data: Readonly<Record<string, unknown>> }): string {
  if (alert.level === '') throw new RangeError('alert level must not be empty');
  if (alert.kind === '') throw new RangeError('alert kind must not be empty');
  return `${alert.level}|${alert.kind}|${subjectOf(alert.kind, alert.data)}`;
}

function requireTime(field: string, value: number): void {
  if (!Number.isSafeInteger(value)) throw new RangeError(`${field} must be integer epoch milliseconds, got ${value}`);
}

/**
 * Deliver now, or collapse into the previous notice. `now` is when the new
 * occurrence happened. Collapses only into a reached notice less than the
 * window away (either side: a late, older occurrence is the same burst).
 */
export function decideDedupe(previous: PreviousNotice | null, now: number, dedupeWindowSeconds: number): DedupeDecision {
  requireTime('now', now);
  if (!(Number.isFinite(dedupeWindowSeconds) && dedupeWindowSeconds >= 0)) {
    throw new RangeError(`dedupeWindowSeconds must be a finite number ≥ 0, got ${dedupeWindowSeconds}`);
  }
  if (previous === null) return { action: 'deliver', count: 1, since: now };
  requireTime('previous.at', previous.at);
  if (!(Number.isSafeInteger(previous.count) && previous.count >= 1)) throw new RangeError(`previous.count must be an integer ≥ 1, got ${previous.count}`);
  if (!(Number.isSafeInteger(previous.collapsed) && previous.collapsed >= 0)) throw new RangeError(`previous.collapsed must be an integer ≥ 0, got ${previous.collapsed}`);

  const withinWindow = Math.abs(now - previous.at) < dedupeWindowSeconds * 1000;
  if (previous.reached && withinWindow) return { action: 'collapse' };
  if (previous.reached) {
    // The collapsed occurrences were never sent: this notice reports them with itself.
    return { action: 'deliver', count: previous.collapsed + 1, since: Math.min(previous.firstCollapsedAt ?? now, now) };
  }
  // Nobody received the previous notice: what it stood for is still unreported.
  return { action: 'deliver', count: previous.count + previous.collapsed + 1, since: Math.min(previous.since, now) };
}

/**
 * The suffix a notice standing for several occurrences carries, e.g.
 * " (×5 in the last 10 min)"; empty for a single one. Minutes round up, so
 * every counted occurrence is inside the span named; beyond 2 h, hours.
 */
export function countSuffix(count: number, since: number, now: number): string {
  if (!(Number.isSafeInteger(count) && count >= 1)) throw new RangeError(`count must be an integer ≥ 1, got ${count}`);
  requireTime('since', since);
  requireTime('now', now);
  if (count === 1) return '';
  const minutes = Math.max(1, Math.ceil((now - since) / MINUTE_MS));
  const span = minutes < 120 ? `${minutes} min` : `${Math.ceil(minutes / 60)} h`;
  return ` (×${count} in the last ${span})`;
}
