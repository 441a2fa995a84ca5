import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import pg from 'pg';
import { sql } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { freshDatabase, postgresUrl } from '../../test/support/pg.ts';
import { TreasuryStore } from './store.ts';
import type {
  NewAlert, NewIntervention, NewInterventionStep, NewMonitoringLog, NewPriceSample, NewProposal, NewSnapshot, NewSwap,
  NewVote,
} from './store.ts';

const T = 'pstr-main';
const BIG = 123456789012345678901n; // > 2^53 and > 2^63: neither a JS number nor an SQLite INTEGER holds it
const HOUR = 3_600_000;

/** One database the suite runs on, and a way to look at what it really holds (not through the store). */
interface Backend {
  name: string;
  /** A fresh, empty database; `reopen` opens the same one again. */
  create(): Promise<void>;
  open(): Promise<TreasuryStore>;
  drop(): Promise<void>;
  /** Runs raw SQL on a second connection. */
  rows(sql: string, params?: unknown[]): Promise<Record<string, unknown>[]>;
  tableNames(): Promise<string[]>;
  indexColumnLists(table: string): Promise<string[][]>;
  /** The stored amount column as the database keeps it: its raw value and type. */
  amountCell(): Promise<{ v: unknown; t: string }>;
  migrationsJournal: string;
}

function sqliteBackend(): Backend {
  let dir = '';
  let file = '';
  const raw = <R>(fn: (db: Database.Database) => R): R => {
    const db = new Database(file, { readonly: true });
    try {
      return fn(db);
    } finally {
      db.close();
    }
  };
  return {
    name: 'SQLite',
    create: () => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'treasury-store-'));
      file = path.join(dir, 'nested', 'treasury.db');
      return Promise.resolve();
    },
    open: () => Promise.resolve(TreasuryStore.open(file)),
    drop: () => Promise.resolve(fs.rmSync(dir, { recursive: true, force: true })),
    rows: (sql, params = []) => Promise.resolve(raw((db) => db.prepare(sql).all(...params) as Record<string, unknown>[])),
    tableNames: () => Promise.resolve(raw((db) => (db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table'`).all() as { name: string }[]).map((r) => r.name))),
    indexColumnLists: (table) => Promise.resolve(raw((db) => {
      const indexes = db.prepare(`SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ?`).all(table) as { name: string }[];
      return indexes.map(({ name }) => (db.prepare(`SELECT name FROM pragma_index_info(?) ORDER BY seqno`).all(name) as { name: string }[]).map((c) => c.name));
    })),
    amountCell: () => Promise.resolve(raw((db) => db.prepare(`SELECT pump_balance AS v, typeof(pump_balance) AS t FROM treasury_snapshots`).get() as { v: unknown; t: string })),
    migrationsJournal: '../../drizzle/meta/_journal.json',
  };
}

function postgresBackend(): Backend {
  let url = '';
  const rows = async (sql: string, params: unknown[] = []) => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      return (await client.query(sql, params)).rows as Record<string, unknown>[];
    } finally {
      await client.end();
    }
  };
  return {
    name: 'PostgreSQL',
    create: async () => {
      url = await freshDatabase('store');
    },
    open: () => TreasuryStore.connect(url),
    drop: () => Promise.resolve(),
    rows,
    tableNames: async () => (await rows(`SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public'`)).map((r) => r.name as string),
    indexColumnLists: async (table) => (await rows(
      `SELECT array_agg(a.attname::text ORDER BY k.n) AS cols FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
       CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, n) JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
       WHERE c.relname = $1 GROUP BY i.indexrelid`, [table])).map((r) => r.cols as string[]),
    amountCell: async () => (await rows(`SELECT pump_balance::text AS v, pg_typeof(pump_balance)::text AS t FROM treasury_snapshots`))[0] as { v: unknown; t: string },
    migrationsJournal: '../../drizzle-pg/meta/_journal.json',
  };
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

function storeSuite(backend: Backend): void {
  let store: TreasuryStore;
  const count = async (table: string) => Number((await backend.rows(`SELECT count(*) AS n FROM ${table}`))[0]?.n);

  beforeEach(async () => {
    await backend.create();
    store = await backend.open();
  });

  afterEach(async () => {
    await store.close();
    await backend.drop();
  });

  describe('opening', () => {
    const tables = ['price_samples', 'treasury_snapshots', 'interventions', 'intervention_steps', 'monitoring_logs',
      'alerts', 'proposals', 'votes', 'swap_records'];
    const timeColumn: Record<string, string> = {
      price_samples: 'timestamp', treasury_snapshots: 'at', interventions: 'started_at', intervention_steps: 'at',
      monitoring_logs: 'at', alerts: 'at', proposals: 'created_at', votes: 'at', swap_records: 'at',
    };

    it('creates every table in an empty database', async () => {
      expect(await backend.tableNames()).toEqual(expect.arrayContaining(tables));
    });

    it('indexes every table on (treasury_id, its time column)', async () => {
      for (const table of tables) {
        expect(await backend.indexColumnLists(table), table).toContainEqual(['treasury_id', timeColumn[table]]);
      }
    });

    it('keeps everything across a close and reopen, without re-running migrations', async () => {
      await store.recordPriceSample(sample());
      await store.recordSnapshot(snapshot());
      await store.upsertIntervention(intervention());
      await store.recordInterventionStep(step());
      await store.recordMonitoringLog(log());
      await store.recordAlert(alert());
      await store.upsertProposal(proposal());
      await store.recordVote(vote());
      await store.recordSwap(swap());
      await store.close();
      store = await backend.open();
      expect(await store.latestPriceSample(T)).toEqual(sample());
      expect(await store.latestSnapshot(T)).toEqual(snapshot());
      expect(await store.intervention(`intervention/${T}/1`)).toMatchObject(intervention());
      expect(await store.interventionSteps(`intervention/${T}/1`)).toEqual([step()]);
      expect(await store.monitoringLogs(T, 0, 2_000)).toEqual([log()]);
      expect(await store.alerts(T)).toEqual([{ ...alert(), delivered: false }]);
      expect(await store.proposal('proposal/1')).toEqual(proposal());
      expect(await store.votes('proposal/1')).toEqual([vote()]);
      expect(await store.swap(`intervention/${T}/1`, 0)).toEqual({
        ...swap(), details: { quote: { out: '5' } }, pstrOut: null, signature: null,
      });
      const journal = JSON.parse(fs.readFileSync(new URL(backend.migrationsJournal, import.meta.url), 'utf8')) as { entries: unknown[] };
      expect(await count(backend.name === 'SQLite' ? '__drizzle_migrations' : 'drizzle.__drizzle_migrations')).toBe(journal.entries.length);
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
      it(`records a ${c.table} row once and reports a repeat as not inserted`, async () => {
        await store.upsertIntervention(intervention());
        expect(await c.first()).toBe(true);
        const before = await c.read();
        expect(await c.again()).toBe(false);
        expect(await count(c.table)).toBe(1);
        expect(await c.read()).toEqual(before);
      });
    }

    it('keeps an alert delivered when the same alert is raised again', async () => {
      await store.recordAlert(alert());
      expect(await store.markAlertDelivered(T, alert().alertKey)).toBe(true);
      expect(await store.recordAlert(alert())).toBe(false);
      expect((await store.alerts(T))[0]?.delivered).toBe(true);
      expect(await store.markAlertDelivered(T, 'no-such-alert')).toBe(false);
    });

    it('refuses a step of an intervention that was never recorded', async () => {
      await expect(store.recordInterventionStep(step({ interventionId: 'intervention/x/9' }))).rejects.toThrow(/foreign key/i);
    });
  });

  describe('upserts', () => {
    it('replaces the mutable fields of an intervention and keeps one row', async () => {
      await store.upsertIntervention(intervention());
      await store.upsertIntervention(intervention({
        status: 'executed', pumpAmount: BIG, pstrBought: 7n, executedAt: 11_000, updatedAt: 11_000, startedAt: 1,
      }));
      expect(await count('interventions')).toBe(1);
      expect(await store.intervention(`intervention/${T}/1`)).toMatchObject({
        status: 'executed', pumpAmount: BIG, pstrBought: 7n, executedAt: 11_000, startedAt: 10_000,
      });
    });

    it('ignores an intervention write older than the stored one, so a late retry cannot roll back the status', async () => {
      await store.upsertIntervention(intervention({ status: 'executed', updatedAt: 12_000 }));
      await store.upsertIntervention(intervention({ status: 'running', updatedAt: 11_000 }));
      expect((await store.intervention(`intervention/${T}/1`))?.status).toBe('executed');
    });

    it('filters interventions by start time and status', async () => {
      await store.upsertIntervention(intervention({ id: 'a', seq: 1, startedAt: 1_000, status: 'executed' }));
      await store.upsertIntervention(intervention({ id: 'b', seq: 2, startedAt: 2_000, status: 'running' }));
      await store.upsertIntervention(intervention({ id: 'c', seq: 3, startedAt: 3_000, status: 'expired' }));
      await store.upsertIntervention(intervention({ id: 'd', seq: 1, treasuryId: 'other', startedAt: 3_000 }));
      const ids = async (filter?: Parameters<TreasuryStore['interventions']>[1]) => (await store.interventions(T, filter)).map((i) => i.id);
      expect(await ids()).toEqual(['a', 'b', 'c']);
      expect(await ids({ sinceMs: 2_000 })).toEqual(['b', 'c']);
      expect(await ids({ status: 'running' })).toEqual(['b']);
      expect(await ids({ status: ['executed', 'expired'], sinceMs: 1_500 })).toEqual(['c']);
    });

    it('updates a proposal in place', async () => {
      await store.upsertProposal(proposal());
      await store.upsertProposal(proposal({ status: 'passed', outcome: { quorum: 0.2, approval: 0.6 } }));
      expect(await store.proposals(T)).toEqual([proposal({ status: 'passed', outcome: { quorum: 0.2, approval: 0.6 } })]);
    });

    it('replaces a vote by a later vote of the same voter', async () => {
      await store.upsertProposal(proposal());
      await store.recordVote(vote());
      await store.recordVote(vote({ voter: 'bob', choice: 'no', power: 4 }));
      await store.recordVote(vote({ at: 3_000, choice: 'abstain', power: 11 }));
      expect(await store.votes('proposal/1')).toEqual([
        vote({ at: 3_000, choice: 'abstain', power: 11 }),
        vote({ voter: 'bob', choice: 'no', power: 4 }),
      ]);
    });

    it('keeps the later vote when a retry of an earlier vote arrives after it', async () => {
      await store.upsertProposal(proposal());
      await store.recordVote(vote({ at: 3_000, choice: 'no' }));
      await store.recordVote(vote({ at: 2_000, choice: 'yes' }));
      expect((await store.votes('proposal/1')).map((v) => v.choice)).toEqual(['no']);
    });
  });

  describe('swap ledger', () => {
    const id = `intervention/${T}/1`;
    beforeEach(async () => {
      await store.upsertIntervention(intervention());
      await store.recordSwap(swap());
    });

    it('moves a swap forward and accepts a repeat of the same step', async () => {
      await store.updateSwap(id, 0, { status: 'sent', signature: 'sig1', updatedAt: 21_000 });
      await store.updateSwap(id, 0, { status: 'sent', signature: 'sig1', updatedAt: 21_000 });
      await store.updateSwap(id, 0, { status: 'confirmed', pstrOut: BIG + 1n, updatedAt: 22_000 });
      expect(await store.swap(id, 0)).toMatchObject({
        status: 'confirmed', signature: 'sig1', pstrOut: BIG + 1n, pumpIn: BIG, updatedAt: 22_000,
      });
    });

    it('refuses to move a swap back or from one final status to the other', async () => {
      await store.updateSwap(id, 0, { status: 'confirmed', updatedAt: 22_000 });
      await expect(store.updateSwap(id, 0, { status: 'sent', updatedAt: 23_000 })).rejects.toThrow(/'confirmed' to 'sent'/);
      await expect(store.updateSwap(id, 0, { status: 'failed', updatedAt: 23_000 })).rejects.toThrow(/'confirmed' to 'failed'/);
      expect((await store.swap(id, 0))?.updatedAt).toBe(22_000);
    });

    it('refuses to update a swap that was never recorded', async () => {
      await expect(store.updateSwap(id, 1, { status: 'sent', updatedAt: 1 })).rejects.toThrow(/slice 1: no such swap record/);
    });

    it('lets exactly one of several concurrent updates move a swap from prepared, the others see it moved', async () => {
      const outcomes = await Promise.allSettled([1, 2, 3, 4].map((n) => store.transaction(async () => {
        const current = await store.swap(id, 0);
        if (current?.status !== 'prepared') return 'saw it moved';
        await store.updateSwap(id, 0, { status: 'sent', signature: `sig${n}`, updatedAt: 21_000 + n });
        return `moved by ${n}`;
      })));
      const moved = outcomes.filter((o) => o.status === 'fulfilled' && o.value.startsWith('moved'));
      expect(moved).toHaveLength(1);
      expect(outcomes.filter((o) => o.status === 'fulfilled' && o.value === 'saw it moved')).toHaveLength(3);
    });
  });

  describe('amounts and JSON', () => {
    it('round-trips an amount above 2^53 exactly, stored as an exact decimal', async () => {
      await store.recordSnapshot(snapshot({ pumpBalance: BIG, pstrRetired: 2n ** 64n }));
      expect(await store.latestSnapshot(T)).toMatchObject({ pumpBalance: BIG, pstrRetired: 2n ** 64n });
      expect(await backend.amountCell()).toEqual({ v: '123456789012345678901', t: backend.name === 'SQLite' ? 'text' : 'numeric' });
    });

    it('round-trips any non-negative amount of up to 128 bits exactly', async () => {
      let n = 0;
      await fc.assert(fc.asyncProperty(fc.bigInt({ min: 0n, max: 2n ** 128n - 1n }), async (value) => {
        n += 1;
        await store.recordSnapshot(snapshot({ snapshotId: `p${n}`, at: n, usdcBalance: value }));
        expect((await store.latestSnapshot(T))?.usdcBalance).toBe(value);
      }), { numRuns: 100 });
    });

    it('stores a bigint inside JSON as its decimal string', async () => {
      await store.recordMonitoringLog(log({ data: { pump: BIG, nested: [1n, { x: null }] } }));
      expect((await store.monitoringLogs(T, 0, 9e15))[0]?.data).toEqual({ pump: '123456789012345678901', nested: ['1', { x: null }] });
    });

    it('names the column when an amount is negative or not a bigint', async () => {
      await expect(store.recordSnapshot(snapshot({ solBalance: -1n }))).rejects.toThrow(/sol_balance: amount must be ≥ 0, got -1/);
      await expect(store.recordSnapshot(snapshot({ solBalance: 5 as unknown as bigint })))
        .rejects.toThrow(/sol_balance: expected a bigint amount in base units, got number 5/);
      expect(await count('treasury_snapshots')).toBe(0);
    });

    it('names the column when a price is NaN or a time is not integer milliseconds', async () => {
      await expect(store.recordPriceSample(sample({ solPrice: Number.NaN }))).rejects.toThrow(/sol_price: expected a number, got NaN/);
      await expect(store.recordPriceSample(sample({ timestamp: 1.5 }))).rejects.toThrow(/timestamp: expected integer epoch milliseconds, got 1.5/);
    });

    it('keeps an infinite ratio (zero market cap) as floating-point infinity', async () => {
      await store.recordSnapshot(snapshot({ marketCapUsd: 0, reserveRatio: Number.POSITIVE_INFINITY }));
      expect((await store.latestSnapshot(T))?.reserveRatio).toBe(Number.POSITIVE_INFINITY);
    });

    it('finds a row by a text inside its JSON column', async () => {
      await store.recordAlert(alert({ alertKey: 'a', data: { delivery: { key: 'k1' } } }));
      await store.recordAlert(alert({ alertKey: 'b', data: { delivery: { key: 'k2' } } }));
      const keys = await store.query(async (db, { alerts: t }) =>
        (await db.select({ k: t.alertKey }).from(t).where(sql`${store.jsonText(t.data, 'delivery', 'key')} = ${'k2'}`)).map((r) => r.k));
      expect(keys).toEqual(['b']);
    });
  });

  describe('range queries', () => {
    it('returns one treasury\'s samples within inclusive bounds, oldest first', async () => {
      for (const [cycleId, timestamp] of [['c3', 3_000], ['c1', 1_000], ['c2', 2_000], ['c4', 4_000]] as const) {
        await store.recordPriceSample(sample({ cycleId, timestamp }));
      }
      await store.recordPriceSample(sample({ treasuryId: 'other', cycleId: 'c9', timestamp: 9_000 }));
      expect((await store.priceSamples(T, 2_000, 3_000)).map((s) => s.cycleId)).toEqual(['c2', 'c3']);
      expect((await store.latestPriceSample(T))?.cycleId).toBe('c4');
      expect(await store.latestPriceSample('nobody')).toBeUndefined();
    });

    it('filters alerts by level and time', async () => {
      await store.recordAlert(alert({ alertKey: 'a', at: 1_000, level: 'warning' }));
      await store.recordAlert(alert({ alertKey: 'b', at: 2_000, level: 'critical' }));
      await store.recordAlert(alert({ alertKey: 'c', at: 3_000, level: 'warning' }));
      expect((await store.alerts(T, { level: 'warning' })).map((a) => a.alertKey)).toEqual(['a', 'c']);
      expect((await store.alerts(T, { sinceMs: 2_000 })).map((a) => a.alertKey)).toEqual(['b', 'c']);
    });

    it('returns time, price and volume of the VWAP window only, oldest first', async () => {
      for (const [t, p] of [[3, 1.5], [1, 1.0], [2, 1.2], [9, 9]] as const) {
        await store.recordPriceSample({ treasuryId: 't', cycleId: `c${t}`, timestamp: t, pstrPrice: p, pstrVolume: t * 10, pumpPrice: 1, solPrice: null, consensus: { big: 'x'.repeat(1000) } });
      }
      expect(await store.vwapSamples('t', 1, 3)).toEqual([
        { timestamp: 1, price: 1.0, volume: 10 },
        { timestamp: 2, price: 1.2, volume: 20 },
        { timestamp: 3, price: 1.5, volume: 30 },
      ]);
    });

    it('loads many samples at once, counting only the new ones', async () => {
      const many = Array.from({ length: 2_500 }, (_, i) => sample({ cycleId: `m${i}`, timestamp: i }));
      expect(await store.recordPriceSamples(many.slice(0, 1_200))).toBe(1_200);
      expect(await store.recordPriceSamples(many)).toBe(1_300);
      expect(await count('price_samples')).toBe(2_500);
    });
  });

  describe('transaction', () => {
    it('leaves nothing written when the function throws', async () => {
      await expect(store.transaction(async () => {
        await store.recordPriceSample(sample());
        await store.upsertIntervention(intervention());
        await store.recordSwap(swap());
        throw new Error('crash mid-way');
      })).rejects.toThrow('crash mid-way');
      expect([await count('price_samples'), await count('interventions'), await count('swap_records')]).toEqual([0, 0, 0]);
    });

    it('commits everything and returns the function\'s result when it succeeds', async () => {
      const result = await store.transaction(async () => {
        await store.upsertIntervention(intervention());
        return store.recordSwap(swap());
      });
      expect(result).toBe(true);
      expect([await count('interventions'), await count('swap_records')]).toEqual([1, 1]);
    });

    it('rolls back only the inner part when a nested transaction throws', async () => {
      await store.transaction(async () => {
        await store.upsertIntervention(intervention());
        await expect(store.transaction(async () => {
          await store.recordSwap(swap());
          throw new Error('inner');
        })).rejects.toThrow('inner');
      });
      expect([await count('interventions'), await count('swap_records')]).toEqual([1, 0]);
    });

    it('keeps a concurrent write outside the transaction out of its rollback', async () => {
      const failing = store.transaction(async () => {
        await store.upsertIntervention(intervention());
        await new Promise((r) => setTimeout(r, 20));
        throw new Error('rolled back');
      });
      const outside = store.recordPriceSample(sample());
      await expect(failing).rejects.toThrow('rolled back');
      expect(await outside).toBe(true);
      expect([await count('interventions'), await count('price_samples')]).toEqual([0, 1]);
    });
  });
}

describe('TreasuryStore on SQLite', () => storeSuite(sqliteBackend()));

describe.skipIf(!postgresUrl)('TreasuryStore on PostgreSQL', () => storeSuite(postgresBackend()));

describe('TreasuryStore on SQLite, its file', () => {
  it('turns on WAL, foreign keys and a busy timeout, and creates the parent directory', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'treasury-store-'));
    const file = path.join(dir, 'a', 'b', 'treasury.db');
    const store = TreasuryStore.open(file);
    try {
      const db = new Database(file, { readonly: true });
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      db.close();
      const conn = (store as unknown as { conn: { sqlite: Database.Database } }).conn.sqlite;
      expect(conn.pragma('foreign_keys', { simple: true })).toBe(1);
      expect(conn.pragma('busy_timeout', { simple: true })).toBe(5000);
    } finally {
      void store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe.skipIf(!postgresUrl)('TreasuryStore on PostgreSQL, its connection', () => {
  it('migrates once when several workers connect to a new database at the same moment', async () => {
    const url = await freshDatabase('race');
    const stores = await Promise.all([1, 2, 3, 4].map(() => TreasuryStore.connect(url)));
    try {
      await stores[0]?.recordPriceSample(sample());
      expect((await stores[3]?.latestPriceSample(T))?.cycleId).toBe('c1');
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
  });

  it('names the database without its password when it cannot connect', async () => {
    await expect(TreasuryStore.connect('postgres://agent:s3cret@127.0.0.1:1/nowhere')).rejects.toThrow(/PostgreSQL store at postgres:\/\/agent:\*\*\*@127\.0\.0\.1:1\/nowhere/);
    await expect(TreasuryStore.connect('postgres://agent:s3cret@127.0.0.1:1/nowhere')).rejects.not.toThrow(/s3cret/);
  });
});
