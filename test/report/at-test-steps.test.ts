import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LedgerWriter } from '../../src/ledger/writer.ts';
import type { LedgerRecord } from '../../src/ledger/record.ts';
import { buildReport } from '../../src/report/build-report.ts';
import { formatCsv } from '../../src/report/format-csv.ts';
import { formatHtml } from '../../src/report/format-html.ts';
import { formatText } from '../../src/report/format-text.ts';
import { makeRecord } from '../ledger/record-builder.ts';

/** A failed attempt whose AT test failed at `step`, with the transcript the station records. */
function failedAt(i: number, step: string, code: NonNullable<LedgerRecord['code']>): LedgerRecord {
  return makeRecord({
    mac: `24:0A:C4:00:01:${i.toString(16).padStart(2, '0')}`,
    startMs: Date.UTC(2026, 10, 23, 8, i),
    result: 'fail',
    code,
    message: `failed at ${step}`,
    test: {
      result: 'fail',
      port: '/dev/ttyUSB1',
      baud: 115200,
      failedStep: step,
      transcript: [
        { step, ...(step !== 'ready' && { command: 'AT+GMR' }), lines: ['ERROR'], ms: 12, result: 'fail' },
      ],
    },
  });
}

test('reports count failures per AT test step, the same in one pass and in workers, in every format', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'report-at-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const ledger = await LedgerWriter.open({ dir, rotate: { by: 'day' }, station: 'st1' });
  const records = [
    makeRecord({ mac: '24:0A:C4:00:00:01', test: { result: 'pass', transcript: [] } }),
    makeRecord({ mac: '24:0A:C4:00:00:02', test: { result: 'skipped', note: 'no AT port', transcript: [] } }),
    failedAt(1, 'version', 'at-version-mismatch'),
    failedAt(2, 'version', 'at-version-mismatch'),
    failedAt(3, 'ready', 'at-no-ready'),
    failedAt(4, 'version', 'at-module-mismatch'),
    failedAt(5, 'wifi-scan', 'at-no-ap'),
    // A failure before the test: no step.
    makeRecord({ mac: '24:0A:C4:00:00:09', result: 'fail', code: 'verify-mismatch', message: 'md5' }),
  ];
  for (const r of records) await ledger.append(r);
  await ledger.close();

  const now = new Date('2026-11-24T00:00:00Z');
  const one = await buildReport({ ledger: dir, now, workers: 1 });
  const many = await buildReport({ ledger: dir, now, workers: 2, rangeBytes: 600 });
  assert.deepEqual(many.report.failures, one.report.failures);
  const steps = one.report.failures.byTestStep.map((p) => [p.key, p.count, p.share]);
  assert.deepEqual(steps, [
    ['version', 3, 3 / 6],
    ['ready', 1, 1 / 6],
    ['wifi-scan', 1, 1 / 6],
  ]);

  const text = formatText(one.report);
  assert.match(text, /Failures by AT test step\n.*step +count +share\n.*version +3 +50\.0 ?%/s);
  const csv = [...formatCsv('test-steps', one.report, one.aggregator)].join('');
  assert.match(csv, /^step,count,share,cumulative\r?\nversion,3,0\.5,0\.5/);
  assert.match(formatHtml(one.report), /<h3>By AT test step<\/h3>/);
});
