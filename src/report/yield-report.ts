/**
 * The yield report: every figure the text, CSV, JSON and HTML outputs show, computed once from the ledger.
 * This is also the `--format json` shape (REPORT_SCHEMA names its version).
 */
import type { LedgerProblem } from '../ledger/reader.ts';

export const REPORT_SCHEMA = 'esp-station.yield-report/1';

export interface ReportFilter {
  /** Attempts whose end time is at or after this instant (ISO). */
  since?: string;
  /** Attempts whose end time is before this instant (ISO). */
  until?: string;
  lots?: string[];
  stations?: string[];
  profiles?: string[];
  /** Recipe fingerprints, or their first characters (the 12 a report shows). */
  recipes?: string[];
  /** Board MACs, upper-case AA:BB:CC:DD:EE:FF. */
  macs?: string[];
  /** Board serial numbers (records that carry one). */
  serials?: string[];
}

export interface Totals {
  attempts: number;
  attemptsPassed: number;
  attemptsFailed: number;
  /** Attempts where the board never identified: counted as attempts and failures, not as boards. */
  attemptsWithoutMac: number;
  /** Unique boards by MAC. */
  boards: number;
  /** Boards whose latest attempt passed. */
  boardsPassed: number;
  /** Boards whose latest attempt failed. */
  boardsFailed: number;
  /** Boards whose first attempt (earliest start) passed. */
  boardsFirstPass: number;
  /** boardsFirstPass / boards. */
  firstPassYield: number | null;
  /** boardsPassed / boards. */
  finalYield: number | null;
  /** Attempts beyond each board's first. */
  retests: number;
  /** Boards with more than one attempt. */
  boardsRetested: number;
  /** Unique boards per hour of the window (first start to last end). */
  boardsPerHour: number | null;
  /** Attempt duration (plug-to-result per attempt), nearest-rank percentiles to 3 significant digits. */
  cycleTimeMs: { p50: number; p90: number; max: number } | null;
  /** Passed attempts that needed a retry (a region rewritten, an MD5 asked again). */
  passedAfterRetry: number;
  /** Passed attempts written below the fastest baud their station used (the baud ladder stepped down). */
  passedAtLowerBaud: number;
}

export interface PhaseRow {
  /** The ledger's phase name: connect, identify, check, stub, write, verify, reset, bootCheck. */
  phase: string;
  attempts: number;
  p50Ms: number;
  p90Ms: number;
  maxMs: number;
}

export interface TimelineRow {
  /** Start of the bin, ISO (bins are aligned to the report's time zone). */
  start: string;
  attempts: number;
  passed: number;
  failed: number;
  yield: number | null;
}

export interface ParetoRow {
  key: string;
  count: number;
  /** count / all failed attempts. */
  share: number;
  /** Running share including this row. */
  cumulative: number;
}

export interface SlotRow {
  station: string;
  slot: string;
  attempts: number;
  passed: number;
  failed: number;
  yield: number;
  verdict: 'low' | 'ok' | 'too-few';
  z: number | null;
  restYield: number | null;
  topFailure: string | null;
  /** Of this slot's passes: how many needed a retry, how many ran below the station's fastest baud. */
  passedAfterRetry: number;
  passedAtLowerBaud: number;
}

export interface HourRow {
  /** Start of the UTC hour, ISO. */
  hour: string;
  attempts: number;
  passed: number;
  failed: number;
  yield: number | null;
}

export interface GroupRow {
  key: string;
  attempts: number;
  passed: number;
  failed: number;
  yield: number | null;
}

export interface RecipeRow extends GroupRow {
  profiles: string[];
  demoFirmware: boolean;
  /** Boards whose first attempt used this recipe, and how many of them passed first time. */
  boards: number;
  boardsFirstPass: number;
  firstPassYield: number | null;
  first: string;
  last: string;
}

export interface BoardRow {
  mac: string;
  result: 'pass' | 'fail';
  attempts: number;
  first: string;
  last: string;
  recipe: string;
  lot: string;
  station: string;
  slot: string;
  /** Failure code of the latest attempt ('' when it passed). */
  code: string;
  /** The latest attempt's failure message in full ('' when it passed). */
  message: string;
  demoFirmware: boolean;
}

export interface YieldReport {
  schema: typeof REPORT_SCHEMA;
  generatedAt: string;
  ledger: {
    path: string;
    files: string[];
    /** Valid records read, before filtering. */
    records: number;
    /** Torn, corrupt or invalid lines: counted, listed (up to a limit), never fatal. */
    problemCount: number;
    problems: LedgerProblem[];
  };
  filter: ReportFilter;
  /** The time zone the human-readable formats show times in (IANA name); JSON and CSV times stay ISO UTC. */
  timeZone: string;
  window: { first: string; last: string; hours: number } | null;
  totals: Totals;
  demo: { attempts: number; recipes: string[] };
  failures: {
    byCode: ParetoRow[];
    /** Attempts failed by the post-flash test on the AT port, by its step (ready, version, mac, ...). */
    byTestStep: ParetoRow[];
    /** By message template: per-board details (MD5s, addresses, boot output) replaced by placeholders. */
    byMessage: ParetoRow[];
    /** Failed attempts whose message was not tracked because too many distinct messages appeared. */
    untrackedMessages: number;
  };
  slots: SlotRow[];
  /** Time per phase over all attempts that reached it. */
  phases: PhaseRow[];
  /** Attempts over time in bins that fit the window (binMinutes), aligned to timeZone. */
  timeline: { binMinutes: number; rows: TimelineRow[] };
  hourly: HourRow[];
  recipes: RecipeRow[];
  lots: GroupRow[];
  stations: GroupRow[];
  operators: GroupRow[];
  /** Boards whose latest attempt failed, most recent first (up to failedBoardsLimit). */
  failedBoards: BoardRow[];
  failedBoardsLimit: number;
}
