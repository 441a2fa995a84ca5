import { getTableColumns, getTableName } from 'drizzle-orm';
import { describe, expect, expectTypeOf, it } from 'vitest';
import * as lite from './schema.ts';
import * as pg from './schema-pg.ts';

const names = ['priceSamples', 'treasurySnapshots', 'interventions', 'interventionSteps', 'monitoringLogs', 'alerts', 'proposals', 'votes',
  'swapRecords', 'ledgerBalances', 'ledgerEntries', 'lpPositions', 'controlState', 'moneyJournal'] as const;

describe('the PostgreSQL schema', () => {
  it('has the same tables and column names as the SQLite schema', () => {
    for (const name of names) {
      expect(getTableName(pg[name]), name).toBe(getTableName(lite[name]));
      const columns = (t: Parameters<typeof getTableColumns>[0]) => Object.entries(getTableColumns(t)).map(([key, c]) => [key, c.name, c.notNull]);
      expect(columns(pg[name]), name).toEqual(columns(lite[name]));
    }
  });

  it('gives rows the same TypeScript types, so one store implementation serves both', () => {
    expectTypeOf<typeof pg.priceSamples.$inferSelect>().toEqualTypeOf<typeof lite.priceSamples.$inferSelect>();
    expectTypeOf<typeof pg.treasurySnapshots.$inferSelect>().toEqualTypeOf<typeof lite.treasurySnapshots.$inferSelect>();
    expectTypeOf<typeof pg.interventions.$inferSelect>().toEqualTypeOf<typeof lite.interventions.$inferSelect>();
    expectTypeOf<typeof pg.interventionSteps.$inferSelect>().toEqualTypeOf<typeof lite.interventionSteps.$inferSelect>();
    expectTypeOf<typeof pg.monitoringLogs.$inferSelect>().toEqualTypeOf<typeof lite.monitoringLogs.$inferSelect>();
    expectTypeOf<typeof pg.alerts.$inferSelect>().toEqualTypeOf<typeof lite.alerts.$inferSelect>();
    expectTypeOf<typeof pg.proposals.$inferSelect>().toEqualTypeOf<typeof lite.proposals.$inferSelect>();
    expectTypeOf<typeof pg.votes.$inferSelect>().toEqualTypeOf<typeof lite.votes.$inferSelect>();
    expectTypeOf<typeof pg.swapRecords.$inferSelect>().toEqualTypeOf<typeof lite.swapRecords.$inferSelect>();
    expectTypeOf<typeof pg.ledgerBalances.$inferSelect>().toEqualTypeOf<typeof lite.ledgerBalances.$inferSelect>();
    expectTypeOf<typeof pg.ledgerEntries.$inferSelect>().toEqualTypeOf<typeof lite.ledgerEntries.$inferSelect>();
    expectTypeOf<typeof pg.lpPositions.$inferSelect>().toEqualTypeOf<typeof lite.lpPositions.$inferSelect>();
    expectTypeOf<typeof pg.controlState.$inferSelect>().toEqualTypeOf<typeof lite.controlState.$inferSelect>();
    expectTypeOf<typeof pg.moneyJournal.$inferSelect>().toEqualTypeOf<typeof lite.moneyJournal.$inferSelect>();
    expectTypeOf<typeof pg.interventions.$inferInsert>().toEqualTypeOf<typeof lite.interventions.$inferInsert>();
    expectTypeOf<typeof pg.ledgerEntries.$inferInsert>().toEqualTypeOf<typeof lite.ledgerEntries.$inferInsert>();
  });
});
