/**
 * Report throughput: generates a sample ledger of N records (default 1,000,000) and times a full report over it.
 * Prints records/s and peak RSS. Run: node --import tsx bench/report-scale.ts [records]
 */
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildReport } from '../src/report/build-report.ts';
import { writeSampleLedger } from './sample-ledger.ts';

const records = Number(process.argv[2] ?? 1_000_000);
const dir = await mkdtemp(join(tmpdir(), 'report-scale-'));
try {
  const file = join(dir, 'ledger.jsonl');
  let t = performance.now();
  await writeSampleLedger(file, { records });
  const size = (await stat(file)).size;
  console.log(
    `generated ${records} records (${(size / 1e6).toFixed(0)} MB) in ${((performance.now() - t) / 1000).toFixed(1)} s`,
  );
  const rssBefore = process.memoryUsage().rss;
  t = performance.now();
  const cpu = process.cpuUsage();
  const { report } = await buildReport({ ledger: file });
  const seconds = (performance.now() - t) / 1000;
  const used = process.cpuUsage(cpu);
  console.log(
    `report: ${report.totals.attempts} attempts, ${report.totals.boards} boards in ${seconds.toFixed(2)} s = ` +
      `${Math.round(records / seconds).toLocaleString('en')} records/s (${(size / 1e6 / seconds).toFixed(0)} MB/s); ` +
      `CPU ${((used.user + used.system) / 1e6).toFixed(2)} s (load average ${loadavg()[0].toFixed(1)} on ${cpus().length} cores)`,
  );
  console.log(
    `RSS before report ${(rssBefore / 1e6).toFixed(0)} MB; peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`,
  );
} finally {
  await rm(dir, { recursive: true, force: true });
}
