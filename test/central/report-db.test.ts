/**
 * `report --db` and `report --ledger` over the same records give the same figures: thousands of generated
 * attempts from four stations (retests across stations, every failure code, more distinct messages than the
 * report tracks, boards that never identified, demo firmware, a same-millisecond tie), shipped with
 * `ledger ship`, then every filter, every CSV table, the text and the JSON compared.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildDbReport } from '../../src/cli/db-report.ts';
import { buildReport } from '../../src/report/build-report.ts';
import { CSV_TABLES, formatCsv } from '../../src/report/format-csv.ts';
import { formatText } from '../../src/report/format-text.ts';
import type { ReportFilter, YieldReport } from '../../src/report/yield-report.ts';
import type { YieldAggregator } from '../../src/report/yield-aggregator.ts';
import { usePostgres } from '../support/postgres-server.ts';
import { sql, targetOf, tempDir } from './central-fixtures.ts';
import { FLOOR_RECIPES, generateFloor, writeFloor } from './generated-floor.ts';
import type { Floor } from './generated-floor.ts';

const REPO = resolve(import.meta.dirname, '../..');
const NOW = new Date('2026-12-01T00:00:00Z');

function cli(args: string[]) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((done) => {
    const p = spawn(process.execPath, [join(REPO, 'bin/esp-station.mjs'), ...args], { cwd: REPO });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    p.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    p.on('close', (code) => done({ code, stdout, stderr }));
  });
}

/** The report without what names its source (path, files, unreadable lines of a ledger). */
function figures(r: YieldReport): Record<string, unknown> {
  const { ledger, generatedAt: _g, ...rest } = r;
  return { ...rest, records: ledger.records };
}

describe('report --db equals report --ledger', () => {
  const server = usePostgres({ before, after });
  let floor: Floor;
  let dir: string;
  let url: string;

  before(async () => {
    floor = generateFloor(2_400, 7);
    dir = await tempDir('central-report-');
    await writeFloor(dir, floor);
    url = await server().createDatabase('report');
    const shipped = await cli(['ledger', 'ship', '--to', url, '--ledger', dir]);
    assert.equal(shipped.code, 0, shipped.stderr);
    assert.match(
      shipped.stdout,
      new RegExp(`${floor.all.length} record\\(s\\) from \\d+ file\\(s\\): ${floor.all.length} added`),
    );
    assert.match(shipped.stderr, /skipped .*line-1-2026-11-23\.jsonl:\d+: corrupt line/);
  });

  it('the floor is what the test means it to be', async () => {
    const records = floor.all;
    assert.ok(records.length > 2_500, `${records.length} records`);
    assert.equal(new Set(records.map((r) => r.station)).size, 4);
    assert.ok(records.filter((r) => r.attempt > 1).length > 300, 'retests');
    assert.ok(
      records.some((r) => r.mac === undefined),
      'boards that never identified',
    );
    assert.ok(
      new Set(records.filter((r) => r.message).map((r) => r.message)).size > 1_000,
      'untracked messages',
    );
    const [{ n }] = await sql<{ n: string }>(url, 'SELECT count(*) AS n FROM esp_station.records');
    assert.equal(Number(n), records.length);
  });

  it('shipping the ledger again adds nothing', async () => {
    const again = await cli(['ledger', 'ship', '--to', url, '--ledger', dir]);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /: 0 added, \d+ already there/);
  });

  const filters: Array<[string, (f: Floor) => ReportFilter]> = [
    ['everything', () => ({})],
    ['one lot', () => ({ lots: ['LOT-2'] })],
    ['two stations', () => ({ stations: ['line-2', 'rework'] })],
    ['a time window', () => ({ since: '2026-11-24T03:00:00.000Z', until: '2026-11-25T17:30:00.000Z' })],
    ['a recipe by its short fingerprint', () => ({ recipes: [FLOOR_RECIPES[1].slice(0, 12)] })],
    ['a profile', () => ({ profiles: ['at-esp32c3'] })],
    [
      'three boards',
      (f) => ({
        macs: f.all
          .filter((r) => r.attempt > 2)
          .slice(0, 3)
          .map((r) => r.mac as string),
      }),
    ],
    ['a serial no record carries', () => ({ serials: ['SN-0001'] })],
    ['a real serial of a retested board', (f) => ({ serials: [retestedSerial(f)] })],
    ['a serial and a MAC', (f) => ({ serials: [retestedSerial(f)], macs: [f.all[0].mac as string] })],
  ];
  for (const [name, make] of filters) {
    it(`same figures, text and CSV tables: ${name}`, async () => {
      const filter = make(floor);
      const fromLedger = await buildReport({ ledger: dir, filter, now: NOW, workers: 1 });
      const fromDb = await buildDbReport({ target: targetOf(url), filter, now: NOW });
      assert.deepEqual(figures(fromDb.report), figures(fromLedger.report));
      // The text minus its source line and the ledger's unreadable lines (the database never saw those).
      const body = (r: YieldReport) =>
        formatText(r)
          .split('\n')
          .slice(2)
          .join('\n')
          .replace(/\n\nUnreadable ledger lines[^]*$/, '\n');
      assert.equal(body(fromDb.report), body(fromLedger.report));
      // The database never saw the ledger's unreadable line.
      const csv = (t: (typeof CSV_TABLES)[number], b: { report: YieldReport; aggregator: YieldAggregator }) =>
        [...formatCsv(t, b.report, b.aggregator)].join('').replace(/^unreadable_lines,\d+\n/m, '');
      for (const table of CSV_TABLES) {
        assert.equal(csv(table, fromDb), csv(table, fromLedger), `csv table ${table}`);
      }
      if (name === 'everything') {
        assert.ok(fromDb.report.failures.untrackedMessages > 0, 'the message limit was reached');
        assert.ok(fromDb.report.totals.retests > 300);
      }
    });
  }

  it('the board history of a real serial and of a MAC is the same from the database', async () => {
    const serial = retestedSerial(floor);
    const board = floor.all.find((r) => r.identity?.serial === serial)!.mac as string;
    for (const ask of [
      ['--serial', serial],
      ['--mac', board.toLowerCase()],
    ]) {
      const ledger = await cli(['report', '--ledger', dir, '--format', 'json', ...ask]);
      const db = await cli(['report', '--db', url, '--format', 'json', ...ask]);
      assert.equal(ledger.code, 0, ledger.stderr);
      assert.equal(db.code, 0, db.stderr);
      const a = JSON.parse(ledger.stdout) as YieldReport & {
        boards: Array<{ mac: string; serial?: string; attempts: unknown[] }>;
      };
      const b = JSON.parse(db.stdout) as typeof a;
      assert.equal(a.boards.length, 1);
      assert.equal(a.boards[0].mac, board);
      assert.equal(a.boards[0].serial, serial);
      assert.ok(a.boards[0].attempts.length > 1, 'a retested board');
      assert.deepEqual(b.boards, a.boards);
      assert.deepEqual({ ...figures(b), filter: null }, { ...figures(a), filter: null });
      // The text form: the same history lines before the figures.
      const text = async (source: string[]) =>
        (await cli(['report', ...source, ...ask])).stdout.split('\n\n')[0];
      assert.equal(await text(['--db', url]), await text(['--ledger', dir]));
    }
  });

  it('the CLI gives the same JSON figures, plus the stations compared', async () => {
    const ledger = await cli(['report', '--ledger', dir, '--format', 'json', '--lot', 'LOT-3']);
    const db = await cli(['report', '--db', url, '--format', 'json', '--lot', 'LOT-3']);
    assert.equal(ledger.code, 0, ledger.stderr);
    assert.equal(db.code, 0, db.stderr);
    const a = JSON.parse(ledger.stdout) as YieldReport;
    const { stationsCompared, ...b } = JSON.parse(db.stdout) as YieldReport & {
      stationsCompared: Array<{ station: string; attempts: number; boardsFirstTried: number }>;
    };
    assert.deepEqual({ ...figures(b), filter: null }, { ...figures(a), filter: null });
    assert.deepEqual(
      stationsCompared.map((s) => [s.station, s.attempts]),
      a.stations.map((s) => [s.key, s.attempts]),
    );
    // Every board is first tried at exactly one station.
    assert.equal(
      stationsCompared.reduce((n, s) => n + s.boardsFirstTried, 0),
      a.totals.boards,
    );
    const text = await cli(['report', '--db', url, '--station', 'rework']);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /Stations compared \(from the central database\)\n\s+station\s+attempts/);
    assert.match(text.stdout, /\n\s+rework\s+\d+\s+\d+\.\d %.*\(backfilled\)/);
    const csv = await cli(['report', '--db', url, '--format', 'csv', '--table', 'stations-compared']);
    assert.equal(csv.code, 0, csv.stderr);
    assert.equal(csv.stdout.trim().split('\n').length, 5);
  });

  it('bad --db arguments are input errors; an unreachable database is a clear exit 1', async () => {
    const both = await cli(['report', '--db', url, '--ledger', dir]);
    assert.equal(both.code, 2);
    assert.match(both.stderr, /--db: give --ledger or --db, not both/);
    const pw = await cli(['report', '--db', url.replace('postgres@', 'postgres:secret@')]);
    assert.equal(pw.code, 2);
    assert.match(pw.stderr, /--db: the URL carries a password/);
    const badMac = await cli(['report', '--ledger', dir, '--mac', 'nope']);
    assert.equal(badMac.code, 2);
    assert.match(badMac.stderr, /--mac: 'nope' is not a MAC/);
    const table = await cli(['report', '--ledger', dir, '--format', 'csv', '--table', 'stations-compared']);
    assert.equal(table.code, 2);
    assert.match(table.stderr, /stations-compared needs --db/);
    const down = await cli(['report', '--db', url.replace(/:\d+\//, ':1/')]);
    assert.equal(down.code, 1);
    assert.match(
      down.stderr,
      /esp-station report: postgres:\/\/postgres@127\.0\.0\.1:1\/\w+: connection refused/,
    );
    const empty = await cli(['report', '--db', await server().createDatabase('empty')]);
    assert.equal(empty.code, 1);
    assert.match(empty.stderr, /has no esp-station tables yet: run esp-station db migrate/);
  });
});

/** The serial of a board that was tried more than once and has an identity. */
function retestedSerial(f: Floor): string {
  const r = f.all.find((x) => x.identity?.serial !== undefined && x.attempt > 2);
  if (!r?.identity?.serial) throw new Error('the floor has no retested board with an identity');
  return r.identity.serial;
}
