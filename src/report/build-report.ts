/** Streams a ledger (file or directory) through the filter into a YieldAggregator. */
import { LedgerReader } from '../ledger/reader.ts';
import { recordFilter } from './record-filter.ts';
import { YieldAggregator } from './yield-aggregator.ts';
import type { ReportFilter, YieldReport } from './yield-report.ts';

export interface BuildReportOptions {
  ledger: string;
  filter?: ReportFilter;
  signal?: AbortSignal;
  /** Time stamp written into the report (tests pin it). */
  now?: Date;
  failedBoardsLimit?: number;
}

export interface BuiltReport {
  report: YieldReport;
  /** Still holds per-board state, for the board-list CSV. */
  aggregator: YieldAggregator;
}

export async function buildReport(options: BuildReportOptions): Promise<BuiltReport> {
  const filter = options.filter ?? {};
  const matches = recordFilter(filter);
  // Reports never use regions: skipping them spares most of the parsing (they are still validated).
  const reader = new LedgerReader(options.ledger, { signal: options.signal, skipRegions: true });
  const aggregator = new YieldAggregator();
  for await (const batch of reader.recordBatches()) {
    for (const record of batch) if (matches(record)) aggregator.add(record);
  }
  const report = aggregator.report(
    {
      generatedAt: (options.now ?? new Date()).toISOString(),
      ledger: {
        path: options.ledger,
        files: reader.files,
        records: reader.records,
        problemCount: reader.problemCount,
        problems: reader.problems,
      },
      filter,
    },
    options.failedBoardsLimit,
  );
  return { report, aggregator };
}
