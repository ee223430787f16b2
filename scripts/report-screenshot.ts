/**
 * Renders the README screenshot: a yield report over a generated sample ledger (bench/sample-ledger.ts),
 * as HTML, photographed by headless Chromium into docs/report-screenshot.png.
 * Run: node --import tsx scripts/report-screenshot.ts [out.png]
 */
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildReport } from '../src/report/build-report.ts';
import { formatHtml } from '../src/report/format-html.ts';
import { writeSampleLedger } from '../bench/sample-ledger.ts';
import { screenshot } from '../test/report/chromium.ts';

const png = process.argv[2] ?? 'docs/report-screenshot.png';
const dir = await mkdtemp(join(tmpdir(), 'report-screenshot-'));
try {
  const ledger = join(dir, 'line1.jsonl');
  await writeSampleLedger(ledger, { records: 6000, seed: 7 });
  const { report } = await buildReport({ ledger, now: new Date('2026-11-23T16:00:00Z') });
  report.ledger.path = 'var/ledger';
  const html = join(dir, 'report.html');
  await writeFile(html, formatHtml(report));
  await screenshot(html, png, 1280, 2000);
  console.log(`${png}: ${Math.round((await stat(png)).size / 1024)} KB`);
} finally {
  await rm(dir, { recursive: true, force: true });
}
