/**
 * Report throughput: generates a sample ledger of N records (default 1,000,000; real-size records with the
 * ESP-AT flash map) and times a full report over it, first in one thread, then with worker threads (one per
 * CPU, up to 8). Prints records/s, CPU time and peak RSS. Run: node --import tsx bench/report-scale.ts [records]
 */
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildReport } from '../src/report/build-report.ts';
import { writeSampleLedger } from './sample-ledger.ts';

const records = Number(process.argv[2] ?? 1_000_000);
const dir = await mkdtemp(join(tmpdir(), 'report-scale-'));
try {
  const file = join(dir, 'ledger.jsonl');
  const t0 = performance.now();
  await writeSampleLedger(file, { records });
  const size = (await stat(file)).size;
  console.log(
    `generated ${records} records (${(size / 1e6).toFixed(0)} MB) in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
  console.log(`RSS before reports ${(process.memoryUsage().rss / 1e6).toFixed(0)} MB`);
  for (const workers of [1, Math.min(availableParallelism(), 8)]) {
    const t = performance.now();
    const cpu = process.cpuUsage();
    const { report } = await buildReport({ ledger: file, workers });
    const seconds = (performance.now() - t) / 1000;
    const used = process.cpuUsage(cpu);
    console.log(
      `${workers === 1 ? 'one thread' : `${workers} workers`}: ${report.totals.attempts} attempts, ` +
        `${report.totals.boards} boards in ${seconds.toFixed(2)} s = ` +
        `${Math.round(records / seconds).toLocaleString('en')} records/s (${(size / 1e6 / seconds).toFixed(0)} MB/s); ` +
        `CPU ${((used.user + used.system) / 1e6).toFixed(2)} s; peak RSS so far ` +
        `${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB (load average ${loadavg()[0].toFixed(1)} on ` +
        `${availableParallelism()} CPUs)`,
    );
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
