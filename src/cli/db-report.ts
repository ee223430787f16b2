/**
 * `report --db`: the yield report over the central database. PostgreSQL aggregates (central/
 * record-aggregates.ts); the result is handed to the same YieldAggregator the JSONL report fills, as a state to
 * merge, so every figure, table and format is computed by one code path and means the same.
 */
import type { CentralTarget } from '../central/connection.ts';
import { closeClient, connectCentral, describeDatabaseError } from '../central/connection.ts';
import { describeAddress } from '../central/database-url.ts';
import { boardRecords } from '../central/board-records.ts';
import { aggregateRecords, boardPages, inSnapshot } from '../central/record-aggregates.ts';
import type { BoardAggregate, RecordAggregates } from '../central/record-aggregates.ts';
import { compareStations } from '../central/station-comparison.ts';
import type { StationComparisonRow } from '../central/station-comparison.ts';
import { historiesOf } from '../report/board-history.ts';
import type { BoardHistory } from '../report/board-history.ts';
import { DEMO, FINAL_PASS, FIRST_PASS, Interner } from '../report/board-table.ts';
import { CycleTimeHistogram } from '../report/cycle-time-histogram.ts';
import type { AggregatorState } from '../report/aggregator-state.ts';
import { MAX_TRACKED_MESSAGES, YieldAggregator } from '../report/yield-aggregator.ts';
import { messageTemplate } from '../report/message-template.ts';
import { BUCKET_MS } from '../report/timeline.ts';
import type { ReportFilter, YieldReport } from '../report/yield-report.ts';

export interface DbReport {
  report: YieldReport;
  aggregator: YieldAggregator;
  stations: StationComparisonRow[];
  /** With --mac or --serial: those boards' histories, as report --ledger builds them. */
  boards?: BoardHistory[];
}

/** Why the database report could not be made, in one line (no schema yet, unreachable, refused…). */
export function explainDatabaseFailure(err: unknown, target: CentralTarget): string {
  if ((err as { code?: string }).code === '42P01') {
    return `${describeAddress(target.address)} has no esp-station tables yet: run esp-station db migrate, or ship a ledger to it`;
  }
  return describeDatabaseError(err, target);
}

export async function buildDbReport(options: {
  target: CentralTarget;
  filter: ReportFilter;
  now?: Date;
  failedBoardsLimit?: number;
}): Promise<DbReport> {
  const client = await connectCentral(options.target, {
    applicationName: 'esp-station report',
    queryTimeoutMs: 600_000,
  });
  try {
    return await inSnapshot(client, async () => {
      const totals = await aggregateRecords(client, options.filter, BUCKET_MS);
      const boards: BoardAggregate[] = [];
      for await (const page of boardPages(client, options.filter)) for (const b of page) boards.push(b);
      const stations = await compareStations(client, options.filter);
      const { macs, serials } = options.filter;
      const histories =
        macs || serials ? historiesOf(await boardRecords(client, { macs, serials })) : undefined;
      const aggregator = new YieldAggregator();
      aggregator.merge(aggregatorState(totals, boards));
      const report = aggregator.report(
        {
          generatedAt: (options.now ?? new Date()).toISOString(),
          ledger: {
            path: describeAddress(options.target.address),
            files: [],
            records: totals.records,
            problemCount: 0,
            problems: [],
          },
          filter: options.filter,
        },
        options.failedBoardsLimit,
      );
      return { report, aggregator, stations, ...(histories && { boards: histories }) };
    });
  } finally {
    await closeClient(client);
  }
}

/** The database's aggregates as the state a YieldAggregator would have after reading the same records. */
export function aggregatorState(a: RecordAggregates, boardRows: readonly BoardAggregate[]): AggregatorState {
  const cycle = new CycleTimeHistogram();
  for (const [ms, n] of a.durations) for (let i = 0; i < n; i++) cycle.add(ms);
  // The JSONL aggregator groups messages by template and tracks the first MAX_TRACKED_MESSAGES distinct ones it
  // meets; later new ones are only counted. The database lists raw messages in first-seen order, so templating
  // them in that order meets each template first where the ledger walk would.
  const templated = new Map<string, number>();
  for (const [message, count] of a.messages) {
    const t = messageTemplate(message);
    templated.set(t, (templated.get(t) ?? 0) + count);
  }
  const byTemplate = [...templated];
  const messages = byTemplate.slice(0, MAX_TRACKED_MESSAGES);
  const untracked = byTemplate.slice(MAX_TRACKED_MESSAGES).reduce((s, [, n]) => s + n, 0);
  const phases: AggregatorState['details']['phases'] = a.phases.map(([phase, durations]) => {
    const h = new CycleTimeHistogram();
    for (const [ms, count] of durations) for (let i = 0; i < count; i++) h.add(ms);
    return [phase, h.toState()];
  });

  const recipes = new Interner();
  const lots = new Interner();
  const slots = new Interner();
  const codes = new Interner();
  codes.id('');
  const n = boardRows.length;
  const boards: AggregatorState['boards'] = {
    macs: boardRows.map((b) => b.mac),
    firstStart: new Float64Array(n),
    lastEnd: new Float64Array(n),
    attempts: new Uint32Array(n),
    flags: new Uint8Array(n),
    firstRecipe: new Uint32Array(n),
    lastRecipe: new Uint32Array(n),
    lastLot: new Uint32Array(n),
    lastSlot: new Uint32Array(n),
    lastCode: new Uint32Array(n),
    recipes: recipes.values,
    lots: lots.values,
    slots: slots.values,
    codes: codes.values,
  };
  boardRows.forEach((b, i) => {
    boards.firstStart[i] = b.firstStart;
    boards.lastEnd[i] = b.lastEnd;
    boards.attempts[i] = b.attempts;
    boards.flags[i] =
      (b.firstPass ? FIRST_PASS : 0) | (b.lastPass ? FINAL_PASS : 0) | (b.lastDemo ? DEMO : 0);
    boards.firstRecipe[i] = recipes.id(b.firstRecipe);
    boards.lastRecipe[i] = recipes.id(b.lastRecipe);
    boards.lastLot[i] = lots.id(b.lastLot);
    boards.lastSlot[i] = slots.id(`${b.lastStation}\u0000${b.lastSlot}`);
    boards.lastCode[i] = codes.id(b.lastCode);
  });
  return {
    attempts: a.attempts,
    passed: a.passed,
    withoutMac: a.withoutMac,
    demoAttempts: a.demoAttempts,
    firstStart: a.firstStart,
    lastEnd: a.lastEnd,
    cycle: cycle.toState(),
    codes: a.codes,
    testSteps: a.testSteps,
    messages,
    untrackedMessages: untracked,
    slots: a.slots.map((s) => [`${s.station}\u0000${s.slot}`, s]),
    timeline: a.timeline,
    passedAfterRetry: a.passedAfterRetry,
    details: {
      phases,
      slots: a.slotBauds.map((s) => [
        `${s.station}\u0000${s.slot}`,
        { passedRetried: s.passedRetried, passBauds: s.passBauds, maxBaud: s.maxBaud },
      ]),
      failMessages: boardRows.filter((b) => !b.lastPass).map((b) => [b.mac, b.lastEnd, b.lastMessage]),
    },
    recipes: a.recipes.map((r) => [
      r.recipe,
      {
        attempts: r.attempts,
        passed: r.passed,
        profiles: r.profiles,
        demo: r.demo,
        first: r.first,
        last: r.last,
      },
    ]),
    lots: a.lots,
    stations: a.stations,
    operators: a.operators,
    boards,
  };
}
