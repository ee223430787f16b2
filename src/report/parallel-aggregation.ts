/**
 * Aggregates a large ledger on several worker threads: the files are cut into line-aligned byte ranges, each
 * worker aggregates ranges as they come, and the states are merged in ledger order (so the result equals one
 * sequential pass). Problem line numbers are made absolute again using the line counts of earlier ranges.
 */
import { Worker } from 'node:worker_threads';
import type { LedgerProblem } from '../ledger/reader.ts';
import { planRanges } from './ledger-ranges.ts';
import type { RangeJob, RangeResult } from './report-worker.ts';
import { YieldAggregator } from './yield-aggregator.ts';
import type { ReportFilter } from './yield-report.ts';

export interface ParallelOptions {
  workers: number;
  rangeBytes: number;
  signal?: AbortSignal;
  maxProblemsKept?: number;
}

export interface AggregationResult {
  aggregator: YieldAggregator;
  records: number;
  problems: LedgerProblem[];
  problemCount: number;
}

type Done = Extract<RangeResult, { state: unknown }>;

export async function aggregateInParallel(
  files: readonly string[],
  filter: ReportFilter,
  options: ParallelOptions,
): Promise<AggregationResult> {
  options.signal?.throwIfAborted();
  const ranges = await planRanges(files, options.rangeBytes);
  options.signal?.throwIfAborted();
  const results: Array<Done | undefined> = new Array(ranges.length);
  const aggregator = new YieldAggregator();
  const linesBefore = new Map<string, number>();
  const problems: LedgerProblem[] = [];
  let records = 0;
  let problemCount = 0;
  const keep = options.maxProblemsKept ?? 1000;
  let merged = 0;
  // Merge in ledger order as soon as possible, so only out-of-order results wait in memory.
  const mergeReady = () => {
    for (let r = results[merged]; r !== undefined; r = results[merged]) {
      const range = ranges[merged];
      results[merged++] = undefined;
      aggregator.merge(r.state);
      records += r.records;
      problemCount += r.problemCount;
      const offset = linesBefore.get(range.file) ?? 0;
      for (const p of r.problems) if (problems.length < keep) problems.push({ ...p, line: p.line + offset });
      linesBefore.set(range.file, offset + r.lines);
    }
  };
  const count = Math.max(1, Math.min(options.workers, ranges.length));
  const workers = Array.from(
    { length: count },
    // The entry registers tsx, as bin/esp-station.mjs does, then loads report-worker.ts.
    () => new Worker(new URL('./report-worker-entry.mjs', import.meta.url)),
  );
  try {
    await new Promise<void>((resolve, reject) => {
      let next = 0;
      let pending = ranges.length;
      if (pending === 0) return resolve();
      const fail = (err: Error) => reject(err);
      const onAbort = () => fail(options.signal?.reason ?? new Error('aborted'));
      if (options.signal?.aborted) return onAbort();
      options.signal?.addEventListener('abort', onAbort, { once: true });
      const give = (w: Worker) => {
        if (next >= ranges.length) return;
        const job: RangeJob = { index: next, range: ranges[next], filter };
        next++;
        w.postMessage(job);
      };
      for (const w of workers) {
        w.on('error', fail);
        w.on('exit', (code) => {
          if (pending > 0) fail(new Error(`report worker stopped (exit ${code}) before finishing`));
        });
        w.on('message', (r: RangeResult) => {
          if ('error' in r) return fail(new Error(`${ranges[r.index].file}: ${r.error}`));
          results[r.index] = r;
          // Keep the worker busy first, then merge while it works.
          give(w);
          mergeReady();
          if (--pending === 0) {
            options.signal?.removeEventListener('abort', onAbort);
            resolve();
          }
        });
        give(w);
      }
    });
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }

  return { aggregator, records, problems, problemCount };
}
