/** The database report's extra table, stations side by side, as text and CSV (the report's own helpers). */
import type { StationComparisonRow } from '../central/station-comparison.ts';
import { csvCell } from '../report/format-csv.ts';
import { decimal, instant, percent, seconds } from '../report/figures.ts';
import { printable } from '../report/format-text.ts';
import { textTable } from '../report/text-table.ts';

export function formatStationComparisonText(rows: readonly StationComparisonRow[]): string {
  const out = ['', 'Stations compared (from the central database)'];
  out.push(
    ...textTable(
      [
        { title: 'station' },
        { title: 'attempts', align: 'right' },
        { title: 'yield', align: 'right' },
        { title: 'boards', align: 'right' },
        { title: 'first-pass', align: 'right' },
        { title: 'boards/h', align: 'right' },
        { title: 'cycle p50', align: 'right' },
        { title: 'p90', align: 'right' },
        { title: 'top failure' },
        { title: 'state' },
        { title: 'last seen' },
        { title: 'backlog', align: 'right' },
      ],
      rows.map((s) => [
        printable(s.station),
        `${s.attempts}`,
        percent(s.yield),
        `${s.boards}`,
        percent(s.firstPassYield),
        decimal(s.boardsPerHour),
        seconds(s.cycleP50Ms),
        seconds(s.cycleP90Ms),
        s.topFailure ?? '',
        s.heartbeat?.state ?? '(backfilled)',
        s.heartbeat ? instant(s.heartbeat.lastSeen) : '',
        s.heartbeat ? `${s.heartbeat.lagRecords}` : '',
      ]),
    ),
  );
  out.push(
    '  (first-pass: boards whose first attempt anywhere was at this station and passed; cycle times exact;',
    '   state "away": no heartbeat for three intervals; backlog: records the station had not yet shipped)',
  );
  return `${out.join('\n')}\n`;
}

export function* formatStationComparisonCsv(rows: readonly StationComparisonRow[]): Generator<string> {
  const line = (cells: Array<string | number | boolean | null | undefined>) =>
    `${cells.map(csvCell).join(',')}\n`;
  yield line([
    'station',
    'attempts',
    'passed',
    'yield',
    'boards',
    'boards_first_tried',
    'boards_first_pass',
    'first_pass_yield',
    'boards_per_hour',
    'cycle_p50_ms',
    'cycle_p90_ms',
    'top_failure',
    'state',
    'last_seen',
    'lag_records',
    'lag_seconds',
    'version',
  ]);
  for (const s of rows) {
    yield line([
      s.station,
      s.attempts,
      s.passed,
      s.yield,
      s.boards,
      s.boardsFirstTried,
      s.boardsFirstPass,
      s.firstPassYield,
      s.boardsPerHour,
      s.cycleP50Ms,
      s.cycleP90Ms,
      s.topFailure,
      s.heartbeat?.state,
      s.heartbeat?.lastSeen,
      s.heartbeat?.lagRecords,
      s.heartbeat?.lagSeconds,
      s.heartbeat?.version,
    ]);
  }
}
