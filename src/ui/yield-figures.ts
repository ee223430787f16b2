/**
 * Yield figures computed from the station's 'result' events as the UI saw them (not from the ledger: reports do
 * that). Pure functions over a list of results so the figures are easy to test and cheap to recompute.
 */
import type { FailureCode } from '../ledger/failure-codes.ts';

export interface ResultEntry {
  time: number;
  slot: string; // portPath
  result: 'pass' | 'fail';
  /** 1 = first test of this board (per the ledger's numbering); first-pass yield counts only these. */
  attempt: number;
  durationMs: number;
  lot: string;
  code?: FailureCode;
}

export interface Tally {
  passed: number;
  failed: number;
}

export interface SlotTally extends Tally {
  slot: string;
  name: string;
  /** This slot fails far more often than the rest of the station: check its cable, hub port or pogo pins. */
  suspect: boolean;
}

export interface YieldFigures {
  lot: Tally;
  today: Tally;
  /** First-pass yield of this lot: passes on attempt 1 / boards tested for the first time. */
  firstPassYield?: number;
  /** Boards (pass + fail) finished per hour over the last hour of this lot, once ≥ 1 minute of data exists. */
  boardsPerHour?: number;
  /** Mean duration of this lot's attempts. */
  meanCycleMs?: number;
  /** Per-slot counts for this lot, in slot order. */
  perSlot: SlotTally[];
  /** This lot's failures by code, most frequent first. */
  failsByCode: Array<{ code: FailureCode | 'unknown'; count: number }>;
}

export interface YieldContext {
  lot: string;
  now: number;
  /** When counting for this lot started (lot set, or UI start); bounds the boards/hour window. */
  lotStart: number;
  /** Slots in display order with their names, so quiet slots show up with zero counts. */
  slots: ReadonlyArray<{ portPath: string; name: string }>;
}

const HOUR_MS = 3_600_000;
const MIN_RATE_WINDOW_MS = 60_000;
/** A slot is suspect with at least this many failures ... */
const SUSPECT_MIN_FAILS = 3;
/**
 * ... when that many failures would be this unlikely if the slot failed as often as the rest of the station
 * (binomial upper tail). Small enough that 32 honest slots rarely raise a false alarm (about 3 % per lot).
 */
const SUSPECT_P_VALUE = 0.001;

/** P(X ≥ k) for X ~ Binomial(n, p), summed in log space so large n does not overflow. */
export function binomialUpperTail(k: number, n: number, p: number): number {
  if (k <= 0) return 1;
  if (k > n) return 0;
  if (p <= 0) return 0;
  if (p >= 1) return 1;
  let logC = 0; // log C(n, i), built up from i = 0
  let sum = 0;
  for (let i = 0; i <= n; i++) {
    if (i > 0) logC += Math.log(n - i + 1) - Math.log(i);
    if (i >= k) sum += Math.exp(logC + i * Math.log(p) + (n - i) * Math.log1p(-p));
  }
  return Math.min(1, sum);
}

function sameLocalDay(a: number, b: number): boolean {
  const da = new Date(a);
  const db = new Date(b);
  return (
    da.getFullYear() === db.getFullYear() && da.getMonth() === db.getMonth() && da.getDate() === db.getDate()
  );
}

export function computeYield(entries: readonly ResultEntry[], ctx: YieldContext): YieldFigures {
  const lot: Tally = { passed: 0, failed: 0 };
  const today: Tally = { passed: 0, failed: 0 };
  let firstTests = 0;
  let firstPasses = 0;
  let durationSum = 0;
  let inWindow = 0;
  const windowStart = Math.max(ctx.lotStart, ctx.now - HOUR_MS);
  const perSlot = new Map<string, SlotTally>();
  for (const s of ctx.slots)
    perSlot.set(s.portPath, { slot: s.portPath, name: s.name, passed: 0, failed: 0, suspect: false });
  const byCode = new Map<FailureCode | 'unknown', number>();

  for (const e of entries) {
    if (sameLocalDay(e.time, ctx.now)) today[e.result === 'pass' ? 'passed' : 'failed']++;
    if (e.lot !== ctx.lot) continue;
    lot[e.result === 'pass' ? 'passed' : 'failed']++;
    durationSum += e.durationMs;
    if (e.attempt === 1) {
      firstTests++;
      if (e.result === 'pass') firstPasses++;
    }
    if (e.time >= windowStart) inWindow++;
    let st = perSlot.get(e.slot);
    if (!st) {
      st = { slot: e.slot, name: e.slot, passed: 0, failed: 0, suspect: false };
      perSlot.set(e.slot, st);
    }
    st[e.result === 'pass' ? 'passed' : 'failed']++;
    if (e.result === 'fail') {
      const code = e.code ?? 'unknown';
      byCode.set(code, (byCode.get(code) ?? 0) + 1);
    }
  }

  const total = lot.passed + lot.failed;
  for (const st of perSlot.values()) {
    const mine = st.passed + st.failed;
    if (st.failed < SUSPECT_MIN_FAILS || mine === 0) continue;
    const rest = total - mine;
    const restFraction = rest > 0 ? (lot.failed - st.failed) / rest : 0;
    st.suspect = binomialUpperTail(st.failed, mine, restFraction) < SUSPECT_P_VALUE;
  }

  const windowMs = ctx.now - windowStart;
  return {
    lot,
    today,
    firstPassYield: firstTests > 0 ? firstPasses / firstTests : undefined,
    boardsPerHour: windowMs >= MIN_RATE_WINDOW_MS ? (inWindow * HOUR_MS) / windowMs : undefined,
    meanCycleMs: total > 0 ? durationSum / total : undefined,
    perSlot: [...perSlot.values()],
    failsByCode: [...byCode.entries()]
      .map(([code, count]) => ({ code, count }))
      .sort((a, b) => b.count - a.count),
  };
}
