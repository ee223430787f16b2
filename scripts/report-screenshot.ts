/**
 * Renders the README screenshot: a yield report photographed by headless Chromium into docs/report-screenshot.png.
 * Default: over the ledger of a real demo run — `esp-station run --simulate N --faults demo` (realistic timing,
 * the demo image set) with an operator and a lot set. `--sample` uses the generated 6,000-record sample ledger
 * (bench/sample-ledger.ts) instead.
 * Run: node --import tsx scripts/report-screenshot.ts [--sample] [--boards N] [out.png]
 */
import { mkdtemp, rm, stat, writeFile, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { buildReport } from '../src/report/build-report.ts';
import { formatHtml } from '../src/report/format-html.ts';
import { writeSampleLedger } from '../bench/sample-ledger.ts';
import { screenshot } from '../test/report/chromium.ts';

const { values, positionals } = parseArgs({
  options: { sample: { type: 'boolean', default: false }, boards: { type: 'string', default: '24' } },
  allowPositionals: true,
});
const png = positionals[0] ?? 'docs/report-screenshot.png';
const dir = await mkdtemp(join(tmpdir(), 'report-screenshot-'));

async function demoLedger(ledger: string): Promise<void> {
  // The shipped config with an operator and a lot, so the report shows what a real shift's ledger holds.
  const config = (await readFile('config.yaml', 'utf8'))
    .replace(/^operator: .*$/m, "operator: 'A. Meier'")
    .replace(/^lot: .*$/m, "lot: 'LOT-2026-1123-A'")
    .replace(/^profile: (.*)$/m, (_m, p: string) => `profile: ${resolve(p.trim())}`);
  const configFile = join(dir, 'config.yaml');
  await writeFile(configFile, config);
  const run = spawnSync(
    process.execPath,
    [
      'bin/esp-station.mjs',
      'run',
      '--config',
      configFile,
      '--headless',
      '--once',
      '--ledger',
      ledger,
      '--simulate',
      values.boards,
      '--faults',
      'demo',
      '--timing',
      'realistic',
      '--seed',
      '3',
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  if (run.status !== 0) throw new Error(`demo station run failed (exit ${run.status})`);
}

try {
  const ledger = join(dir, 'line1.jsonl');
  if (values.sample) await writeSampleLedger(ledger, { records: 6000, seed: 7 });
  else await demoLedger(ledger);
  const { report } = await buildReport({
    ledger,
    now: values.sample ? new Date('2026-11-23T16:00:00Z') : undefined,
  });
  report.ledger.path = values.sample ? 'var/ledger' : 'var/ledger (npm run demo)';
  const html = join(dir, 'report.html');
  await writeFile(html, formatHtml(report));
  await screenshot(html, png, 1280, 2000);
  console.log(`${png}: ${Math.round((await stat(png)).size / 1024)} KB`);
} finally {
  await rm(dir, { recursive: true, force: true });
}
