/**
 * Streaming aggregation of ledger records into a YieldReport. Memory is bounded by the number of distinct
 * boards (a few dozen bytes each, in typed arrays) plus small per-slot/hour/recipe/code tables; records
 * themselves are never kept. Results do not depend on record order: a board's first attempt is the one
 * that started earliest, its final result the one that ended last.
 */
import type { LedgerRecord } from '../ledger/record.ts';
import { CycleTimeHistogram } from './cycle-time-histogram.ts';
import {
  getCounts,
  getRecipe,
  getSlot,
  mergeAggregatorState,
  toAggregatorState,
  type AggregatorState,
  type AggregatorTables,
  type RecipeState,
  type SlotState,
} from './aggregator-state.ts';
import { BoardTable, DEMO, FINAL_PASS, FIRST_PASS, Interner } from './board-table.ts';
import { compareText, group, groups, mostFrequent, pareto, ratio, topKey } from './ranking.ts';
import type { Counts } from './ranking.ts';
import { judgeSlots } from './slot-outliers.ts';
import { AttemptDetails, retriesOf } from './attempt-details.ts';
import { LOCAL_TIME_ZONE } from './figures.ts';
import { messageTemplate } from './message-template.ts';
import { Timeline } from './timeline.ts';
import type { BoardRow, RecipeRow, SlotRow, Totals, YieldReport } from './yield-report.ts';

/** Distinct failure messages tracked for the Pareto; beyond this, further new messages are only counted. */
export const MAX_TRACKED_MESSAGES = 1000;
const HOUR_MS = 3_600_000;

/** The tables are public for aggregator-state.ts (state out, worker merge in); only this class adds to them. */
export class YieldAggregator implements AggregatorTables {
  attempts = 0;
  passed = 0;
  withoutMac = 0;
  demoAttempts = 0;
  firstStart = Infinity;
  lastEnd = -Infinity;
  readonly cycle = new CycleTimeHistogram();
  readonly boards = new BoardTable();
  readonly recipeIds = new Interner();
  readonly lotIds = new Interner();
  readonly slotIds = new Interner();
  readonly codeIds = new Interner();
  readonly codes = new Map<string, number>();
  readonly testSteps = new Map<string, number>();
  readonly messages = new Map<string, number>();
  untrackedMessages = 0;
  readonly slots = new Map<string, SlotState>();
  readonly timeline = new Timeline();
  readonly details = new AttemptDetails();
  passedAfterRetry = 0;
  readonly recipes = new Map<string, RecipeState>();
  readonly lots = new Map<string, Counts>();
  readonly stations = new Map<string, Counts>();
  readonly operators = new Map<string, Counts>();

  constructor() {
    this.codeIds.id('');
  }

  add(r: LedgerRecord): void {
    const start = Date.parse(r.start);
    const end = Date.parse(r.end);
    const pass = r.result === 'pass';
    this.attempts++;
    if (pass) this.passed++;
    if (r.demoFirmware) this.demoAttempts++;
    if (start < this.firstStart) this.firstStart = start;
    if (end > this.lastEnd) this.lastEnd = end;
    this.cycle.add(r.durationMs);

    const slotKey = `${r.station}\u0000${r.slot}`;
    const slot = getSlot(this.slots, slotKey, r.station, r.slot);
    count(slot, pass);
    this.timeline.add(end, pass);
    if (pass && retriesOf(r) > 0) this.passedAfterRetry++;
    count(getCounts(this.lots, r.lot), pass);
    count(getCounts(this.stations, r.station), pass);
    count(getCounts(this.operators, r.operator), pass);
    const recipe = getRecipe(this.recipes, r.recipe);
    count(recipe, pass);
    recipe.profiles.add(r.profile);
    if (r.demoFirmware) recipe.demo = true;
    if (start < recipe.first) recipe.first = start;
    if (end > recipe.last) recipe.last = end;

    if (!pass) {
      const code = r.code ?? '(no code)';
      this.codes.set(code, (this.codes.get(code) ?? 0) + 1);
      slot.codes.set(code, (slot.codes.get(code) ?? 0) + 1);
      const step = r.test?.failedStep;
      if (step !== undefined) this.testSteps.set(step, (this.testSteps.get(step) ?? 0) + 1);
      // Grouped by template: the same cause with another MD5 or address is the same row.
      const message = messageTemplate(r.message ?? '(no message)');
      const known = this.messages.get(message);
      if (known !== undefined) this.messages.set(message, known + 1);
      else if (this.messages.size < MAX_TRACKED_MESSAGES) this.messages.set(message, 1);
      else this.untrackedMessages++;
    }

    if (r.mac === undefined) {
      this.withoutMac++;
      this.details.add(r, slotKey, end, false);
      return;
    }
    const b = this.boards;
    const i = b.slotOf(r.mac.toUpperCase());
    this.details.add(r, slotKey, end, end >= b.lastEnd[i]);
    b.attempts[i]++;
    const recipeId = this.recipeIds.id(r.recipe);
    if (start < b.firstStart[i]) {
      b.firstStart[i] = start;
      b.firstRecipe[i] = recipeId;
      b.flags[i] = pass ? b.flags[i] | FIRST_PASS : b.flags[i] & ~FIRST_PASS;
    }
    if (end >= b.lastEnd[i]) {
      b.lastEnd[i] = end;
      b.lastRecipe[i] = recipeId;
      b.lastLot[i] = this.lotIds.id(r.lot);
      b.lastSlot[i] = this.slotIds.id(slotKey);
      b.lastCode[i] = this.codeIds.id(pass ? '' : (r.code ?? '(no code)'));
      let f = pass ? b.flags[i] | FINAL_PASS : b.flags[i] & ~FINAL_PASS;
      f = r.demoFirmware ? f | DEMO : f & ~DEMO;
      b.flags[i] = f;
    }
  }

  toState(): AggregatorState {
    return toAggregatorState(this);
  }

  /** Adds the records behind `state`, as if they had been add()ed after everything seen so far. */
  merge(state: AggregatorState): void {
    mergeAggregatorState(this, state);
  }

  /** One row per board, in first-seen order (for the board-list CSV). */
  *boardRows(): Generator<BoardRow> {
    for (const [mac, i] of this.boards.index) yield this.boardRow(mac, i);
  }

  report(
    meta: Pick<YieldReport, 'generatedAt' | 'ledger' | 'filter'> & { timeZone?: string },
    failedBoardsLimit = 100,
  ): YieldReport {
    const timeZone = meta.timeZone ?? LOCAL_TIME_ZONE;
    const b = this.boards;
    let boardsPassed = 0;
    let boardsFirstPass = 0;
    let retests = 0;
    let boardsRetested = 0;
    const recipeBoards = new Map<number, { boards: number; firstPass: number }>();
    // Most recent final failures, kept to failedBoardsLimit without sorting every board.
    const failed: Array<[number, string, number]> = [];
    for (const [mac, i] of b.index) {
      const f = b.flags[i];
      if (f & FINAL_PASS) boardsPassed++;
      else failed.push([b.lastEnd[i], mac, i]);
      if (f & FIRST_PASS) boardsFirstPass++;
      if (b.attempts[i] > 1) {
        retests += b.attempts[i] - 1;
        boardsRetested++;
      }
      const rb = recipeBoards.get(b.firstRecipe[i]) ?? { boards: 0, firstPass: 0 };
      rb.boards++;
      if (f & FIRST_PASS) rb.firstPass++;
      recipeBoards.set(b.firstRecipe[i], rb);
    }
    failed.sort((x, y) => y[0] - x[0] || (x[1] < y[1] ? -1 : 1));
    const tracked = mostFrequent(this.messages, MAX_TRACKED_MESSAGES);

    const boards = b.size;
    const hasWindow = this.attempts > 0 && Number.isFinite(this.firstStart) && Number.isFinite(this.lastEnd);
    const hours = hasWindow ? Math.max(0, this.lastEnd - this.firstStart) / HOUR_MS : 0;
    const totals: Totals = {
      attempts: this.attempts,
      attemptsPassed: this.passed,
      attemptsFailed: this.attempts - this.passed,
      attemptsWithoutMac: this.withoutMac,
      boards,
      boardsPassed,
      boardsFailed: boards - boardsPassed,
      boardsFirstPass,
      firstPassYield: ratio(boardsFirstPass, boards),
      finalYield: ratio(boardsPassed, boards),
      retests,
      boardsRetested,
      boardsPerHour: hours > 0 ? boards / hours : null,
      cycleTimeMs:
        this.cycle.count > 0
          ? {
              p50: this.cycle.percentile(50) as number,
              p90: this.cycle.percentile(90) as number,
              max: this.cycle.max as number,
            }
          : null,
      passedAfterRetry: this.passedAfterRetry,
      passedAtLowerBaud: 0,
    };

    const slotStates = [...this.slots.values()].sort(
      (x, y) => compareText(x.station, y.station) || compareText(x.slot, y.slot),
    );
    const verdicts = judgeSlots(slotStates);
    // A station's fastest baud is the one its ladder starts at: passes below it stepped down.
    const fastest = new Map<string, number>();
    for (const [key, st] of this.slots)
      fastest.set(st.station, Math.max(fastest.get(st.station) ?? 0, this.details.maxBaud(key)));
    const slots: SlotRow[] = slotStates.map((s, k) => ({
      station: s.station,
      slot: s.slot,
      attempts: s.attempts,
      passed: s.passed,
      failed: s.attempts - s.passed,
      yield: s.passed / s.attempts,
      verdict: verdicts[k].verdict,
      z: verdicts[k].z,
      restYield: verdicts[k].restYield,
      topFailure: topKey(s.codes),
      ...this.details.slotFigures(`${s.station}\u0000${s.slot}`, fastest.get(s.station) ?? 0),
    }));
    totals.passedAtLowerBaud = slots.reduce((n, s) => n + s.passedAtLowerBaud, 0);

    const recipes: RecipeRow[] = [...this.recipes.entries()]
      .sort((x, y) => x[1].first - y[1].first)
      .map(([key, r]) => {
        const rb = recipeBoards.get(this.recipeIds.id(key)) ?? { boards: 0, firstPass: 0 };
        return {
          ...group(key, r),
          profiles: [...r.profiles].sort(),
          demoFirmware: r.demo,
          boards: rb.boards,
          boardsFirstPass: rb.firstPass,
          firstPassYield: ratio(rb.firstPass, rb.boards),
          first: new Date(r.first).toISOString(),
          last: new Date(r.last).toISOString(),
        };
      });

    return {
      schema: 'esp-station.yield-report/1',
      ...meta,
      timeZone,
      window: hasWindow
        ? {
            first: new Date(this.firstStart).toISOString(),
            last: new Date(this.lastEnd).toISOString(),
            hours,
          }
        : null,
      totals,
      demo: { attempts: this.demoAttempts, recipes: recipes.filter((r) => r.demoFirmware).map((r) => r.key) },
      failures: {
        byCode: pareto(this.codes, this.attempts - this.passed),
        byTestStep: pareto(this.testSteps, this.attempts - this.passed),
        byMessage: pareto(tracked.messages, this.attempts - this.passed),
        untrackedMessages: this.untrackedMessages + tracked.dropped,
      },
      slots,
      phases: this.details.phaseRows(),
      timeline: this.timeline.series(timeZone),
      hourly: this.timeline.hourly(),
      recipes,
      lots: groups(this.lots),
      stations: groups(this.stations),
      operators: groups(this.operators),
      failedBoards: failed.slice(0, failedBoardsLimit).map(([, mac, i]) => this.boardRow(mac, i)),
      failedBoardsLimit,
    };
  }

  private boardRow(mac: string, i: number): BoardRow {
    const b = this.boards;
    const [station, slot] = this.slotIds.values[b.lastSlot[i]].split('\u0000');
    return {
      mac,
      result: b.flags[i] & FINAL_PASS ? 'pass' : 'fail',
      attempts: b.attempts[i],
      first: new Date(b.firstStart[i]).toISOString(),
      last: new Date(b.lastEnd[i]).toISOString(),
      recipe: this.recipeIds.values[b.lastRecipe[i]],
      lot: this.lotIds.values[b.lastLot[i]],
      station,
      slot,
      code: this.codeIds.values[b.lastCode[i]],
      message: b.flags[i] & FINAL_PASS ? '' : this.details.failMessage(mac),
      demoFirmware: (b.flags[i] & DEMO) !== 0,
    };
  }
}

function count(c: Counts, pass: boolean): void {
  c.attempts++;
  if (pass) c.passed++;
}
