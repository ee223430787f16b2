/**
 * The records of particular boards (`report --db --mac M` / `--serial S`): every attempt on those MACs, a serial
 * finding its board's MAC first — as the ledger walk does — in ledger order (file, line), so the history built
 * from them is the one `report --ledger` builds.
 */
import type pg from 'pg';
import type { LedgerRecord } from '../ledger/record.ts';
import { SCHEMA } from './migrations.ts';

export async function boardRecords(
  client: pg.ClientBase,
  query: { macs?: readonly string[]; serials?: readonly string[] },
): Promise<LedgerRecord[]> {
  const { rows } = await client.query<{ record: LedgerRecord }>(
    `SELECT record FROM ${SCHEMA}.records
      WHERE mac = ANY($1::text[])
         OR mac IN (SELECT mac FROM ${SCHEMA}.records WHERE serial = ANY($2::text[]) AND mac IS NOT NULL)
      ORDER BY ledger_file COLLATE "C", ledger_line`,
    [(query.macs ?? []).map((m) => m.toUpperCase()), query.serials ?? []],
  );
  return rows.map((r) => r.record);
}
