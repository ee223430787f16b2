/** Shared pieces of the central tests: ledgers of generated records, a shipper on them, and database counts. */
import { mkdtemp, readFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { CentralTarget } from '../../src/central/connection.ts';
import { parseDatabaseUrl } from '../../src/central/database-url.ts';
import { Outbox } from '../../src/central/outbox.ts';
import type { OutboxLedger } from '../../src/central/outbox.ts';
import { CentralShipper } from '../../src/central/shipper.ts';
import type { CentralStatus, ShipperOptions } from '../../src/central/shipper.ts';
import type { LedgerRecord } from '../../src/ledger/record.ts';
import { LedgerWriter } from '../../src/ledger/writer.ts';
import { makeRecord, mac } from '../ledger/record-builder.ts';

export function targetOf(url: string, extra: Partial<CentralTarget> = {}): CentralTarget {
  const parsed = parseDatabaseUrl(url);
  if (!parsed.ok) throw new Error(parsed.message);
  return { address: parsed.address, ...extra };
}

export async function tempDir(prefix = 'central-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

/** Records of one station, one per board, a minute apart from `startMs`, with ids unique to the station. */
export function stationRecords(
  station: string,
  count: number,
  startMs = Date.UTC(2026, 10, 23, 8),
): LedgerRecord[] {
  return Array.from({ length: count }, (_, i) =>
    makeRecord({
      id: `${station}/${i}`,
      station,
      mac: mac(i + 1),
      startMs: startMs + i * 60_000,
      durationMs: 10_000 + (i % 7) * 1000,
      ...(i % 5 === 4 && { result: 'fail' as const }),
    }),
  );
}

export async function writeLedger(
  dir: string,
  station: string,
  records: readonly LedgerRecord[],
): Promise<void> {
  const w = await LedgerWriter.open({ dir, station, rotate: { by: 'day' } });
  for (const r of records) await w.append(r);
  await w.close();
}

/** Every line of every `*.jsonl` file in dir (the ledger's truth, for comparing with the database). */
export async function ledgerIds(dir: string): Promise<string[]> {
  const ids: string[] = [];
  for (const name of (await readdir(dir)).filter((n) => n.endsWith('.jsonl')).sort()) {
    for (const line of (await readFile(join(dir, name), 'utf8')).split('\n')) {
      if (line.trim() === '') continue;
      try {
        ids.push((JSON.parse(line) as { id: string }).id);
      } catch {
        // torn or corrupt lines are not records
      }
    }
  }
  return ids;
}

export async function databaseIds(url: string): Promise<string[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const { rows } = await c.query<{ id: string }>('SELECT id FROM esp_station.records ORDER BY id');
    return rows.map((r) => r.id);
  } finally {
    await c.end();
  }
}

export async function sql<R extends pg.QueryResultRow>(
  url: string,
  text: string,
  params: unknown[] = [],
): Promise<R[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query<R>(text, params)).rows;
  } finally {
    await c.end();
  }
}

export interface TestShipper {
  shipper: CentralShipper;
  outbox: Outbox;
  statuses: CentralStatus[];
  notices: string[];
}

/** A shipper with fast retries, recording every status and notice. */
export async function makeShipper(
  url: string,
  ledger: OutboxLedger,
  options: Partial<ShipperOptions> = {},
): Promise<TestShipper> {
  const statuses: CentralStatus[] = [];
  const notices: string[] = [];
  const outbox = await Outbox.open({ ledger, onNotice: (m) => notices.push(m), maxBatchBytes: 64 * 1024 });
  const shipper = new CentralShipper({
    target: targetOf(url),
    outbox,
    station: {
      name: ledger.station,
      host: 'test-host',
      version: '0.0.0-test',
      profile: 'at-esp32',
      recipe: 'a'.repeat(64),
    },
    onStatus: (s) => statuses.push(s),
    onNotice: (_level, m) => notices.push(m),
    pollMs: 100,
    heartbeatMs: 1_000,
    retryFirstMs: 50,
    retryMaxMs: 400,
    connectTimeoutMs: 2_000,
    queryTimeoutMs: 3_000,
    ...options,
  });
  return { shipper, outbox, statuses, notices };
}

/** Polls until `check` holds or `ms` passed (the outcome is then asserted by the caller). */
export async function eventually(check: () => Promise<boolean> | boolean, ms = 20_000): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return check();
}

export function sortedUnique(ids: readonly string[]): string[] {
  return [...new Set(ids)].sort();
}
