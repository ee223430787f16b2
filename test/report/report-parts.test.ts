import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CycleTimeHistogram } from '../../src/report/cycle-time-histogram.ts';
import { judgeSlots, OUTLIER_RULE } from '../../src/report/slot-outliers.ts';
import { parseTimeArgument } from '../../src/report/time-argument.ts';
import { csvCell } from '../../src/report/format-csv.ts';
import { esc } from '../../src/report/html-escape.ts';
import { formatText, printable } from '../../src/report/format-text.ts';
import { formatHtml } from '../../src/report/format-html.ts';
import { MAX_TRACKED_MESSAGES, YieldAggregator } from '../../src/report/yield-aggregator.ts';
import { makeRecord, mac } from '../ledger/record-builder.ts';
import type { LedgerRecord } from '../../src/ledger/record.ts';

const meta = {
  timeZone: 'UTC',
  generatedAt: '2026-11-23T12:00:00.000Z',
  ledger: { path: 'x', files: [], records: 0, problemCount: 0, problems: [] },
  filter: {},
};

test('cycle-time percentiles are nearest-rank and exact to 3 significant digits', () => {
  const h = new CycleTimeHistogram();
  assert.equal(h.percentile(50), undefined);
  for (const v of [5000, 1000, 4000, 2000, 3000]) h.add(v);
  assert.equal(h.percentile(50), 3000);
  assert.equal(h.percentile(90), 5000);
  assert.equal(h.percentile(20), 1000);
  assert.equal(h.percentile(21), 2000);
  assert.equal(h.max, 5000);
  const fine = new CycleTimeHistogram();
  fine.add(12_345);
  assert.equal(fine.percentile(50), 12_300);
  assert.equal(fine.max, 12_345);
});

test('slot outliers: a clearly worse slot with enough attempts is flagged; small samples and small gaps are not', () => {
  const good = { attempts: 100, passed: 95 };
  const verdicts = judgeSlots([
    good,
    good,
    good,
    good,
    good,
    { attempts: 100, passed: 60 },
    { attempts: 19, passed: 0 },
  ]);
  assert.deepEqual(
    verdicts.map((v) => v.verdict),
    ['ok', 'ok', 'ok', 'ok', 'ok', 'low', 'too-few'],
  );
  // By hand: rest = 475/500 = 0.95, pooled = 535/600, se = sqrt(p(1-p)(1/100+1/500)) ≈ 0.034046 → z ≈ -10.28.
  // (the 19-attempt slot is in the rest too: rest = 475/519, pooled = 535/619)
  const rest = 475 / 519;
  const pooled = 535 / 619;
  const z = (0.6 - rest) / Math.sqrt(pooled * (1 - pooled) * (1 / 100 + 1 / 519));
  assert.ok(Math.abs((verdicts[5].z as number) - z) < 1e-9);
  assert.ok(Math.abs((verdicts[5].restYield as number) - rest) < 1e-12);

  // Huge samples make a 2-point gap "significant", but it is below the practical minimum gap.
  const big = judgeSlots([
    { attempts: 100_000, passed: 97_000 },
    { attempts: 100_000, passed: 99_000 },
  ]);
  assert.ok((big[0].z as number) < OUTLIER_RULE.zLimit);
  assert.equal(big[0].verdict, 'ok');
  // Everything passes: nothing to flag, no division by zero.
  assert.deepEqual(
    judgeSlots([
      { attempts: 50, passed: 50 },
      { attempts: 50, passed: 50 },
    ]).map((v) => [v.verdict, v.z]),
    [
      ['ok', 0],
      ['ok', 0],
    ],
  );
});

test('time arguments: dates, date-times (UTC unless an offset is given) and durations back from now', () => {
  const now = new Date('2026-11-23T12:00:00Z');
  assert.equal(parseTimeArgument('2026-11-23', now), '2026-11-23T00:00:00.000Z');
  assert.equal(parseTimeArgument('2026-11-23T14:00', now), '2026-11-23T14:00:00.000Z');
  assert.equal(parseTimeArgument('2026-11-23 14:00:30', now), '2026-11-23T14:00:30.000Z');
  assert.equal(parseTimeArgument('2026-11-23T14:00+01:00', now), '2026-11-23T13:00:00.000Z');
  assert.equal(parseTimeArgument('90m', now), '2026-11-23T10:30:00.000Z');
  assert.equal(parseTimeArgument('12h', now), '2026-11-23T00:00:00.000Z');
  assert.equal(parseTimeArgument('7d', now), '2026-11-16T12:00:00.000Z');
  for (const bad of ['yesterday', '2026-13-45', '12', '2026/11/23', ''])
    assert.equal(parseTimeArgument(bad, now), undefined, bad);
});

test('csv cells: quoting, doubled quotes, formula guard; numbers plain', () => {
  assert.equal(csvCell('plain'), 'plain');
  assert.equal(csvCell('a,b'), '"a,b"');
  assert.equal(csvCell('say "hi"'), '"say ""hi"""');
  assert.equal(csvCell('two\nlines'), '"two\nlines"');
  assert.equal(csvCell('=HYPERLINK("http://x")'), `"'=HYPERLINK(""http://x"")"`);
  assert.equal(csvCell('@SUM(A1)'), "'@SUM(A1)");
  assert.equal(csvCell('-1+2'), "'-1+2");
  assert.equal(csvCell(0.8333333333), '0.833333');
  assert.equal(csvCell(12), '12');
  assert.equal(csvCell(null), '');
  assert.equal(csvCell(true), 'true');
});

test('escaping for HTML and for the terminal', () => {
  assert.equal(esc(`<a href="x">'&'</a>`), '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  assert.equal(esc('bell\u0007'), 'bell\ufffd');
  assert.equal(printable('red \u001b[31m text\r\n'), 'red \\u001b[31m text\\u000d\\u000a');
});

test('aggregation does not depend on record order: first attempt = earliest start, final = latest end', () => {
  const t0 = Date.UTC(2026, 10, 23, 8);
  const recs: LedgerRecord[] = [
    makeRecord({ mac: mac(1), startMs: t0, result: 'fail', code: 'timeout', recipe: 'r1' }),
    makeRecord({ mac: mac(1), startMs: t0 + 60_000, result: 'pass', recipe: 'r2', lot: 'L2', slot: 'S9' }),
    makeRecord({ mac: mac(2), startMs: t0 + 30_000, result: 'pass' }),
  ];
  const forward = new YieldAggregator();
  const backward = new YieldAggregator();
  for (const r of recs) forward.add(r);
  for (const r of [...recs].reverse()) backward.add(r);
  const rows = (a: YieldAggregator) => [...a.boardRows()].sort((x, y) => (x.mac < y.mac ? -1 : 1));
  assert.deepEqual(rows(forward), rows(backward));
  const b1 = rows(forward)[0];
  assert.deepEqual([b1.result, b1.attempts, b1.recipe, b1.lot, b1.slot], ['pass', 2, 'r2', 'L2', 'S9']);
  const f = forward.report(meta).totals;
  const b = backward.report(meta).totals;
  assert.deepEqual(f, b);
  assert.deepEqual([f.boardsFirstPass, f.boardsPassed, f.retests], [1, 2, 1]);
  // MACs are one board whatever their case.
  const mixed = new YieldAggregator();
  mixed.add(makeRecord({ mac: 'aa:bb:cc:dd:ee:ff' }));
  mixed.add(makeRecord({ mac: 'AA:BB:CC:DD:EE:FF' }));
  assert.equal(mixed.report(meta).totals.boards, 1);
});

test('distinct failure messages are tracked up to a limit; the rest are counted, shares stay over all failures', () => {
  const a = new YieldAggregator();
  const n = MAX_TRACKED_MESSAGES + 10;
  for (let i = 0; i < n; i++)
    a.add(makeRecord({ mac: mac(i), result: 'fail', code: 'internal', message: `m${i}` }));
  const r = a.report(meta);
  assert.equal(r.failures.byMessage.length, MAX_TRACKED_MESSAGES);
  assert.equal(r.failures.untrackedMessages, 10);
  assert.ok(Math.abs(r.failures.byMessage.at(-1)!.cumulative - MAX_TRACKED_MESSAGES / n) < 1e-12);
  assert.deepEqual(
    r.failures.byCode.map((p) => [p.key, p.count, p.share]),
    [['internal', n, 1]],
  );
});

test('hourly rows include the empty hours between busy ones', () => {
  const a = new YieldAggregator();
  a.add(makeRecord({ startMs: Date.UTC(2026, 10, 23, 8, 10), durationMs: 1000 }));
  a.add(
    makeRecord({
      startMs: Date.UTC(2026, 10, 23, 11, 10),
      durationMs: 1000,
      result: 'fail',
      code: 'timeout',
    }),
  );
  assert.deepEqual(
    a.report(meta).hourly.map((h) => [h.hour.slice(11, 13), h.attempts, h.yield]),
    [
      ['08', 1, 1],
      ['09', 0, null],
      ['10', 0, null],
      ['11', 1, 0],
    ],
  );
});

test('an empty lot is shown as (none) in text and HTML, and stays empty in CSV/JSON', () => {
  const a = new YieldAggregator();
  a.add(makeRecord({ lot: '' }));
  const r = a.report(meta);
  assert.deepEqual(
    r.lots.map((g) => g.key),
    [''],
  );
  assert.match(formatText(r), /\n {2}\(none\) +1 +1 +0 +100\.0 %\n/);
  assert.match(formatHtml(r), /<td><span class="t">\(none\)<\/span><\/td><td class="n">1<\/td>/);
});

test('the text report lists bins that fit the window: days for a long span, empty ones included', () => {
  const a = new YieldAggregator();
  a.add(makeRecord({ startMs: Date.UTC(2026, 10, 20, 8), durationMs: 1000 }));
  a.add(
    makeRecord({ startMs: Date.UTC(2026, 10, 20, 9), durationMs: 1000, result: 'fail', code: 'timeout' }),
  );
  a.add(makeRecord({ startMs: Date.UTC(2026, 10, 24, 8), durationMs: 1000 }));
  const text = formatText(a.report(meta));
  assert.match(text, /Over time \(3-hour, by attempt end, UTC\)\n +from +attempts +passed +failed +yield\n/);
  assert.match(
    text,
    /\n {2}2026-11-20 06:00 +1 +1 +0 +100\.0 %\n {2}2026-11-20 09:00 +1 +0 +1 +0\.0 %\n {2}2026-11-20 12:00 +0 +0 +0 +— *\n/,
  );
  assert.match(text, /\n {2}2026-11-24 06:00 +1 +1 +0 +100\.0 %\n/);
  // A month: day bins.
  a.add(makeRecord({ startMs: Date.UTC(2026, 11, 20, 8), durationMs: 1000 }));
  const long = formatText(a.report(meta));
  assert.match(long, /Over time \(daily, by attempt end, UTC\)\n +day +attempts/);
  assert.match(long, /\n {2}2026-11-20 +2 +1 +1 +50\.0 %\n {2}2026-11-21 +0 +0 +0 +— *\n/);
});

test('bins fit the window: 5 minutes for a short run; they start on local boundaries of the report zone', () => {
  const a = new YieldAggregator();
  for (let m = 0; m < 40; m += 7)
    a.add(makeRecord({ startMs: Date.UTC(2026, 10, 23, 8, m), durationMs: 30_000 }));
  const utc = a.report(meta).timeline;
  assert.equal(utc.binMinutes, 5);
  assert.deepEqual(
    utc.rows.map((r) => [r.start.slice(11, 16), r.attempts]),
    [
      ['08:00', 1],
      ['08:05', 1],
      ['08:10', 1],
      ['08:15', 0],
      ['08:20', 1],
      ['08:25', 1],
      ['08:30', 0],
      ['08:35', 1],
    ],
  );
  // 30 hours in India (UTC+05:30): hourly bins, starting on the local hour (half past in UTC).
  const b = new YieldAggregator();
  for (let h = 0; h < 30; h++)
    b.add(makeRecord({ startMs: Date.UTC(2026, 10, 23, 0, 0) + h * 3_600_000, durationMs: 1000 }));
  const kolkata = b.report({ ...meta, timeZone: 'Asia/Kolkata' });
  assert.equal(kolkata.timeline.binMinutes, 60);
  assert.equal(
    kolkata.timeline.rows[0]!.start,
    '2026-11-22T23:30:00.000Z',
    'the local hour 05:00 starts at 23:30 UTC',
  );
  const text = formatText(kolkata);
  assert.match(text, /window: +2026-11-23 05:30:00\+05:30 to /);
  assert.match(text, /Over time \(hourly, by attempt end, Asia\/Kolkata \(UTC\+05:30\)\)/);
  assert.match(text, /\n {2}2026-11-23 05:00 +1 +1 +0 +100\.0 %\n/);
});
