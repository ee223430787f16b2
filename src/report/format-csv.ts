/**
 * CSV tables (RFC 4180, CRLF-free: LF line ends, header row first). The default table is the board list for
 * MES import; the others carry the report's figures. Ratios are fractions 0..1 with 6 decimals.
 * Text cells that a spreadsheet would run as a formula (= + - @ tab CR first, after blanks too) get a leading
 * apostrophe; cells holding `;` are quoted, for spreadsheets whose list separator is `;`.
 */
import type { YieldAggregator } from './yield-aggregator.ts';
import type { GroupRow, YieldReport } from './yield-report.ts';

export const CSV_TABLES = [
  'boards',
  'totals',
  'failures',
  'messages',
  'test-steps',
  'slots',
  'phases',
  'timeline',
  'hourly',
  'recipes',
  'lots',
  'stations',
  'operators',
] as const;
export type CsvTable = (typeof CSV_TABLES)[number];

type Cell = string | number | boolean | null | undefined;

export function csvCell(value: Cell): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number')
    return Number.isInteger(value) ? String(value) : String(Number(value.toFixed(6)));
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  // A formula start after leading blanks counts too (spreadsheets trim them).
  const text = /^[\s]*[=+\-@]|^[\t\r]/.test(value) ? `'${value}` : value;
  // `;` is quoted as well: where `;` is the list separator, an unquoted one would split the cell and a formula
  // could start the new one.
  return /[",;\r\n]|^\s|\s$/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

function row(cells: Cell[]): string {
  return `${cells.map(csvCell).join(',')}\n`;
}

function groupRows(header: string, rows: GroupRow[]): string[] {
  return [
    row([header, 'attempts', 'passed', 'failed', 'yield']),
    ...rows.map((g) => row([g.key, g.attempts, g.passed, g.failed, g.yield])),
  ];
}

/** Lines of one CSV table; the board list is streamed from the aggregator's per-board state. */
export function* formatCsv(table: CsvTable, r: YieldReport, aggregator: YieldAggregator): Generator<string> {
  switch (table) {
    case 'boards':
      yield row([
        'mac',
        'result',
        'attempts',
        'first',
        'last',
        'recipe',
        'lot',
        'station',
        'slot',
        'last_code',
        'demo_firmware',
        'last_message',
      ]);
      for (const b of aggregator.boardRows()) {
        yield row([
          b.mac,
          b.result,
          b.attempts,
          b.first,
          b.last,
          b.recipe,
          b.lot,
          b.station,
          b.slot,
          b.code,
          b.demoFirmware,
          b.message,
        ]);
      }
      return;
    case 'totals': {
      const t = r.totals;
      yield row(['figure', 'value']);
      const figures: Array<[string, Cell]> = [
        ['attempts', t.attempts],
        ['attempts_passed', t.attemptsPassed],
        ['attempts_failed', t.attemptsFailed],
        ['attempts_without_mac', t.attemptsWithoutMac],
        ['boards', t.boards],
        ['boards_passed', t.boardsPassed],
        ['boards_failed', t.boardsFailed],
        ['boards_first_pass', t.boardsFirstPass],
        ['first_pass_yield', t.firstPassYield],
        ['final_yield', t.finalYield],
        ['retests', t.retests],
        ['boards_retested', t.boardsRetested],
        ['boards_per_hour', t.boardsPerHour],
        ['cycle_time_p50_ms', t.cycleTimeMs?.p50],
        ['cycle_time_p90_ms', t.cycleTimeMs?.p90],
        ['cycle_time_max_ms', t.cycleTimeMs?.max],
        ['passed_after_retry', t.passedAfterRetry],
        ['passed_at_lower_baud', t.passedAtLowerBaud],
        ['window_first', r.window?.first],
        ['window_last', r.window?.last],
        ['demo_firmware_attempts', r.demo.attempts],
        ['unreadable_lines', r.ledger.problemCount],
      ];
      for (const [k, v] of figures) yield row([k, v]);
      return;
    }
    case 'failures':
    case 'messages':
    case 'test-steps': {
      const [title, rows] =
        table === 'failures'
          ? ['code', r.failures.byCode]
          : table === 'messages'
            ? ['message', r.failures.byMessage]
            : ['step', r.failures.byTestStep];
      yield row([title, 'count', 'share', 'cumulative']);
      for (const p of rows) yield row([p.key, p.count, p.share, p.cumulative]);
      return;
    }
    case 'slots':
      yield row([
        'station',
        'slot',
        'attempts',
        'passed',
        'failed',
        'yield',
        'verdict',
        'z',
        'rest_yield',
        'top_failure',
        'passed_after_retry',
        'passed_at_lower_baud',
      ]);
      for (const s of r.slots) {
        yield row([
          s.station,
          s.slot,
          s.attempts,
          s.passed,
          s.failed,
          s.yield,
          s.verdict,
          s.z,
          s.restYield,
          s.topFailure,
          s.passedAfterRetry,
          s.passedAtLowerBaud,
        ]);
      }
      return;
    case 'phases':
      yield row(['phase', 'attempts', 'p50_ms', 'p90_ms', 'max_ms']);
      for (const p of r.phases) yield row([p.phase, p.attempts, p.p50Ms, p.p90Ms, p.maxMs]);
      return;
    case 'timeline':
      yield row(['start', 'bin_minutes', 'attempts', 'passed', 'failed', 'yield']);
      for (const h of r.timeline.rows)
        yield row([h.start, r.timeline.binMinutes, h.attempts, h.passed, h.failed, h.yield]);
      return;
    case 'hourly':
      yield row(['hour', 'attempts', 'passed', 'failed', 'yield']);
      for (const h of r.hourly) yield row([h.hour, h.attempts, h.passed, h.failed, h.yield]);
      return;
    case 'recipes':
      yield row([
        'recipe',
        'profiles',
        'demo_firmware',
        'attempts',
        'passed',
        'failed',
        'yield',
        'boards',
        'boards_first_pass',
        'first_pass_yield',
        'first',
        'last',
      ]);
      for (const x of r.recipes) {
        yield row([
          x.key,
          x.profiles.join(' '),
          x.demoFirmware,
          x.attempts,
          x.passed,
          x.failed,
          x.yield,
          x.boards,
          x.boardsFirstPass,
          x.firstPassYield,
          x.first,
          x.last,
        ]);
      }
      return;
    case 'lots':
      yield* groupRows('lot', r.lots);
      return;
    case 'stations':
      yield* groupRows('station', r.stations);
      return;
    case 'operators':
      yield* groupRows('operator', r.operators);
      return;
  }
}
