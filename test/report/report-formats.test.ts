import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RECIPE_A, RECIPE_B } from '../ledger/record-builder.ts';
import { EXPECTED, MAC, writeKnownLedger } from './known-ledger.ts';
import { parseCsv, runReport } from './run-report.ts';
import type { YieldReport } from '../../src/report/yield-report.ts';

let dir: string;
let ledger: string;
let out: string;
let problems: { torn: string; corrupt: string };

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'report-formats-'));
  ledger = join(dir, 'ledger');
  out = join(dir, 'out');
  const { mkdir } = await import('node:fs/promises');
  await mkdir(out);
  problems = await writeKnownLedger(ledger);
});
after(() => rm(dir, { recursive: true, force: true }));

const near = (a: number | null, b: number, what: string) =>
  assert.ok(a !== null && Math.abs(a - b) < 1e-9, `${what}: ${a} != ${b}`);

test('json: every figure of the known ledger', async (t) => {
  const errors = t.mock.method(console, 'error', () => {});
  const { code, output } = await runReport(out, ['--ledger', ledger, '--format', 'json']);
  assert.equal(code, 0);
  const r = JSON.parse(output) as YieldReport;
  const x = r.totals;
  assert.equal(r.schema, 'esp-station.yield-report/1');
  assert.equal(r.ledger.records, 10);
  assert.equal(r.ledger.files.length, 3);
  assert.equal(r.ledger.problemCount, 2);
  assert.deepEqual(
    r.ledger.problems.map((p) => `${p.file}:${p.line}:${p.kind}`).sort(),
    [`${problems.corrupt}:corrupt`, `${problems.torn}:torn`].sort(),
  );
  assert.match(errors.mock.calls[0].arguments[0] as string, /2 unreadable ledger line\(s\) skipped/);
  assert.match(errors.mock.calls[1].arguments[0] as string, /1 attempt\(s\) flashed DEMO FIRMWARE/);

  for (const k of [
    'attempts',
    'attemptsPassed',
    'attemptsFailed',
    'attemptsWithoutMac',
    'boards',
    'boardsPassed',
    'boardsFailed',
    'boardsFirstPass',
    'retests',
    'boardsRetested',
  ] as const) {
    assert.equal(x[k], EXPECTED[k], k);
  }
  near(x.firstPassYield, EXPECTED.firstPassYield, 'firstPassYield');
  near(x.finalYield, EXPECTED.finalYield, 'finalYield');
  near(x.boardsPerHour, EXPECTED.boardsPerHour, 'boardsPerHour');
  near(r.window?.hours ?? null, EXPECTED.windowHours, 'window hours');
  assert.deepEqual(x.cycleTimeMs, EXPECTED.cycle);
  assert.deepEqual(r.window && [r.window.first, r.window.last], [
    '2026-11-23T08:00:00.000Z',
    '2026-11-23T10:00:12.000Z',
  ]);

  const pareto = (rows: YieldReport['failures']['byCode']) =>
    rows.map((p) => [p.key, p.count, p.share, p.cumulative]);
  assert.deepEqual(pareto(r.failures.byCode), EXPECTED.byCode);
  assert.deepEqual(pareto(r.failures.byMessage), EXPECTED.byMessage);
  assert.deepEqual(
    r.slots.map((s) => [s.station, s.slot, s.attempts, s.passed]),
    EXPECTED.slots,
  );
  assert.deepEqual(
    r.slots.map((s) => [s.verdict, s.topFailure]),
    [
      ['too-few', 'verify-mismatch'],
      ['too-few', 'no-sync'],
      ['too-few', 'timeout'],
    ],
  );
  assert.deepEqual(
    r.hourly.map((h) => [h.hour, h.attempts, h.passed]),
    EXPECTED.hourly,
  );
  assert.deepEqual(
    r.recipes.map((c) => [c.key, c.attempts, c.passed, c.boards, c.boardsFirstPass, c.demoFirmware]),
    EXPECTED.recipes,
  );
  assert.deepEqual(
    r.recipes.map((c) => c.profiles),
    [['at-esp32'], ['at-esp32c3']],
  );
  assert.deepEqual(
    r.lots.map((g) => [g.key, g.attempts, g.passed]),
    EXPECTED.lots,
  );
  assert.deepEqual(
    r.stations.map((g) => [g.key, g.attempts, g.passed]),
    EXPECTED.stations,
  );
  assert.deepEqual(
    r.operators.map((g) => [g.key, g.attempts, g.passed]),
    EXPECTED.operators,
  );
  assert.deepEqual(r.demo, { attempts: 1, recipes: [RECIPE_B] });
  assert.deepEqual(
    r.failedBoards.map((b) => [b.mac, b.attempts, b.last, b.code]),
    [[MAC.M3, 2, '2026-11-23T09:05:30.000Z', 'verify-mismatch']],
  );
});

test('csv: the board list has one row per board with every column', async () => {
  const { output } = await runReport(out, ['--ledger', ledger, '--format', 'csv']);
  const rows = parseCsv(output);
  assert.deepEqual(rows[0], [
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
  const expected = EXPECTED.boardList.map((b) => b.map((c) => String(c)));
  assert.deepEqual(
    rows.slice(1).sort((a, b) => (a[0] < b[0] ? -1 : 1)),
    expected,
  );
});

test('csv: every other table carries the same figures', async () => {
  const table = async (name: string) =>
    parseCsv((await runReport(out, ['--ledger', ledger, '--format', 'csv', '--table', name])).output);
  const totals = Object.fromEntries((await table('totals')).slice(1));
  assert.equal(totals.attempts, '10');
  assert.equal(totals.attempts_passed, '5');
  assert.equal(totals.attempts_failed, '5');
  assert.equal(totals.attempts_without_mac, '1');
  assert.equal(totals.boards, '6');
  assert.equal(totals.boards_passed, '5');
  assert.equal(totals.boards_failed, '1');
  assert.equal(totals.boards_first_pass, '3');
  assert.equal(totals.first_pass_yield, '0.5');
  assert.equal(totals.final_yield, '0.833333');
  assert.equal(totals.retests, '3');
  assert.equal(totals.boards_retested, '3');
  assert.equal(totals.boards_per_hour, String(Number(EXPECTED.boardsPerHour.toFixed(6))));
  assert.equal(totals.cycle_time_p50_ms, '14000');
  assert.equal(totals.cycle_time_p90_ms, '30000');
  assert.equal(totals.cycle_time_max_ms, '40000');
  assert.equal(totals.demo_firmware_attempts, '1');
  assert.equal(totals.unreadable_lines, '2');

  const num = (rows: string[][]) =>
    rows.slice(1).map((r) => r.map((c) => (/^[\d.]+$/.test(c) ? Number(c) : c)));
  assert.deepEqual(num(await table('failures')), EXPECTED.byCode);
  assert.deepEqual(num(await table('messages')), EXPECTED.byMessage);
  assert.deepEqual(
    num(await table('slots')).map((r) => r.slice(0, 4)),
    EXPECTED.slots,
  );
  assert.deepEqual(
    num(await table('hourly')).map((r) => r.slice(0, 3)),
    EXPECTED.hourly,
  );
  assert.deepEqual(
    num(await table('recipes')).map((r) => [r[0], r[3], r[4], r[7], r[8], r[2] === 'true']),
    EXPECTED.recipes,
  );
  assert.deepEqual(
    num(await table('lots')).map((r) => r.slice(0, 3)),
    EXPECTED.lots,
  );
  assert.deepEqual(
    num(await table('stations')).map((r) => r.slice(0, 3)),
    EXPECTED.stations,
  );
  assert.deepEqual(
    num(await table('operators')).map((r) => r.slice(0, 3)),
    EXPECTED.operators,
  );
});

test('text: every figure appears, with the demo warning and the unreadable lines located', async (t) => {
  t.mock.method(console, 'error', () => {});
  const { output } = await runReport(out, ['--ledger', ledger, '--tz', 'UTC']);
  const has = (re: RegExp) => assert.match(output, re);
  has(/ledger: .* \(3 files, 10 records, 2 unreadable lines\)/);
  has(/window: +2026-11-23 08:00:00Z to 2026-11-23 10:00:12Z \(2\.00 h; times in UTC\)/);
  has(/!! DEMO FIRMWARE: 1 attempt flashed demo firmware \(recipe bbbbbbbbbbbb\)/);
  has(/attempts +10 \(passed 5, failed 5, without MAC 1\)/);
  has(/boards \(unique MAC\) +6\n/);
  has(/boards passed +5\n/);
  has(/boards failed +1\n/);
  has(/first-pass yield +50\.0 % \(3 of 6\)/);
  has(/final yield +83\.3 % \(5 of 6\)/);
  has(/retests +3 \(on 3 boards\)/);
  has(/boards per hour +3\.0\n/);
  has(/cycle time +p50 14\.0 s, p90 30\.0 s, max 40\.0 s/);
  has(/verify-mismatch +2 +40\.0 % +40\.0 %/);
  has(/write-error +1 +20\.0 % +100\.0 %/);
  has(/ 2 +40\.0 % +MD5 mismatch/);
  has(/st1 +A1 +3 +1 +2 +33\.3 % +0 +0 +verify-mismatch +too few to judge/);
  has(/st2 +B1 +4 +3 +1 +75\.0 % +0 +0 +timeout/);
  // A two-hour window: 5-minute bins, the empty ones listed.
  has(/Over time \(5-minute, by attempt end, UTC\)/);
  has(/2026-11-23 09:05 +1 +0 +1 +0\.0 %\n +2026-11-23 09:10 +1 +1 +0 +100\.0 %/);
  has(/2026-11-23 08:15 +0 +0 +0 +—/);
  has(/2026-11-23 10:00 +1 +1 +0 +100\.0 %/);
  has(new RegExp(`${RECIPE_A.slice(0, 12)} +at-esp32 +6 +33\\.3 % +3 +33\\.3 %`));
  has(new RegExp(`${RECIPE_B.slice(0, 12)} +at-esp32c3 +4 +75\\.0 % +3 +66\\.7 % .* DEMO FIRMWARE`));
  has(/LOT-2 +4 +3 +1 +75\.0 %/);
  has(/st1 +6 +2 +4 +33\.3 %/);
  has(
    /Operators\n +operator +attempts +passed +failed +yield\n +ann +6 +2 +4 +33\.3 %\n +bob +4 +3 +1 +75\.0 %\n/,
  );
  has(new RegExp(`${MAC.M3} +2 +2026-11-23 09:05:30Z +st1 +A1 +verify-mismatch +MD5 mismatch`));
  assert.ok(output.includes(`${problems.torn}: torn line: incomplete record`), output);
  assert.ok(output.includes(`${problems.corrupt}: corrupt line: not JSON`), output);
});

test('filters: lot, station, profile and a time window change the figures accordingly', async () => {
  const json = async (...args: string[]) =>
    JSON.parse(
      (await runReport(out, ['--ledger', ledger, '--format', 'json', ...args])).output,
    ) as YieldReport;
  const lot2 = await json('--lot', 'LOT-2');
  assert.deepEqual(
    [
      lot2.totals.attempts,
      lot2.totals.boards,
      lot2.totals.boardsFirstPass,
      lot2.totals.boardsPassed,
      lot2.totals.retests,
    ],
    [4, 3, 2, 3, 1],
  );
  assert.deepEqual(lot2.filter, { lots: ['LOT-2'] });
  const st1 = await json('--station', 'st1');
  assert.deepEqual(
    [
      st1.totals.attempts,
      st1.totals.boards,
      st1.totals.attemptsWithoutMac,
      st1.totals.boardsFirstPass,
      st1.totals.boardsPassed,
    ],
    [6, 3, 1, 1, 2],
  );
  const both = await json('--station', 'st1,st2', '--profile', 'at-esp32c3');
  assert.equal(both.totals.attempts, 4);
  // Hour 09: M3's retest (fails), M4, M5, the unidentified board, M6's first attempt.
  const nine = await json('--since', '2026-11-23T09:00', '--until', '2026-11-23T10:00:00Z');
  assert.deepEqual(
    [
      nine.totals.attempts,
      nine.totals.boards,
      nine.totals.boardsFirstPass,
      nine.totals.boardsPassed,
      nine.totals.boardsFailed,
    ],
    [5, 4, 2, 2, 2],
  );
  assert.deepEqual(nine.filter, { since: '2026-11-23T09:00:00.000Z', until: '2026-11-23T10:00:00.000Z' });
  const none = await json('--lot', 'nope');
  assert.equal(none.totals.attempts, 0);
  assert.equal(none.window, null);
  assert.equal(none.totals.firstPassYield, null);
  assert.equal(none.totals.cycleTimeMs, null);
});
