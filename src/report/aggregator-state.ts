/**
 * The yield aggregator's state: its live tables, and the same as plain, structured-clone-friendly data
 * (worker threads → main thread), with the code that turns one into the other and merges a worker's part.
 */
import type { CycleTimeHistogram, CycleTimeState } from './cycle-time-histogram.ts';
import { DEMO, FINAL_PASS, FIRST_PASS, type BoardTable, type Interner } from './board-table.ts';
import type { Counts } from './ranking.ts';
import type { AttemptDetails, DetailsState } from './attempt-details.ts';
import type { Timeline, TimelineState } from './timeline.ts';

export interface RecipeState extends Counts {
  profiles: Set<string>;
  demo: boolean;
  first: number;
  last: number;
}

export interface SlotState extends Counts {
  station: string;
  slot: string;
  codes: Map<string, number>;
}

/** The tables a YieldAggregator keeps while records stream in (its fields); the counters are the state's. */
export interface AggregatorTables extends Pick<
  AggregatorState,
  | 'attempts'
  | 'passed'
  | 'withoutMac'
  | 'demoAttempts'
  | 'firstStart'
  | 'lastEnd'
  | 'untrackedMessages'
  | 'passedAfterRetry'
> {
  readonly cycle: CycleTimeHistogram;
  readonly boards: BoardTable;
  readonly recipeIds: Interner;
  readonly lotIds: Interner;
  readonly slotIds: Interner;
  readonly codeIds: Interner;
  readonly codes: Map<string, number>;
  readonly testSteps: Map<string, number>;
  readonly messages: Map<string, number>;
  readonly slots: Map<string, SlotState>;
  readonly timeline: Timeline;
  readonly details: AttemptDetails;
  readonly recipes: Map<string, RecipeState>;
  readonly lots: Map<string, Counts>;
  readonly stations: Map<string, Counts>;
  readonly operators: Map<string, Counts>;
}

/**
 * Everything an aggregator knows, as structured-clone-friendly data: workers aggregate byte ranges of the
 * ledger and the main thread merges their states (in ledger order, so ties resolve as in one pass).
 */
export interface AggregatorState {
  attempts: number;
  passed: number;
  withoutMac: number;
  demoAttempts: number;
  firstStart: number;
  lastEnd: number;
  cycle: CycleTimeState;
  codes: Array<[string, number]>;
  /** Failed attempts by the step of the post-flash test that failed them. */
  testSteps: Array<[string, number]>;
  messages: Array<[string, number]>;
  untrackedMessages: number;
  slots: Array<
    [
      string,
      { station: string; slot: string; attempts: number; passed: number; codes: Array<[string, number]> },
    ]
  >;
  timeline: TimelineState;
  details: DetailsState;
  passedAfterRetry: number;
  recipes: Array<
    [
      string,
      { attempts: number; passed: number; profiles: string[]; demo: boolean; first: number; last: number },
    ]
  >;
  lots: Array<[string, Counts]>;
  stations: Array<[string, Counts]>;
  operators: Array<[string, Counts]>;
  boards: {
    macs: string[];
    firstStart: Float64Array;
    lastEnd: Float64Array;
    attempts: Uint32Array;
    flags: Uint8Array;
    /** Indexes into the string tables below. */
    firstRecipe: Uint32Array;
    lastRecipe: Uint32Array;
    lastLot: Uint32Array;
    lastSlot: Uint32Array;
    lastCode: Uint32Array;
    recipes: string[];
    lots: string[];
    slots: string[];
    codes: string[];
  };
}

export function toAggregatorState(t: AggregatorTables): AggregatorState {
  const b = t.boards;
  const n = b.size;
  return {
    attempts: t.attempts,
    passed: t.passed,
    withoutMac: t.withoutMac,
    demoAttempts: t.demoAttempts,
    firstStart: t.firstStart,
    lastEnd: t.lastEnd,
    cycle: t.cycle.toState(),
    codes: [...t.codes],
    testSteps: [...t.testSteps],
    messages: [...t.messages],
    untrackedMessages: t.untrackedMessages,
    slots: [...t.slots].map(([k, v]) => [k, { ...v, codes: [...v.codes] }]),
    timeline: t.timeline.toState(),
    details: t.details.toState(),
    passedAfterRetry: t.passedAfterRetry,
    recipes: [...t.recipes].map(([k, v]) => [k, { ...v, profiles: [...v.profiles] }]),
    lots: [...t.lots],
    stations: [...t.stations],
    operators: [...t.operators],
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
      recipes: t.recipeIds.values,
      lots: t.lotIds.values,
      slots: t.slotIds.values,
      codes: t.codeIds.values,
    },
  };
}

/** Adds the records behind `state` to `t`, as if they had been added after everything seen so far. */
export function mergeAggregatorState(t: AggregatorTables, state: AggregatorState): void {
  t.attempts += state.attempts;
  t.passed += state.passed;
  t.withoutMac += state.withoutMac;
  t.demoAttempts += state.demoAttempts;
  t.firstStart = Math.min(t.firstStart, state.firstStart);
  t.lastEnd = Math.max(t.lastEnd, state.lastEnd);
  t.cycle.merge(state.cycle);
  addCounts(t.codes, state.codes);
  addCounts(t.testSteps, state.testSteps);
  addCounts(t.messages, state.messages);
  t.untrackedMessages += state.untrackedMessages;
  for (const [key, other] of state.slots) {
    const slot = getSlot(t.slots, key, other.station, other.slot);
    slot.attempts += other.attempts;
    slot.passed += other.passed;
    addCounts(slot.codes, other.codes);
  }
  t.timeline.merge(state.timeline);
  t.passedAfterRetry += state.passedAfterRetry;
  // Before the boards merge: which side's latest attempt of a board is later decides its message.
  t.details.merge(state.details, (mac) => {
    const i = t.boards.index.get(mac);
    return i === undefined ? -Infinity : t.boards.lastEnd[i];
  });
  for (const [k, c] of state.lots) sumInto(getCounts(t.lots, k), c);
  for (const [k, c] of state.stations) sumInto(getCounts(t.stations, k), c);
  for (const [k, c] of state.operators) sumInto(getCounts(t.operators, k), c);
  for (const [key, other] of state.recipes) {
    const recipe = getRecipe(t.recipes, key);
    sumInto(recipe, other);
    for (const p of other.profiles) recipe.profiles.add(p);
    recipe.demo ||= other.demo;
    recipe.first = Math.min(recipe.first, other.first);
    recipe.last = Math.max(recipe.last, other.last);
  }
  const o = state.boards;
  const recipeMap = o.recipes.map((x) => t.recipeIds.id(x));
  const lotMap = o.lots.map((x) => t.lotIds.id(x));
  const slotMap = o.slots.map((x) => t.slotIds.id(x));
  const codeMap = o.codes.map((x) => t.codeIds.id(x));
  const b = t.boards;
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
  t.details.dropPassed((mac) => {
    const i = b.index.get(mac);
    return i !== undefined && (b.flags[i] & FINAL_PASS) !== 0;
  });
}

export function getCounts<K>(map: Map<K, Counts>, key: K): Counts {
  let c = map.get(key);
  if (!c) map.set(key, (c = { attempts: 0, passed: 0 }));
  return c;
}

export function getSlot(map: Map<string, SlotState>, key: string, station: string, slot: string): SlotState {
  let s = map.get(key);
  if (!s) map.set(key, (s = { station, slot, attempts: 0, passed: 0, codes: new Map() }));
  return s;
}

export function getRecipe(map: Map<string, RecipeState>, key: string): RecipeState {
  let r = map.get(key);
  if (!r) {
    r = { attempts: 0, passed: 0, profiles: new Set(), demo: false, first: Infinity, last: -Infinity };
    map.set(key, r);
  }
  return r;
}

function sumInto(into: Counts, c: Counts): void {
  into.attempts += c.attempts;
  into.passed += c.passed;
}

function addCounts(into: Map<string, number>, from: Array<[string, number]>): void {
  for (const [k, n] of from) into.set(k, (into.get(k) ?? 0) + n);
}
