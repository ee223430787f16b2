/**
 * `report --mac M` / `--serial S`: which board this is, what it got (serial, credential bundle, the SHA-256 of
 * each per-board value), where (station, slot), when, by whom (operator), every attempt in order. A serial
 * finds its board's MAC first, then every attempt on that MAC (including the ones before it had an identity).
 */
import { LedgerReader } from '../ledger/reader.ts';
import type { BoardIdentityRecord, LedgerRecord } from '../ledger/record.ts';
import type { ReportFilter, YieldReport } from './yield-report.ts';

export interface BoardAttempt {
  start: string;
  end: string;
  station: string;
  slot: string;
  port: string;
  operator: string;
  lot: string;
  profile: string;
  recipe: string;
  attempt: number;
  result: 'pass' | 'fail';
  code?: string;
  message?: string;
  identity?: BoardIdentityRecord;
}

export interface BoardHistory {
  mac: string;
  /** The serial and bundle of its latest attempt that had an identity. */
  serial?: string;
  credential?: string;
  attempts: BoardAttempt[];
}

/** Reads the ledger (file or directory) for the boards with these MACs (upper-case colon form) or serials. */
export async function boardHistory(
  ledger: string,
  query: { macs?: readonly string[]; serials?: readonly string[] },
): Promise<BoardHistory[]> {
  const macs = new Set((query.macs ?? []).map((m) => m.toUpperCase()));
  if (query.serials && query.serials.length > 0) {
    const serials = new Set(query.serials);
    for await (const r of new LedgerReader(ledger)) {
      if (r.mac && r.identity?.serial !== undefined && serials.has(r.identity.serial)) macs.add(r.mac);
    }
  }
  if (macs.size === 0) return [];
  const records: LedgerRecord[] = [];
  for await (const r of new LedgerReader(ledger)) if (r.mac && macs.has(r.mac.toUpperCase())) records.push(r);
  return historiesOf(records);
}

/**
 * The boards' histories from their records, given in ledger order (a ledger walk, or the database's rows in
 * ledger file and line order): one path for `report --ledger` and `report --db`.
 */
export function historiesOf(records: Iterable<LedgerRecord>): BoardHistory[] {
  const byMac = new Map<string, LedgerRecord[]>();
  for (const r of records) {
    if (!r.mac) continue;
    const key = r.mac.toUpperCase();
    const list = byMac.get(key) ?? [];
    list.push(r);
    byMac.set(key, list);
  }
  return [...byMac.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([mac, list]) => {
      list.sort((a, b) => Date.parse(a.start) - Date.parse(b.start));
      const latest = list.filter((r) => r.identity).at(-1)?.identity;
      return {
        mac,
        ...(latest?.serial !== undefined && { serial: latest.serial }),
        ...(latest?.credential !== undefined && { credential: latest.credential }),
        attempts: list.map(toAttempt),
      };
    });
}

function toAttempt(r: LedgerRecord): BoardAttempt {
  return {
    start: r.start,
    end: r.end,
    station: r.station,
    slot: r.slot,
    port: r.port,
    operator: r.operator,
    lot: r.lot,
    profile: r.profile,
    recipe: r.recipe,
    attempt: r.attempt,
    result: r.result,
    ...(r.code !== undefined && { code: r.code }),
    ...(r.message !== undefined && { message: r.message }),
    ...(r.identity && { identity: r.identity }),
  };
}

/** Plain text, one block per board. */
export function formatBoardHistory(boards: readonly BoardHistory[], asked: string): string {
  if (boards.length === 0) return `no attempt in the ledger for ${asked}\n`;
  const out: string[] = [];
  for (const b of boards) {
    const passes = b.attempts.filter((a) => a.result === 'pass').length;
    const last = b.attempts[b.attempts.length - 1];
    out.push(
      `board ${b.mac}${b.serial !== undefined ? `  serial ${b.serial}` : ''}${b.credential !== undefined ? `  credential ${b.credential}` : ''}`,
      `  ${b.attempts.length} attempt(s), ${passes} PASS; last ${last.result.toUpperCase()} at ${last.end}`,
    );
    for (const a of b.attempts) {
      const result = a.result === 'pass' ? 'PASS' : `FAIL ${a.code ?? ''}`.trim();
      const id = a.identity
        ? `  identity ${[a.identity.serial, a.identity.credential].filter(Boolean).join(' ')} (${a.identity.outcome}${a.identity.reused ? ', again' : ''})`
        : '';
      out.push(
        `  #${a.attempt} ${a.start}  ${result.padEnd(24)} station ${a.station}  slot ${a.slot}  operator ${a.operator || '-'}  lot ${a.lot || '-'}${id}`,
      );
    }
    const values = b.attempts.filter((a) => a.identity).at(-1)?.identity?.values ?? [];
    for (const v of values)
      out.push(`  value ${v.namespace}/${v.key} ${v.type} ${v.size} B sha256 ${v.sha256}`);
    out.push('');
  }
  return `${out.join('\n')}\n`;
}

/**
 * For `report`: with --mac or --serial in text or JSON, the boards' histories (JSON: the report with a
 * `boards` list; text: the histories, to go before the figures); undefined otherwise.
 */
export async function boardHistoryChunks(
  ledger: string,
  filter: ReportFilter,
  format: string,
  report: YieldReport,
): Promise<string[] | undefined> {
  if (!(filter.macs || filter.serials) || (format !== 'text' && format !== 'json')) return undefined;
  const boards = await boardHistory(ledger, { macs: filter.macs, serials: filter.serials });
  return historyChunks(boards, filter, format, report);
}

/** The histories as `report` prints them (JSON: the report with a `boards` list; text: before the figures). */
export function historyChunks(
  boards: readonly BoardHistory[],
  filter: ReportFilter,
  format: string,
  report: YieldReport,
): string[] {
  if (format === 'json') return [`${JSON.stringify({ boards, ...report }, null, 2)}\n`];
  return [formatBoardHistory(boards, [...(filter.macs ?? []), ...(filter.serials ?? [])].join(', '))];
}
