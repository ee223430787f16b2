/**
 * Streaming aggregation of ledger records into a YieldReport. Memory is bounded by the number of distinct
 * boards (a few dozen bytes each, in typed arrays) plus small per-slot/hour/recipe/code tables; records
 * themselves are never kept. Results do not depend on record order: a board's first attempt is the one
 * that started earliest, its final result the one that ended last.
 */
import type { LedgerRecord } from '../ledger/record.ts';
import { CycleTimeHistogram } from './cycle-time-histogram.ts';
import type { AggregatorState } from './aggregator-state.ts';
import { BoardTable, DEMO, FINAL_PASS, FIRST_PASS, Interner } from './board-table.ts';
import { compareText, group, groups, mostFrequent, pareto, ratio, topKey } from './ranking.ts';
import type { Counts } from './ranking.ts';
import { judgeSlots } from './slot-outliers.ts';
import type { BoardRow, HourRow, RecipeRow, SlotRow, Totals, YieldReport } from './yield-report.ts';

export type { AggregatorState } from './aggregator-state.ts';

/** Distinct failure messages tracked for the Pareto; beyond this, further new messages are only counted. */
export const MAX_TRACKED_MESSAGES = 1000;
/** Hourly rows are filled with empty hours only up to this span (about a year); beyond, only busy hours. */
const MAX_FILLED_HOURS = 24 * 366;
const HOUR_MS = 3_600_000;

interface RecipeState extends Counts {
  profiles: Set<string>;
  demo: boolean;
  first: number;
  last: number;
}

interface SlotState extends Counts {
  station: string;
  slot: string;
  codes: Map<string, number>;
}

export class YieldAggregator {
  private attempts = 0;
  private passed = 0;
  private withoutMac = 0;
  private demoAttempts = 0;
  private firstStart = Infinity;
  private lastEnd = -Infinity;
  private readonly cycle = new CycleTimeHistogram();
  private readonly boards = new BoardTable();
  private readonly recipeIds = new Interner();
  private readonly lotIds = new Interner();
  private readonly slotIds = new Interner();
  private readonly codeIds = new Interner();
  private readonly codes = new Map<string, number>();
  private readonly messages = new Map<string, number>();
  private untrackedMessages = 0;
  private readonly slots = new Map<string, SlotState>();
  private readonly hours = new Map<number, Counts>();
  private readonly recipes = new Map<string, RecipeState>();
  private readonly lots = new Map<string, Counts>();
  private readonly stations = new Map<string, Counts>();
  private readonly operators = new Map<string, Counts>();

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
    let slot = this.slots.get(slotKey);
    if (!slot)
      this.slots.set(
        slotKey,
        (slot = { station: r.station, slot: r.slot, attempts: 0, passed: 0, codes: new Map() }),
      );
    count(slot, pass);
    const hour = Math.floor(end / HOUR_MS) * HOUR_MS;
    if (Number.isFinite(hour)) count(getCounts(this.hours, hour), pass);
    count(getCounts(this.lots, r.lot), pass);
    count(getCounts(this.stations, r.station), pass);
    count(getCounts(this.operators, r.operator), pass);
    let recipe = this.recipes.get(r.recipe);
    if (!recipe) {
      recipe = { attempts: 0, passed: 0, profiles: new Set(), demo: false, first: Infinity, last: -Infinity };
      this.recipes.set(r.recipe, recipe);
    }
    count(recipe, pass);
    recipe.profiles.add(r.profile);
    if (r.demoFirmware) recipe.demo = true;
    if (start < recipe.first) recipe.first = start;
    if (end > recipe.last) recipe.last = end;

    if (!pass) {
      const code = r.code ?? '(no code)';
      this.codes.set(code, (this.codes.get(code) ?? 0) + 1);
      slot.codes.set(code, (slot.codes.get(code) ?? 0) + 1);
      const message = r.message ?? '(no message)';
      const known = this.messages.get(message);
      if (known !== undefined) this.messages.set(message, known + 1);
      else if (this.messages.size < MAX_TRACKED_MESSAGES) this.messages.set(message, 1);
      else this.untrackedMessages++;
    }

    if (r.mac === undefined) {
      this.withoutMac++;
      return;
    }
    const b = this.boards;
    const i = b.slotOf(r.mac.toUpperCase());
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
    const b = this.boards;
    const n = b.size;
    return {
      attempts: this.attempts,
      passed: this.passed,
      withoutMac: this.withoutMac,
      demoAttempts: this.demoAttempts,
      firstStart: this.firstStart,
      lastEnd: this.lastEnd,
      cycle: this.cycle.toState(),
      codes: [...this.codes],
      messages: [...this.messages],
      untrackedMessages: this.untrackedMessages,
      slots: [...this.slots].map(([k, v]) => [k, { ...v, codes: [...v.codes] }]),
      hours: [...this.hours],
      recipes: [...this.recipes].map(([k, v]) => [k, { ...v, profiles: [...v.profiles] }]),
      lots: [...this.lots],
      stations: [...this.stations],
      operators: [...this.operators],
      boards: {
        macs: [...b.index.keys()],
        firstStart: b.firstStart.slice(0, n),
        lastEnd: b.lastEnd.slice(0, n),
        attempts: b.attempts.slice(0, n),
        flags: b.flags.slice(0, n),
        firstRecipe: b.firstRecipe.slice(0, n),
        lastRecipe: b.lastRecipe.slice(0, n),
        lastLot: b.lastLot.slice(0, n),
        lastSlot: b.lastSlot.slice(0, n),
        lastCode: b.lastCode.slice(0, n),
        recipes: this.recipeIds.values,
        lots: this.lotIds.values,
        slots: this.slotIds.values,
        codes: this.codeIds.values,
      },
    };
  }

  /** Adds the records behind `state`, as if they had been add()ed after everything seen so far. */
  merge(state: AggregatorState): void {
    this.attempts += state.attempts;
    this.passed += state.passed;
    this.withoutMac += state.withoutMac;
    this.demoAttempts += state.demoAttempts;
    this.firstStart = Math.min(this.firstStart, state.firstStart);
    this.lastEnd = Math.max(this.lastEnd, state.lastEnd);
    this.cycle.merge(state.cycle);
    addCounts(this.codes, state.codes);
    addCounts(this.messages, state.messages);
    this.untrackedMessages += state.untrackedMessages;
    for (const [key, other] of state.slots) {
      let slot = this.slots.get(key);
      if (!slot)
        this.slots.set(
          key,
          (slot = { station: other.station, slot: other.slot, attempts: 0, passed: 0, codes: new Map() }),
        );
      slot.attempts += other.attempts;
      slot.passed += other.passed;
      addCounts(slot.codes, other.codes);
    }
    for (const [h, c] of state.hours) sumInto(getCounts(this.hours, h), c);
    for (const [k, c] of state.lots) sumInto(getCounts(this.lots, k), c);
    for (const [k, c] of state.stations) sumInto(getCounts(this.stations, k), c);
    for (const [k, c] of state.operators) sumInto(getCounts(this.operators, k), c);
    for (const [key, other] of state.recipes) {
      let recipe = this.recipes.get(key);
      if (!recipe) {
        recipe = {
          attempts: 0,
          passed: 0,
          profiles: new Set(),
          demo: false,
          first: Infinity,
          last: -Infinity,
        };
        this.recipes.set(key, recipe);
      }
      sumInto(recipe, other);
      for (const p of other.profiles) recipe.profiles.add(p);
      recipe.demo ||= other.demo;
      recipe.first = Math.min(recipe.first, other.first);
      recipe.last = Math.max(recipe.last, other.last);
    }
    const o = state.boards;
    const recipeMap = o.recipes.map((x) => this.recipeIds.id(x));
    const lotMap = o.lots.map((x) => this.lotIds.id(x));
    const slotMap = o.slots.map((x) => this.slotIds.id(x));
    const codeMap = o.codes.map((x) => this.codeIds.id(x));
    const b = this.boards;
    for (let j = 0; j < o.macs.length; j++) {
      const i = b.slotOf(o.macs[j]);
      b.attempts[i] += o.attempts[j];
      if (o.firstStart[j] < b.firstStart[i]) {
        b.firstStart[i] = o.firstStart[j];
        b.firstRecipe[i] = recipeMap[o.firstRecipe[j]];
        b.flags[i] = (b.flags[i] & ~FIRST_PASS) | (o.flags[j] & FIRST_PASS);
      }
      if (o.lastEnd[j] >= b.lastEnd[i]) {
        b.lastEnd[i] = o.lastEnd[j];
        b.lastRecipe[i] = recipeMap[o.lastRecipe[j]];
        b.lastLot[i] = lotMap[o.lastLot[j]];
        b.lastSlot[i] = slotMap[o.lastSlot[j]];
        b.lastCode[i] = codeMap[o.lastCode[j]];
        b.flags[i] = (b.flags[i] & FIRST_PASS) | (o.flags[j] & (FINAL_PASS | DEMO));
      }
    }
  }

  /** One row per board, in first-seen order (for the board-list CSV). */
  *boardRows(): Generator<BoardRow> {
    for (const [mac, i] of this.boards.index) yield this.boardRow(mac, i);
  }

  report(meta: Pick<YieldReport, 'generatedAt' | 'ledger' | 'filter'>, failedBoardsLimit = 100): YieldReport {
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
    };

    const slotStates = [...this.slots.values()].sort(
      (x, y) => compareText(x.station, y.station) || compareText(x.slot, y.slot),
    );
    const verdicts = judgeSlots(slotStates);
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
    }));

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
        byMessage: pareto(tracked.messages, this.attempts - this.passed),
        untrackedMessages: this.untrackedMessages + tracked.dropped,
      },
      slots,
      hourly: this.hourRows(),
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
      demoFirmware: (b.flags[i] & DEMO) !== 0,
    };
  }

  private hourRows(): HourRow[] {
    if (this.hours.size === 0) return [];
    const keys = [...this.hours.keys()].sort((a, b) => a - b);
    const first = keys[0];
    const last = keys[keys.length - 1];
    const span = (last - first) / HOUR_MS + 1;
    const hours =
      span <= MAX_FILLED_HOURS ? Array.from({ length: span }, (_, k) => first + k * HOUR_MS) : keys;
    return hours.map((h) => {
      const c = this.hours.get(h) ?? { attempts: 0, passed: 0 };
      return {
        hour: new Date(h).toISOString(),
        attempts: c.attempts,
        passed: c.passed,
        failed: c.attempts - c.passed,
        yield: ratio(c.passed, c.attempts),
      };
    });
  }
}

function count(c: Counts, pass: boolean): void {
  c.attempts++;
  if (pass) c.passed++;
}

function getCounts<K>(map: Map<K, Counts>, key: K): Counts {
  let c = map.get(key);
  if (!c) map.set(key, (c = { attempts: 0, passed: 0 }));
  return c;
}

function sumInto(into: Counts, c: Counts): void {
  into.attempts += c.attempts;
  into.passed += c.passed;
}

function addCounts(into: Map<string, number>, from: Array<[string, number]>): void {
  for (const [k, n] of from) into.set(k, (into.get(k) ?? 0) + n);
}
