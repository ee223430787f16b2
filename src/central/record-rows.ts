/**
 * Ledger records → rows of esp_station.records, inserted in one statement per batch with ON CONFLICT DO NOTHING
 * on the record id: shipping is at-least-once (a batch may be sent again after a crash or a cut link), rows are
 * exactly-once. Typed columns are computed here, in JavaScript, so `report --db` reads the same instants and
 * keys as the JSONL report does.
 */
import type pg from 'pg';
import type { LedgerRecord } from '../ledger/record.ts';
import { SCHEMA } from './migrations.ts';

export interface ShippedRecord {
  record: LedgerRecord;
  /** Ledger file base name and 1-based line the record came from. */
  file: string;
  line: number;
}

/** PostgreSQL text and JSONB cannot hold U+0000; the ledger keeps the original, the database shows U+FFFD. */
const clean = (s: string) => (s.includes('\u0000') ? s.replaceAll('\u0000', '\uFFFD') : s);
const cleanOrNull = (s: string | undefined) => (s === undefined ? null : clean(s));

/** JSONB refuses the escape \\u0000 too: a record holding U+0000 anywhere is stored with U+FFFD instead. */
function jsonOf(record: LedgerRecord): string {
  const json = JSON.stringify(record);
  return json.includes('\\u0000')
    ? JSON.stringify(record, (_key, v: unknown) => (typeof v === 'string' ? clean(v) : v))
    : json;
}

function instant(text: string): string | null {
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? null : new Date(ms).toISOString();
}

/** The serial number the board got from the profile's identity section (absent without one). */
function serialOf(record: LedgerRecord): string | undefined {
  return record.identity?.serial;
}

const COLUMNS = [
  ['id', 'text'],
  ['station', 'text'],
  ['slot', 'text'],
  ['lot', 'text'],
  ['operator', 'text'],
  ['profile', 'text'],
  ['recipe', 'text'],
  ['mac', 'text'],
  ['serial', 'text'],
  ['chip', 'text'],
  ['result', 'text'],
  ['code', 'text'],
  ['message', 'text'],
  ['attempt', 'int4'],
  ['demo_firmware', 'bool'],
  ['start_at', 'timestamptz'],
  ['end_at', 'timestamptz'],
  ['duration_ms', 'float8'],
  ['record', 'jsonb'],
  ['ledger_file', 'text'],
  ['ledger_line', 'int4'],
] as const;

function rowOf(s: ShippedRecord): unknown[] {
  const r = s.record;
  return [
    clean(r.id),
    clean(r.station),
    clean(r.slot),
    clean(r.lot),
    clean(r.operator),
    clean(r.profile),
    clean(r.recipe),
    r.mac === undefined ? null : clean(r.mac.toUpperCase()),
    cleanOrNull(serialOf(r)),
    cleanOrNull(r.chip),
    r.result,
    r.code ?? null,
    cleanOrNull(r.message),
    r.attempt,
    r.demoFirmware === true,
    instant(r.start),
    instant(r.end),
    r.durationMs,
    jsonOf(r),
    clean(s.file),
    s.line,
  ];
}

const INSERT = `INSERT INTO ${SCHEMA}.records (${COLUMNS.map((c) => c[0]).join(', ')})
SELECT * FROM unnest(${COLUMNS.map(([, type], i) => `$${i + 1}::${type}[]`).join(', ')})
ON CONFLICT (id) DO NOTHING`;

/**
 * Inserts the records; returns how many rows were new (the rest were already there). The caller runs it
 * outside a transaction or inside its own; one statement is atomic either way.
 */
export async function insertRecords(
  client: pg.ClientBase,
  records: readonly ShippedRecord[],
): Promise<number> {
  if (records.length === 0) return 0;
  const columns: unknown[][] = COLUMNS.map(() => new Array(records.length));
  records.forEach((s, i) => {
    const row = rowOf(s);
    for (let c = 0; c < row.length; c++) columns[c][i] = row[c];
  });
  const result = await client.query(INSERT, columns);
  return result.rowCount ?? 0;
}
