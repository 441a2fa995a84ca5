/**
 * npx tsx bench/vwap-store.bench.ts — what recordSample costs per cycle with a
 * full 30-day window (8,640 samples at the 5-minute cadence), the old way
 * against the new, in the same run, on SQLite (a temporary file) and, when a
 * PostgreSQL server binary is installed, on a throwaway PostgreSQL server.
 *
 *  - old: insert the sample, read the window's 8,640 (time, price, volume)
 *    rows back (store.vwapSamples) and recompute the VWAP (vwapOf): what
 *    recordSample did before issue #13 item 2.
 *  - new: the recordSample activity as it is: insert the sample with its
 *    running sums, read two prefix rows and the window's oldest timestamp.
 *
 * Both ways run in turn on two treasuries seeded alike, so machine load
 * falls on both; each cycle adds a sample, so the window stays full.
 * Options: --cycles N (per way, default 200).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { monitorActivities, type RecordSampleInput } from '../src/activities/monitor.ts';
import type { ActivityDeps } from '../src/activities/deps.ts';
import { TreasuryStore, type NewPriceSample } from '../src/db/store.ts';
import { DAY_MS, vwapOf, type VwapReading } from '../src/domain/vwap.ts';
import { postgresBin, startPostgres } from '../test/support/postgres-server.ts';

const i = process.argv.indexOf('--cycles');
const CYCLES = i >= 0 ? Number(process.argv[i + 1]) : 200;
if (!Number.isSafeInteger(CYCLES) || CYCLES <= 0) throw new Error(`--cycles must be a positive integer, got ${process.argv[i + 1]}`);

const STEP_MS = 300_000;
const WINDOW = 8_640;
const T0 = Date.UTC(2025, 0, 1);
const priceAt = (k: number) => 0.5 + 0.05 * Math.sin(k / 97);
const volumeAt = (k: number) => (k % 13 === 0 ? 0 : 1_000 + (k % 251) * 3.7);

function history(treasuryId: string): NewPriceSample[] {
  return Array.from({ length: WINDOW }, (_, k) => ({
    treasuryId, cycleId: `seed/${k}`, timestamp: T0 + k * STEP_MS, pstrPrice: priceAt(k), pstrVolume: volumeAt(k), pumpPrice: 0.004, solPrice: 150,
    consensus: { ok: true, price: priceAt(k), readings: [], agreeing: [], excluded: [], outliers: [] },
  }));
}

const input = (treasuryId: string, k: number): RecordSampleInput => ({
  treasuryId, cycleId: `cycle/${k}`, at: T0 + k * STEP_MS, pstrPrice: priceAt(k), volumeUsd: volumeAt(k), pumpPrice: 0.004, solPrice: 150,
  consensus: { ok: true, price: priceAt(k), readings: [], agreeing: [], excluded: [], outliers: [] }, vwapWindowDays: 30,
});

/** recordSample before issue #13 item 2: insert, read the whole window, recompute. */
async function oldRecordSample(store: TreasuryStore, s: RecordSampleInput): Promise<VwapReading | null> {
  await store.recordPriceSample({
    treasuryId: s.treasuryId, cycleId: s.cycleId, timestamp: s.at, pstrPrice: s.pstrPrice, pstrVolume: s.volumeUsd, pumpPrice: s.pumpPrice,
    solPrice: s.solPrice, consensus: s.consensus,
  });
  const windowMs = s.vwapWindowDays * DAY_MS;
  return vwapOf(await store.vwapSamples(s.treasuryId, s.at - windowMs + 1, s.at), s.at, windowMs);
}

const quantile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))] as number;
const ms = (x: number) => `${x.toFixed(3)} ms`;

async function measure(name: string, store: TreasuryStore): Promise<void> {
  const acts = monitorActivities({ store } as unknown as ActivityDeps);
  await store.recordPriceSamples(history('old'));
  await store.recordPriceSamples(history('new'));
  const old: number[] = [];
  const fresh: number[] = [];
  let worst = 0;
  for (let c = 0; c < CYCLES; c++) {
    const k = WINDOW + c;
    let t = performance.now();
    const a = await oldRecordSample(store, input('old', k));
    old.push(performance.now() - t);
    t = performance.now();
    const b = await acts.recordSample(input('new', k));
    fresh.push(performance.now() - t);
    if (!a || !b || a.samples !== b.samples || a.volumeless !== b.volumeless) throw new Error(`cycle ${k}: the two ways disagree on the window`);
    worst = Math.max(worst, Math.abs(a.vwap - b.vwap) / a.vwap);
  }
  const p50 = [quantile(old, 0.5), quantile(fresh, 0.5)] as const;
  const p99 = [quantile(old, 0.99), quantile(fresh, 0.99)] as const;
  console.log(`${name}: ${CYCLES} cycles each, window ${WINDOW} samples`);
  console.log(`  old (insert + read 8,640 rows + vwapOf): p50 ${ms(p50[0])}, p99 ${ms(p99[0])}`);
  console.log(`  new (insert with sums + 3 one-row lookups): p50 ${ms(p50[1])}, p99 ${ms(p99[1])}`);
  console.log(`  ratio old/new: ${(p50[0] / p50[1]).toFixed(1)}× at p50, ${(p99[0] / p99[1]).toFixed(1)}× at p99; largest |old − new| / old VWAP ${worst.toExponential(2)}`);
}

const dir = mkdtempSync(join(tmpdir(), 'vwap-bench-'));
try {
  const sqlite = TreasuryStore.open(join(dir, 'treasury.db'));
  await measure('SQLite (file, WAL)', sqlite).finally(() => sqlite.close());
  const bin = postgresBin();
  if (!bin) console.log('PostgreSQL: skipped (no server binaries under /usr/lib/postgresql)');
  else {
    const server = await startPostgres(bin);
    try {
      const admin = new pg.Client({ connectionString: server.url });
      await admin.connect();
      await admin.query('CREATE DATABASE vwap_bench');
      await admin.end();
      const store = await TreasuryStore.connect(server.url.replace(/\/postgres$/, '/vwap_bench'));
      await measure('PostgreSQL (local, fsync off)', store).finally(() => store.close());
    } finally {
      server.stop();
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
