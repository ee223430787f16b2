/**
 * Worker thread for large ledgers: aggregates one byte range at a time and hands back the aggregator's state.
 * Started by parallel-aggregation.ts; each message is one range, each reply its result.
 */
import { parentPort } from 'node:worker_threads';
import { LedgerReader } from '../ledger/reader.ts';
import type { LedgerProblem } from '../ledger/reader.ts';
import { recordFilter } from './record-filter.ts';
import { YieldAggregator } from './yield-aggregator.ts';
import type { AggregatorState } from './aggregator-state.ts';
import type { LedgerRange } from './ledger-ranges.ts';
import type { ReportFilter } from './yield-report.ts';

export interface RangeJob {
  index: number;
  range: LedgerRange;
  filter: ReportFilter;
}

export type RangeResult =
  | {
      index: number;
      state: AggregatorState;
      records: number;
      lines: number;
      problems: LedgerProblem[];
      problemCount: number;
    }
  | { index: number; error: string };

const port = parentPort;
if (!port) throw new Error('report-worker.ts runs as a worker thread');

port.on('message', (job: RangeJob) => {
  void runJob(job).then(
    (result) => {
      const transfer =
        'state' in result
          ? Object.values(result.state.boards)
              .filter((v): v is Uint32Array => ArrayBuffer.isView(v))
              .map((v) => v.buffer as ArrayBuffer)
          : [];
      port.postMessage(result, transfer);
    },
    (err: unknown) => port.postMessage({ index: job.index, error: (err as Error)?.message ?? String(err) }),
  );
});

async function runJob(job: RangeJob): Promise<RangeResult> {
  const { file, start, end } = job.range;
  const reader = new LedgerReader(file, { range: { start, end }, skipRegions: true });
  const matches = recordFilter(job.filter);
  const aggregator = new YieldAggregator();
  for await (const batch of reader.recordBatches()) {
    for (const record of batch) if (matches(record)) aggregator.add(record);
  }
  return {
    index: job.index,
    state: aggregator.toState(),
    records: reader.records,
    lines: reader.lines,
    problems: reader.problems,
    problemCount: reader.problemCount,
  };
}
