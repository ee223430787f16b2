import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildReport } from '../../src/report/build-report.ts';
import { planRanges } from '../../src/report/ledger-ranges.ts';
import { listLedgerFiles } from '../../src/ledger/files.ts';
import type { YieldAggregator } from '../../src/report/yield-aggregator.ts';
import { writeSampleLedger } from '../../bench/sample-ledger.ts';
import { writeKnownLedger } from './known-ledger.ts';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'report-parallel-'));
});
after(() => rm(dir, { recursive: true, force: true }));

const now = new Date('2026-11-24T00:00:00Z');
const boards = (a: YieldAggregator) => [...a.boardRows()].sort((x, y) => (x.mac < y.mac ? -1 : 1));

test('byte ranges start on line starts and cover every file exactly', async () => {
  const ledger = join(dir, 'ranges');
  await mkdir(ledger);
  await writeKnownLedger(ledger);
  const files = await listLedgerFiles(ledger);
  const ranges = await planRanges(files, 500);
  for (const [i, file] of files.entries()) {
    const text = await readFile(file);
    const own = ranges.filter((r) => r.fileIndex === i);
    assert.equal(own[0].start, 0);
    assert.equal(own.at(-1)?.end, text.length);
    own.forEach((r, k) => {
      assert.equal(r.file, file);
      if (k > 0) assert.equal(r.start, own[k - 1].end);
      if (r.start > 0) assert.equal(text[r.start - 1], 0x0a, `range ${k} of ${file} starts mid-line`);
    });
    assert.ok(own.length > 1, 'the test should cut files into several ranges');
  }
});

test('workers over small ranges give exactly the single-pass report, problems at the same file:line', async () => {
  const ledger = join(dir, 'known');
  await mkdir(ledger);
  await writeKnownLedger(ledger);
  const one = await buildReport({ ledger, now, workers: 1 });
  const many = await buildReport({ ledger, now, workers: 3, rangeBytes: 700 });
  assert.deepEqual(many.report, one.report);
  assert.deepEqual(boards(many.aggregator), boards(one.aggregator));
  assert.equal(one.report.ledger.problemCount, 2);
});

test('workers agree with a single pass on a few thousand generated records, with filters', async () => {
  const ledger = join(dir, 'sample.jsonl');
  await writeSampleLedger(ledger, { records: 4000, seed: 11, demo: true });
  for (const filter of [
    {},
    { lots: ['LOT-2611B'], stations: ['line1-st2'] },
    { since: '2026-11-23T08:00:00.000Z' },
  ]) {
    const one = await buildReport({ ledger, now, filter, workers: 1 });
    const many = await buildReport({ ledger, now, filter, workers: 2, rangeBytes: 256 * 1024 });
    assert.deepEqual(many.report, one.report);
    assert.deepEqual(boards(many.aggregator), boards(one.aggregator));
    assert.ok(one.report.totals.attempts > 100);
  }
});

test('an aborted parallel report rejects', async () => {
  const ledger = join(dir, 'abort.jsonl');
  await writeSampleLedger(ledger, { records: 2000, seed: 3 });
  const ac = new AbortController();
  const pending = buildReport({ ledger, workers: 2, rangeBytes: 64 * 1024, signal: ac.signal });
  ac.abort(new Error('operator pressed Ctrl-C'));
  await assert.rejects(pending, /Ctrl-C/);
});
