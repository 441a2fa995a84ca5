import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TreasuryStore } from './store.ts';
import type {
  NewAlert, NewIntervention, NewInterventionStep, NewMonitoringLog, NewPriceSample, NewProposal, NewSnapshot, NewSwap,
  NewVote,
} from './store.ts';

const T = 'pstr-main';
const BIG = 123456789012345678901n; // > 2^53 and > 2^63: neither a JS number nor an SQLite INTEGER holds it
const HOUR = 3_600_000;

let dir: string;
let file: string;
let store: TreasuryStore;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'treasury-store-'));
  file = path.join(dir, 'nested', 'treasury.db');
  store = TreasuryStore.open(file);
});

afterEach(() => {
  store.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** A second, raw connection to look at what is really on disk. */
function raw<T>(fn: (db: Database.Database) => T): T {
  const db = new Database(file, { readonly: true });
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

function count(table: string): number {
  return raw((db) => (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n);
}

const sample = (o: Partial<NewPriceSample> = {}): NewPriceSample => ({
  treasuryId: T, cycleId: 'c1', timestamp: 1_000, pstrPrice: 0.5, pstrVolume: 1200, pumpPrice: 0.004, solPrice: 150,
  consensus: { readings: [{ source: 'pyth', price: 0.5 }], excluded: [], reason: null }, ...o,
});
const snapshot = (o: Partial<NewSnapshot> = {}): NewSnapshot => ({
  treasuryId: T, snapshotId: 's1', at: 1_000, pumpBalance: BIG, usdcBalance: 5_000_000n, solBalance: 2_000_000_000n,
  pstrRetired: 0n, treasuryValueUsd: 900_000, marketCapUsd: 300_000, reserveRatio: 3, pumpConcentration: 0.6,
  health: 1.2, healthLevel: 'good', emergencyStop: false, ...o,
});
const intervention = (o: Partial<NewIntervention> = {}): NewIntervention => ({
  id: `intervention/${T}/1`, treasuryId: T, seq: 1, startedAt: 10_000, status: 'running', decidedPrice: 0.4,
  vwap30: 0.5, drawdown: 0.2, updatedAt: 10_000, ...o,
});
const step = (o: Partial<NewInterventionStep> = {}): NewInterventionStep => ({
  interventionId: `intervention/${T}/1`, step: 'validate', treasuryId: T, at: 10_001, inputs: { price: 0.4 },
  outcome: { triggered: true }, verdict: 'pass', ...o,
});
const log = (o: Partial<NewMonitoringLog> = {}): NewMonitoringLog => ({
  treasuryId: T, cycleId: 'c1', at: 1_000, data: { price: 0.5 }, ...o,
});
const alert = (o: Partial<NewAlert> = {}): NewAlert => ({
  treasuryId: T, alertKey: 'rr-below-1.5/c1', at: 1_000, level: 'critical', kind: 'reserve-ratio',
  message: 'RR 1.4 < 1.5', data: { rr: 1.4 }, ...o,
});
const proposal = (o: Partial<NewProposal> = {}): NewProposal => ({
  id: 'proposal/1', treasuryId: T, kind: 'parameter-adjustment', description: 'raise cooldown',
  change: { cooldownHours: 72 }, createdAt: 1_000, deadline: 1_000 + 72 * HOUR, status: 'open',
  snapshot: { alice: 10 }, outcome: null, ...o,
});
const vote = (o: Partial<NewVote> = {}): NewVote => ({
  proposalId: 'proposal/1', voter: 'alice', treasuryId: T, at: 2_000, choice: 'yes', power: 10, ...o,
});
const swap = (o: Partial<NewSwap> = {}): NewSwap => ({
  interventionId: `intervention/${T}/1`, slice: 0, treasuryId: T, at: 20_000, status: 'prepared', pumpIn: BIG,
  details: { quote: { out: 5n } }, updatedAt: 20_000, ...o,
});

describe('TreasuryStore.open', () => {
  const tables = ['price_samples', 'treasury_snapshots', 'interventions', 'intervention_steps', 'monitoring_logs',
    'alerts', 'proposals', 'votes', 'swap_records'];
  const timeColumn: Record<string, string> = {
    price_samples: 'timestamp', treasury_snapshots: 'at', interventions: 'started_at', intervention_steps: 'at',
    monitoring_logs: 'at', alerts: 'at', proposals: 'created_at', votes: 'at', swap_records: 'at',
  };

  it('creates the parent directory and every table from an empty database', () => {
    const names = raw((db) => db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table'`).all() as { name: string }[])
      .map((r) => r.name);
    expect(names).toEqual(expect.arrayContaining(tables));
  });

  it('indexes every table on (treasury_id, its time column)', () => {
    raw((db) => {
      for (const table of tables) {
        const indexes = db.prepare(`SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ?`)
          .all(table) as { name: string }[];
        const columnLists = indexes.map(({ name }) =>
          (db.prepare(`SELECT name FROM pragma_index_info(?) ORDER BY seqno`).all(name) as { name: string }[])
            .map((c) => c.name));
        expect(columnLists, table).toContainEqual(['treasury_id', timeColumn[table]]);
      }
    });
  });

  it('turns on WAL, foreign keys and a busy timeout', () => {
    const pragmas = (store as unknown as { sqlite: Database.Database }).sqlite;
    expect(pragmas.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(pragmas.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(pragmas.pragma('busy_timeout', { simple: true })).toBe(5000);
    expect(raw((db) => db.pragma('journal_mode', { simple: true }))).toBe('wal');
  });

  it('keeps everything across a close and reopen, without re-running migrations', () => {
    store.recordPriceSample(sample());
    store.recordSnapshot(snapshot());
    store.upsertIntervention(intervention());
    store.recordInterventionStep(step());
    store.recordMonitoringLog(log());
    store.recordAlert(alert());
    store.upsertProposal(proposal());
    store.recordVote(vote());
    store.recordSwap(swap());
    store.close();
    store = TreasuryStore.open(file);
    expect(store.latestPriceSample(T)).toEqual(sample());
    expect(store.latestSnapshot(T)).toEqual(snapshot());
    expect(store.intervention(`intervention/${T}/1`)).toMatchObject(intervention());
    expect(store.interventionSteps(`intervention/${T}/1`)).toEqual([step()]);
    expect(store.monitoringLogs(T, 0, 2_000)).toEqual([log()]);
    expect(store.alerts(T)).toEqual([{ ...alert(), delivered: false }]);
    expect(store.proposal('proposal/1')).toEqual(proposal());
    expect(store.votes('proposal/1')).toEqual([vote()]);
    expect(store.swap(`intervention/${T}/1`, 0)).toEqual({
      ...swap(), details: { quote: { out: '5' } }, pstrOut: null, signature: null,
    });
    const journal = JSON.parse(fs.readFileSync(new URL('../../drizzle/meta/_journal.json', import.meta.url), 'utf8')) as { entries: unknown[] };
    expect(count('__drizzle_migrations')).toBe(journal.entries.length);
  });
});

describe('insert-or-ignore writes', () => {
  // Each case: record once (true), record again with changed data (false), one row, first write kept.
  const cases = [
    { table: 'price_samples', first: () => store.recordPriceSample(sample()),
      again: () => store.recordPriceSample(sample({ pstrPrice: 9 })), read: () => store.priceSamples(T, 0, 9e15) },
    { table: 'treasury_snapshots', first: () => store.recordSnapshot(snapshot()),
      again: () => store.recordSnapshot(snapshot({ health: 0 })), read: () => store.snapshots(T, 0, 9e15) },
    { table: 'intervention_steps', first: () => store.recordInterventionStep(step()),
      again: () => store.recordInterventionStep(step({ verdict: 'fail' })),
      read: () => store.interventionSteps(`intervention/${T}/1`) },
    { table: 'monitoring_logs', first: () => store.recordMonitoringLog(log()),
      again: () => store.recordMonitoringLog(log({ data: 'other' })), read: () => store.monitoringLogs(T, 0, 9e15) },
    { table: 'alerts', first: () => store.recordAlert(alert()),
      again: () => store.recordAlert(alert({ message: 'other' })), read: () => store.alerts(T) },
    { table: 'swap_records', first: () => store.recordSwap(swap()),
      again: () => store.recordSwap(swap({ pumpIn: 1n })), read: () => store.swaps(`intervention/${T}/1`) },
  ];

  for (const c of cases) {
    it(`records a ${c.table} row once and reports a repeat as not inserted`, () => {
      store.upsertIntervention(intervention());
      expect(c.first()).toBe(true);
      const before = c.read();
      expect(c.again()).toBe(false);
      expect(count(c.table)).toBe(1);
      expect(c.read()).toEqual(before);
    });
  }

  it('keeps an alert delivered when the same alert is raised again', () => {
    store.recordAlert(alert());
    expect(store.markAlertDelivered(T, alert().alertKey)).toBe(true);
    expect(store.recordAlert(alert())).toBe(false);
    expect(store.alerts(T)[0]?.delivered).toBe(true);
    expect(store.markAlertDelivered(T, 'no-such-alert')).toBe(false);
  });

  it('refuses a step of an intervention that was never recorded', () => {
    expect(() => store.recordInterventionStep(step({ interventionId: 'intervention/x/9' }))).toThrow(/FOREIGN KEY/);
  });
});

describe('upserts', () => {
  it('replaces the mutable fields of an intervention and keeps one row', () => {
    store.upsertIntervention(intervention());
    store.upsertIntervention(intervention({
      status: 'executed', pumpAmount: BIG, pstrBought: 7n, executedAt: 11_000, updatedAt: 11_000, startedAt: 1,
    }));
    expect(count('interventions')).toBe(1);
    expect(store.intervention(`intervention/${T}/1`)).toMatchObject({
      status: 'executed', pumpAmount: BIG, pstrBought: 7n, executedAt: 11_000, startedAt: 10_000,
    });
  });

  it('ignores an intervention write older than the stored one, so a late retry cannot roll back the status', () => {
    store.upsertIntervention(intervention({ status: 'executed', updatedAt: 12_000 }));
    store.upsertIntervention(intervention({ status: 'running', updatedAt: 11_000 }));
    expect(store.intervention(`intervention/${T}/1`)?.status).toBe('executed');
  });

  it('filters interventions by start time and status', () => {
    store.upsertIntervention(intervention({ id: 'a', seq: 1, startedAt: 1_000, status: 'executed' }));
    store.upsertIntervention(intervention({ id: 'b', seq: 2, startedAt: 2_000, status: 'running' }));
    store.upsertIntervention(intervention({ id: 'c', seq: 3, startedAt: 3_000, status: 'expired' }));
    store.upsertIntervention(intervention({ id: 'd', seq: 1, treasuryId: 'other', startedAt: 3_000 }));
    expect(store.interventions(T).map((i) => i.id)).toEqual(['a', 'b', 'c']);
    expect(store.interventions(T, { sinceMs: 2_000 }).map((i) => i.id)).toEqual(['b', 'c']);
    expect(store.interventions(T, { status: 'running' }).map((i) => i.id)).toEqual(['b']);
    expect(store.interventions(T, { status: ['executed', 'expired'], sinceMs: 1_500 }).map((i) => i.id)).toEqual(['c']);
  });

  it('updates a proposal in place', () => {
    store.upsertProposal(proposal());
    store.upsertProposal(proposal({ status: 'passed', outcome: { quorum: 0.2, approval: 0.6 } }));
    expect(store.proposals(T)).toEqual([proposal({ status: 'passed', outcome: { quorum: 0.2, approval: 0.6 } })]);
  });

  it('replaces a vote by a later vote of the same voter', () => {
    store.upsertProposal(proposal());
    store.recordVote(vote());
    store.recordVote(vote({ voter: 'bob', choice: 'no', power: 4 }));
    store.recordVote(vote({ at: 3_000, choice: 'abstain', power: 11 }));
    expect(store.votes('proposal/1')).toEqual([
      vote({ at: 3_000, choice: 'abstain', power: 11 }),
      vote({ voter: 'bob', choice: 'no', power: 4 }),
    ]);
  });

  it('keeps the later vote when a retry of an earlier vote arrives after it', () => {
    store.upsertProposal(proposal());
    store.recordVote(vote({ at: 3_000, choice: 'no' }));
    store.recordVote(vote({ at: 2_000, choice: 'yes' }));
    expect(store.votes('proposal/1').map((v) => v.choice)).toEqual(['no']);
  });
});

describe('swap ledger', () => {
  const id = `intervention/${T}/1`;
  beforeEach(() => {
    store.upsertIntervention(intervention());
    store.recordSwap(swap());
  });

  it('moves a swap forward and accepts a repeat of the same step', () => {
    store.updateSwap(id, 0, { status: 'sent', signature: 'sig1', updatedAt: 21_000 });
    store.updateSwap(id, 0, { status: 'sent', signature: 'sig1', updatedAt: 21_000 });
    store.updateSwap(id, 0, { status: 'confirmed', pstrOut: BIG + 1n, updatedAt: 22_000 });
    expect(store.swap(id, 0)).toMatchObject({
      status: 'confirmed', signature: 'sig1', pstrOut: BIG + 1n, pumpIn: BIG, updatedAt: 22_000,
    });
  });

  it('refuses to move a swap back or from one final status to the other', () => {
    store.updateSwap(id, 0, { status: 'confirmed', updatedAt: 22_000 });
    expect(() => store.updateSwap(id, 0, { status: 'sent', updatedAt: 23_000 })).toThrow(/'confirmed' to 'sent'/);
    expect(() => store.updateSwap(id, 0, { status: 'failed', updatedAt: 23_000 })).toThrow(/'confirmed' to 'failed'/);
    expect(store.swap(id, 0)?.updatedAt).toBe(22_000);
  });

  it('refuses to update a swap that was never recorded', () => {
    expect(() => store.updateSwap(id, 1, { status: 'sent', updatedAt: 1 })).toThrow(/slice 1: no such swap record/);
  });
});

describe('amounts and JSON', () => {
  it('round-trips an amount above 2^53 exactly, stored as decimal text', () => {
    store.recordSnapshot(snapshot({ pumpBalance: BIG, pstrRetired: 2n ** 64n }));
    expect(store.latestSnapshot(T)).toMatchObject({ pumpBalance: BIG, pstrRetired: 2n ** 64n });
    const row = raw((db) => db.prepare(`SELECT pump_balance AS v, typeof(pump_balance) AS t FROM treasury_snapshots`)
      .get() as { v: unknown; t: string });
    expect(row).toEqual({ v: '123456789012345678901', t: 'text' });
  });

  it('round-trips any non-negative amount exactly', () => {
    let n = 0;
    fc.assert(fc.property(fc.bigInt({ min: 0n, max: 2n ** 256n }), (value) => {
      n += 1;
      store.recordSnapshot(snapshot({ snapshotId: `p${n}`, at: n, usdcBalance: value }));
      expect(store.latestSnapshot(T)?.usdcBalance).toBe(value);
    }), { numRuns: 200 });
  });

  it('stores a bigint inside JSON as its decimal string', () => {
    store.recordMonitoringLog(log({ data: { pump: BIG, nested: [1n, { x: null }] } }));
    expect(store.monitoringLogs(T, 0, 9e15)[0]?.data).toEqual({ pump: '123456789012345678901', nested: ['1', { x: null }] });
  });

  it('names the column when an amount is negative or not a bigint', () => {
    expect(() => store.recordSnapshot(snapshot({ solBalance: -1n }))).toThrow(/sol_balance: amount must be ≥ 0, got -1/);
    expect(() => store.recordSnapshot(snapshot({ solBalance: 5 as unknown as bigint })))
      .toThrow(/sol_balance: expected a bigint amount in base units, got number 5/);
    expect(count('treasury_snapshots')).toBe(0);
  });

  it('names the column when a price is NaN or a time is not integer milliseconds', () => {
    expect(() => store.recordPriceSample(sample({ solPrice: Number.NaN }))).toThrow(/sol_price: expected a number, got NaN/);
    expect(() => store.recordPriceSample(sample({ timestamp: 1.5 }))).toThrow(/timestamp: expected integer epoch milliseconds, got 1.5/);
  });

  it('keeps an infinite ratio (zero market cap) as SQLite REAL infinity', () => {
    store.recordSnapshot(snapshot({ marketCapUsd: 0, reserveRatio: Number.POSITIVE_INFINITY }));
    expect(store.latestSnapshot(T)?.reserveRatio).toBe(Number.POSITIVE_INFINITY);
  });
});

describe('range queries', () => {
  it('returns one treasury\'s samples within inclusive bounds, oldest first', () => {
    for (const [cycleId, timestamp] of [['c3', 3_000], ['c1', 1_000], ['c2', 2_000], ['c4', 4_000]] as const) {
      store.recordPriceSample(sample({ cycleId, timestamp }));
    }
    store.recordPriceSample(sample({ treasuryId: 'other', cycleId: 'c9', timestamp: 9_000 }));
    expect(store.priceSamples(T, 2_000, 3_000).map((s) => s.cycleId)).toEqual(['c2', 'c3']);
    expect(store.latestPriceSample(T)?.cycleId).toBe('c4');
    expect(store.latestPriceSample('nobody')).toBeUndefined();
  });

  it('filters alerts by level and time', () => {
    store.recordAlert(alert({ alertKey: 'a', at: 1_000, level: 'warning' }));
    store.recordAlert(alert({ alertKey: 'b', at: 2_000, level: 'critical' }));
    store.recordAlert(alert({ alertKey: 'c', at: 3_000, level: 'warning' }));
    expect(store.alerts(T, { level: 'warning' }).map((a) => a.alertKey)).toEqual(['a', 'c']);
    expect(store.alerts(T, { sinceMs: 2_000 }).map((a) => a.alertKey)).toEqual(['b', 'c']);
  });
});

describe('transaction', () => {
  it('leaves nothing written when the function throws', () => {
    expect(() => store.transaction(() => {
      store.recordPriceSample(sample());
      store.upsertIntervention(intervention());
      store.recordSwap(swap());
      throw new Error('crash mid-way');
    })).toThrow('crash mid-way');
    expect([count('price_samples'), count('interventions'), count('swap_records')]).toEqual([0, 0, 0]);
  });

  it('commits everything and returns the function\'s result when it succeeds', () => {
    const result = store.transaction(() => {
      store.upsertIntervention(intervention());
      return store.recordSwap(swap());
    });
    expect(result).toBe(true);
    expect([count('interventions'), count('swap_records')]).toEqual([1, 1]);
  });
});

describe('vwap samples', () => {
  it('returns time, price and volume of the window only, oldest first', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pstr-vwap-'));
    const store = TreasuryStore.open(path.join(dir, 's.sqlite'));
    for (const [t, p] of [[3, 1.5], [1, 1.0], [2, 1.2], [9, 9]] as const) {
      store.recordPriceSample({ treasuryId: 't', cycleId: `c${t}`, timestamp: t, pstrPrice: p, pstrVolume: t * 10, pumpPrice: 1, solPrice: null, consensus: { big: 'x'.repeat(1000) } });
    }
    expect(store.vwapSamples('t', 1, 3)).toEqual([
      { timestamp: 1, price: 1.0, volume: 10 },
      { timestamp: 2, price: 1.2, volume: 20 },
      { timestamp: 3, price: 1.5, volume: 30 },
    ]);
    store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
