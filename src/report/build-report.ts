/**
 * Streams a ledger (file or directory) through the filter into a YieldAggregator: in this thread for ordinary
 * ledgers, on worker threads over byte ranges for large ones. Both give the same report.
 */
import { stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { listLedgerFiles } from '../ledger/files.ts';
import { LedgerReader } from '../ledger/reader.ts';
import { aggregateInParallel } from './parallel-aggregation.ts';
import type { AggregationResult } from './parallel-aggregation.ts';
import { recordFilter } from './record-filter.ts';
import { YieldAggregator } from './yield-aggregator.ts';
import type { ReportFilter, YieldReport } from './yield-report.ts';

const MIN_CPUS_FOR_WORKERS = 4;
/** Below this, starting workers (and tsx in each) costs more than it saves. */
export const PARALLEL_MIN_BYTES = 64 * 1024 * 1024;
const MAX_WORKERS = 8;

/**
 * Threads for a ledger of `bytes`: none below PARALLEL_MIN_BYTES (starting workers, and tsx in each, costs more
 * than it saves), none on fewer than MIN_CPUS_FOR_WORKERS CPUs (measured: on a busy 2-CPU machine workers were
 * ~20 % slower than one thread, their merging and start-up eat the gain), else one per CPU up to MAX_WORKERS.
 */
export function defaultWorkers(bytes: number): number {
  const cpus = availableParallelism();
  return bytes >= PARALLEL_MIN_BYTES && cpus >= MIN_CPUS_FOR_WORKERS ? Math.min(cpus, MAX_WORKERS) : 1;
}

export interface BuildReportOptions {
  ledger: string;
  filter?: ReportFilter;
  signal?: AbortSignal;
  /** Time stamp written into the report (tests pin it). */
  now?: Date;
  failedBoardsLimit?: number;
  /** Zone the text and HTML formats show times in (IANA name); default this machine's (TZ). */
  timeZone?: string;
  /** Worker threads (1 = none); default: defaultWorkers(ledger size). */
  workers?: number;
  /** Size of the byte ranges handed to workers; default: about four per worker, at least 8 MB. */
  rangeBytes?: number;
}

export interface BuiltReport {
  report: YieldReport;
  /** Still holds per-board state, for the board-list CSV. */
  aggregator: YieldAggregator;
}

export async function buildReport(options: BuildReportOptions): Promise<BuiltReport> {
  const filter = options.filter ?? {};
  const files = await listLedgerFiles(options.ledger);
  let total = 0;
  for (const f of files) total += (await stat(f)).size;
  const workers = options.workers ?? defaultWorkers(total);
  const result =
    workers > 1
      ? await aggregateInParallel(files, filter, {
          workers,
          rangeBytes: options.rangeBytes ?? Math.max(8 << 20, Math.ceil(total / (workers * 4))),
          signal: options.signal,
        })
      : await aggregateHere(options.ledger, filter, options.signal);
  const report = result.aggregator.report(
    {
      generatedAt: (options.now ?? new Date()).toISOString(),
      ledger: {
        path: options.ledger,
        files,
        records: result.records,
        problemCount: result.problemCount,
        problems: result.problems,
      },
      filter,
      ...(options.timeZone && { timeZone: options.timeZone }),
    },
    options.failedBoardsLimit,
  );
  return { report, aggregator: result.aggregator };
}

async function aggregateHere(
  ledger: string,
  filter: ReportFilter,
  signal?: AbortSignal,
): Promise<AggregationResult> {
  const matches = recordFilter(filter);
  // Reports never use regions: skipping them spares most of the parsing (they are still validated).
  const reader = new LedgerReader(ledger, { signal, skipRegions: true });
  const aggregator = new YieldAggregator();
  for await (const batch of reader.recordBatches()) {
    for (const record of batch) if (matches(record)) aggregator.add(record);
  }
  return {
    aggregator,
    records: reader.records,
    problems: reader.problems,
    problemCount: reader.problemCount,
  };
}
