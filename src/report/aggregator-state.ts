/** The yield aggregator's state as plain, structured-clone-friendly data (worker threads → main thread). */
import type { CycleTimeState } from './cycle-time-histogram.ts';
import type { Counts } from './ranking.ts';

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
  messages: Array<[string, number]>;
  untrackedMessages: number;
  slots: Array<
    [
      string,
      { station: string; slot: string; attempts: number; passed: number; codes: Array<[string, number]> },
    ]
  >;
  hours: Array<[number, Counts]>;
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
