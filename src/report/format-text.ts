/** The report for a terminal. Ledger strings are stripped of control characters so they cannot drive the terminal. */
import { formatLedgerProblem } from '../ledger/reader.ts';
import { binLabel, decimal, instant, percent, seconds, shortRecipe, zoneName } from './figures.ts';
import { OUTLIER_RULE } from './slot-outliers.ts';
import { textTable } from './text-table.ts';
import type { ReportFilter, YieldReport } from './yield-report.ts';

/** Failure messages listed in the text report (all of them are in JSON). */
const TEXT_MESSAGES = 15;
/** Failed boards listed in the text report (JSON and HTML carry failedBoardsLimit; CSV all boards). */
const TEXT_FAILED_BOARDS = 20;

// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f]/g;

export function printable(s: string): string {
  return s.replace(CONTROL_CHARS, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

export function describeFilter(f: ReportFilter, timeZone?: string): string {
  const parts: string[] = [];
  if (f.since) parts.push(`since ${instant(f.since, timeZone)}`);
  if (f.until) parts.push(`until ${instant(f.until, timeZone)}`);
  if (f.lots) parts.push(`lot ${f.lots.join(',')}`);
  if (f.stations) parts.push(`station ${f.stations.join(',')}`);
  if (f.profiles) parts.push(`profile ${f.profiles.join(',')}`);
  if (f.recipes) parts.push(`recipe ${f.recipes.join(',')}`);
  if (f.macs) parts.push(`mac ${f.macs.join(',')}`);
  if (f.serials) parts.push(`serial ${f.serials.join(',')}`);
  return parts.length > 0 ? parts.join(', ') : 'all records';
}

/** Bin width in words: `5-minute`, `hourly`, `2-hour`, `daily`. */
export function binWords(minutes: number): string {
  if (minutes === 60) return 'hourly';
  if (minutes === 1440) return 'daily';
  return minutes < 60 ? `${minutes}-minute` : `${minutes / 60}-hour`;
}

export function formatText(r: YieldReport): string {
  const t = r.totals;
  const tz = r.timeZone;
  const at = (iso: string) => instant(iso, tz);
  const out: string[] = [];
  out.push('esp-station yield report');
  out.push(
    `ledger:  ${printable(r.ledger.path)} (${r.ledger.files.length} file${r.ledger.files.length === 1 ? '' : 's'}, ` +
      `${r.ledger.records} records, ${r.ledger.problemCount} unreadable line${r.ledger.problemCount === 1 ? '' : 's'})`,
  );
  out.push(`filter:  ${printable(describeFilter(r.filter, tz))}`);
  out.push(
    r.window
      ? `window:  ${at(r.window.first)} to ${at(r.window.last)} (${decimal(r.window.hours, 2)} h; times in ${zoneName(tz, r.window.first)})`
      : 'window:  no matching attempts',
  );
  if (r.demo.attempts > 0) {
    out.push('');
    out.push(
      `!! DEMO FIRMWARE: ${r.demo.attempts} attempt${r.demo.attempts === 1 ? '' : 's'} flashed demo firmware ` +
        `(recipe ${r.demo.recipes.map(shortRecipe).join(', ')}) — these boards must not ship`,
    );
  }
  out.push('', 'Totals');
  const totals: Array<[string, string]> = [
    [
      'attempts',
      `${t.attempts} (passed ${t.attemptsPassed}, failed ${t.attemptsFailed}, without MAC ${t.attemptsWithoutMac})`,
    ],
    ['boards (unique MAC)', `${t.boards}`],
    ['boards passed', `${t.boardsPassed}`],
    ['boards failed', `${t.boardsFailed}`],
    ['first-pass yield', `${percent(t.firstPassYield)} (${t.boardsFirstPass} of ${t.boards})`],
    ['final yield', `${percent(t.finalYield)} (${t.boardsPassed} of ${t.boards})`],
    ['retests', `${t.retests} (on ${t.boardsRetested} boards)`],
    ['boards per hour', decimal(t.boardsPerHour)],
    [
      'cycle time',
      t.cycleTimeMs
        ? `p50 ${seconds(t.cycleTimeMs.p50)}, p90 ${seconds(t.cycleTimeMs.p90)}, max ${seconds(t.cycleTimeMs.max)}`
        : '—',
    ],
    ['passed after a retry', `${t.passedAfterRetry}`],
    ['passed at lower baud', `${t.passedAtLowerBaud}`],
  ];
  for (const [k, v] of totals) out.push(`  ${k.padEnd(20)} ${v}`);
  if (t.attemptsWithoutMac > 0) {
    out.push(
      '  (attempts without MAC never identified a board: they count as attempts and failures, not as boards)',
    );
  }

  out.push('', 'Failures by code');
  if (r.failures.byCode.length === 0) out.push('  none');
  else
    out.push(
      ...textTable(
        [
          { title: 'code' },
          { title: 'count', align: 'right' },
          { title: 'share', align: 'right' },
          { title: 'cumulative', align: 'right' },
        ],
        r.failures.byCode.map((p) => [
          printable(p.key),
          `${p.count}`,
          percent(p.share),
          percent(p.cumulative),
        ]),
      ),
    );
  if (r.failures.byTestStep.length > 0) {
    out.push('', 'Failures by AT test step');
    out.push(
      ...textTable(
        [{ title: 'step' }, { title: 'count', align: 'right' }, { title: 'share', align: 'right' }],
        r.failures.byTestStep.map((p) => [printable(p.key), `${p.count}`, percent(p.share)]),
      ),
    );
  }
  if (r.failures.byMessage.length > 0) {
    const shown = r.failures.byMessage.slice(0, TEXT_MESSAGES);
    out.push(
      '',
      `Failures by message (‹…› stands for a board's own detail)${r.failures.byMessage.length > shown.length ? ` (top ${shown.length} of ${r.failures.byMessage.length})` : ''}`,
    );
    out.push(
      ...textTable(
        [{ title: 'count', align: 'right' }, { title: 'share', align: 'right' }, { title: 'message' }],
        shown.map((p) => [`${p.count}`, percent(p.share), printable(p.key)]),
      ),
    );
    if (r.failures.untrackedMessages > 0) {
      out.push(`  (${r.failures.untrackedMessages} failures with further distinct messages not tracked)`);
    }
  }

  out.push('', 'Slots');
  out.push(
    ...textTable(
      [
        { title: 'station' },
        { title: 'slot' },
        { title: 'attempts', align: 'right' },
        { title: 'passed', align: 'right' },
        { title: 'failed', align: 'right' },
        { title: 'yield', align: 'right' },
        { title: 'after retry', align: 'right' },
        { title: 'lower baud', align: 'right' },
        { title: 'top failure' },
        { title: 'flag' },
      ],
      r.slots.map((s) => [
        printable(s.station),
        printable(s.slot),
        `${s.attempts}`,
        `${s.passed}`,
        `${s.failed}`,
        percent(s.yield),
        `${s.passedAfterRetry}`,
        `${s.passedAtLowerBaud}`,
        s.topFailure ?? '',
        s.verdict === 'low'
          ? `LOW: z=${decimal(s.z, 1)} vs ${percent(s.restYield)} on the other slots`
          : s.verdict === 'too-few'
            ? 'too few to judge'
            : '',
      ]),
    ),
  );
  out.push(
    `  (flagged LOW: at least ${OUTLIER_RULE.minAttempts} attempts, z ≤ ${OUTLIER_RULE.zLimit} against all other slots ` +
      `pooled, and at least ${OUTLIER_RULE.minGap * 100} points below them)`,
  );

  out.push(
    `  ("after retry": passes that needed a retry; "lower baud": passes below the station's fastest baud —`,
    '   both early signs of a bad cable, hub port or pogo pin)',
  );

  if (r.phases.length > 0) {
    out.push('', 'Time per phase');
    out.push(
      ...textTable(
        [
          { title: 'phase' },
          { title: 'attempts', align: 'right' },
          { title: 'p50', align: 'right' },
          { title: 'p90', align: 'right' },
          { title: 'max', align: 'right' },
        ],
        r.phases.map((p) => [
          printable(p.phase),
          `${p.attempts}`,
          seconds(p.p50Ms),
          seconds(p.p90Ms),
          seconds(p.maxMs),
        ]),
      ),
    );
  }

  const day = r.timeline.binMinutes >= 1440;
  out.push(
    '',
    `Over time (${binWords(r.timeline.binMinutes)}, by attempt end, ${r.window ? zoneName(tz, r.window.first) : tz})`,
  );
  out.push(
    ...textTable(
      [
        { title: day ? 'day' : 'from' },
        { title: 'attempts', align: 'right' },
        { title: 'passed', align: 'right' },
        { title: 'failed', align: 'right' },
        { title: 'yield', align: 'right' },
      ],
      r.timeline.rows.map((h) => [
        binLabel(h.start, tz, day),
        `${h.attempts}`,
        `${h.passed}`,
        `${h.failed}`,
        percent(h.yield),
      ]),
    ),
  );

  out.push('', 'Recipes (firmware fingerprints)');
  out.push(
    ...textTable(
      [
        { title: 'recipe' },
        { title: 'profiles' },
        { title: 'attempts', align: 'right' },
        { title: 'yield', align: 'right' },
        { title: 'boards', align: 'right' },
        { title: 'first-pass', align: 'right' },
        { title: 'first seen' },
        { title: 'last seen' },
        { title: '' },
      ],
      r.recipes.map((x) => [
        shortRecipe(printable(x.key)),
        printable(x.profiles.join(',')),
        `${x.attempts}`,
        percent(x.yield),
        `${x.boards}`,
        percent(x.firstPassYield),
        at(x.first),
        at(x.last),
        x.demoFirmware ? 'DEMO FIRMWARE' : '',
      ]),
    ),
  );

  for (const [title, rows] of [
    ['Lots', r.lots],
    ['Stations', r.stations],
    ['Operators', r.operators],
  ] as const) {
    out.push('', title);
    out.push(
      ...textTable(
        [
          { title: title === 'Lots' ? 'lot' : title === 'Stations' ? 'station' : 'operator' },
          { title: 'attempts', align: 'right' },
          { title: 'passed', align: 'right' },
          { title: 'failed', align: 'right' },
          { title: 'yield', align: 'right' },
        ],
        rows.map((g) => [
          printable(g.key || '(none)'),
          `${g.attempts}`,
          `${g.passed}`,
          `${g.failed}`,
          percent(g.yield),
        ]),
      ),
    );
  }

  if (r.failedBoards.length > 0) {
    out.push(
      '',
      `Boards whose latest attempt failed (${t.boardsFailed}${t.boardsFailed > Math.min(TEXT_FAILED_BOARDS, r.failedBoards.length) ? `, latest ${Math.min(TEXT_FAILED_BOARDS, r.failedBoards.length)} shown` : ''})`,
    );
    out.push(
      ...textTable(
        [
          { title: 'MAC' },
          { title: 'attempts', align: 'right' },
          { title: 'last' },
          { title: 'station' },
          { title: 'slot' },
          { title: 'code' },
          { title: 'message' },
        ],
        r.failedBoards
          .slice(0, TEXT_FAILED_BOARDS)
          .map((b) => [
            printable(b.mac),
            `${b.attempts}`,
            at(b.last),
            printable(b.station),
            printable(b.slot),
            b.code,
            printable(b.message),
          ]),
      ),
    );
  }

  if (r.ledger.problemCount > 0) {
    out.push(
      '',
      `Unreadable ledger lines (${r.ledger.problemCount}; skipped, the rest of the ledger is counted)`,
    );
    for (const p of r.ledger.problems) out.push(`  ${printable(formatLedgerProblem(p))}`);
    if (r.ledger.problemCount > r.ledger.problems.length) {
      out.push(`  … and ${r.ledger.problemCount - r.ledger.problems.length} more`);
    }
  }
  return `${out.join('\n')}\n`;
}
