/**
 * Ships a whole existing ledger (a file or a directory of any stations' files) to the central database:
 * for ledgers from before the database existed, from a station that never had it configured, or after a
 * database restore. Idempotent: rows already there are left as they are (ON CONFLICT DO NOTHING by record id),
 * so running it twice, or on a ledger a station is also shipping live, never duplicates a row.
 */
import { basename } from 'node:path';
import type pg from 'pg';
import { LedgerReader } from '../ledger/reader.ts';
import type { LedgerProblem } from '../ledger/reader.ts';
import { migrate } from './migrations.ts';
import { insertRecords } from './record-rows.ts';
import type { ShippedRecord } from './record-rows.ts';

export interface BackfillResult {
  files: number;
  records: number;
  /** Rows the database did not have. */
  added: number;
  problemCount: number;
  problems: LedgerProblem[];
}

const BATCH_ROWS = 2_000;

export async function backfillLedger(
  client: pg.ClientBase,
  ledger: string,
  options: { signal?: AbortSignal; onProgress?: (done: BackfillResult) => void } = {},
): Promise<BackfillResult> {
  await migrate(client, 'esp-station ledger ship');
  const reader = new LedgerReader(ledger, { signal: options.signal, maxProblemsKept: 20 });
  let added = 0;
  let pending: ShippedRecord[] = [];
  const flush = async () => {
    added += await insertRecords(client, pending);
    pending = [];
    options.onProgress?.(state());
  };
  const state = (): BackfillResult => ({
    files: reader.files.length,
    records: reader.records,
    added,
    problemCount: reader.problemCount,
    problems: reader.problems,
  });
  for await (const batch of reader.entryBatches()) {
    for (const e of batch) {
      pending.push({ record: e.record, file: basename(e.file), line: e.line });
      if (pending.length >= BATCH_ROWS) await flush();
    }
  }
  if (pending.length > 0) await flush();
  return state();
}
