/**
 * The yield figures on the screen are the report's own: each recorded result is handed, as the attempt the
 * ledger holds, to the report's aggregator (src/report), so first-pass yield, boards per hour, cycle time and the
 * suspect-slot test are defined once and the screen and `esp-station report` agree on the same run. The screen
 * counts the current lot (a report filtered by that lot) and today's attempts.
 */
import type { LedgerRecord } from '../ledger/record.ts';
import type { FailureCode } from '../ledger/failure-codes.ts';
import { YieldAggregator } from '../report/yield-aggregator.ts';

/** A recorded result as the screen saw it; together with the header it is the attempt the ledger holds. */
export interface ResultEntry {
  /** When the attempt started and how long it took (the ledger's start; end = start + durationMs). */
  start: number;
  durationMs: number;
  /** Slot name as recorded (the ledger's `slot`) and its port path (the screen's key). */
  slotName: string;
  slot: string;
  result: 'pass' | 'fail';
  mac?: string;
  code?: FailureCode;
  message?: string;
  lot: string;
  operator: string;
}

export interface Tally {
  passed: number;
  failed: number;
}

export interface SlotTally extends Tally {
  slot: string;
  name: string;
  /** The report flags this slot LOW: check its cable, hub port or pogo pins. */
  suspect: boolean;
}

export interface YieldFigures {
  /** This lot's attempts. */
  lot: Tally;
  today: Tally;
  /** Boards (distinct MACs) of this lot, and how many passed their first attempt. */
  boards: number;
  /** Boards whose earliest attempt passed ÷ boards (attempts without a MAC are not boards). */
  firstPassYield?: number;
  /** Boards ÷ hours from the lot's first start to its last end. */
  boardsPerHour?: number;
  /** Median attempt duration of the lot. */
  cycleMs?: number;
  /** Per-slot attempt counts for this lot, in screen order. */
  perSlot: SlotTally[];
  /** This lot's failures by code, most frequent first. */
  failsByCode: Array<{ code: FailureCode | 'unknown'; count: number }>;
}

export interface LotContext {
  station: string;
  profile: string;
  recipe: string;
  demoFirmware: boolean;
}

/** The ledger record an entry stands for, as far as yield figures read it. */
export function attemptOf(e: ResultEntry, ctx: LotContext): LedgerRecord {
  const start = new Date(e.start).toISOString();
  return {
    v: 1,
    id: `${ctx.station}/${start}/${e.slot}`,
    start,
    end: new Date(e.start + e.durationMs).toISOString(),
    station: ctx.station,
    slot: e.slotName,
    portPath: e.slot,
    port: '',
    operator: e.operator,
    lot: e.lot,
    ...(e.mac !== undefined && { mac: e.mac }),
    profile: ctx.profile,
    recipe: ctx.recipe,
    ...(ctx.demoFirmware && { demoFirmware: true }),
    regions: [],
    phases: {},
    durationMs: e.durationMs,
    result: e.result,
    ...(e.code !== undefined && { code: e.code }),
    ...(e.message !== undefined && { message: e.message }),
    attempt: 1,
  };
}

function sameLocalDay(a: number, b: number): boolean {
  const da = new Date(a);
  const db = new Date(b);
  return (
    da.getFullYear() === db.getFullYear() && da.getMonth() === db.getMonth() && da.getDate() === db.getDate()
  );
}

/**
 * Figures for one lot, kept as results arrive (the aggregator holds a few dozen bytes per board), plus today's
 * tally. `figures()` runs the report's computation; the store calls it only when something changed.
 */
export class LotYield {
  private readonly aggregator = new YieldAggregator();
  private todayTally: Tally = { passed: 0, failed: 0 };
  private day = 0;

  constructor(
    readonly lot: string,
    private readonly ctx: LotContext,
    /** Today's tally carries over from the previous lot. */
    today?: { day: number; tally: Tally },
  ) {
    if (today) {
      this.day = today.day;
      this.todayTally = { ...today.tally };
    }
  }

  add(e: ResultEntry, now: number): void {
    if (!sameLocalDay(this.day, now)) {
      this.day = now;
      this.todayTally = { passed: 0, failed: 0 };
    }
    this.todayTally[e.result === 'pass' ? 'passed' : 'failed']++;
    if (e.lot === this.lot) this.aggregator.add(attemptOf(e, this.ctx));
  }

  /** Today's tally, to hand to the next lot. */
  today(now: number): { day: number; tally: Tally } {
    return sameLocalDay(this.day, now)
      ? { day: this.day, tally: { ...this.todayTally } }
      : { day: now, tally: { passed: 0, failed: 0 } };
  }

  figures(now: number, slots: ReadonlyArray<{ portPath: string; name: string }>): YieldFigures {
    const report = this.aggregator.report(
      { generatedAt: new Date(now).toISOString(), ledger: emptyLedger, filter: {} },
      0,
    );
    const t = report.totals;
    const bySlotName = new Map(report.slots.map((s) => [s.slot, s]));
    const perSlot: SlotTally[] = slots.map(({ portPath, name }) => {
      const row = bySlotName.get(name);
      bySlotName.delete(name);
      return {
        slot: portPath,
        name,
        passed: row?.passed ?? 0,
        failed: row?.failed ?? 0,
        suspect: row?.verdict === 'low',
      };
    });
    return {
      lot: { passed: t.attemptsPassed, failed: t.attemptsFailed },
      today: this.today(now).tally,
      boards: t.boards,
      ...(t.firstPassYield !== null && { firstPassYield: t.firstPassYield }),
      ...(t.boardsPerHour !== null && { boardsPerHour: t.boardsPerHour }),
      ...(t.cycleTimeMs && { cycleMs: t.cycleTimeMs.p50 }),
      perSlot,
      failsByCode: report.failures.byCode.map((r) => ({
        code: r.key === '(no code)' ? 'unknown' : (r.key as FailureCode),
        count: r.count,
      })),
    };
  }
}

const emptyLedger = { path: '', files: [], records: 0, problemCount: 0, problems: [] };
