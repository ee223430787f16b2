/**
 * What an engineer asks after the yield: where the time goes (per phase), which boards passed only after a retry
 * or at a lower baud than the station's fastest (the early sign of a bad cable or pogo pin, per slot), and what
 * each failed board's message said in full (the Pareto groups messages by template).
 */
import type { LedgerRecord } from '../ledger/record.ts';
import { CycleTimeHistogram } from './cycle-time-histogram.ts';
import type { CycleTimeState } from './cycle-time-histogram.ts';
import type { PhaseRow } from './yield-report.ts';

interface SlotDetail {
  /** Passed attempts that needed a retry (a region rewritten, an MD5 asked again). */
  passedRetried: number;
  /** Passed attempts by the baud they were written at. */
  passBauds: Map<number, number>;
  /** Fastest baud any attempt at this slot used. */
  maxBaud: number;
}

export interface DetailsState {
  phases: Array<[string, CycleTimeState]>;
  slots: Array<[string, { passedRetried: number; passBauds: Array<[number, number]>; maxBaud: number }]>;
  /** Each board whose latest attempt failed: MAC, that attempt's end and its message. */
  failMessages: Array<[string, number, string]>;
}

/** The order phases happen in; phases a later version adds go after these, by name. */
const PHASE_ORDER = ['connect', 'identify', 'check', 'stub', 'write', 'verify', 'reset', 'bootCheck'];

export function retriesOf(r: Pick<LedgerRecord, 'regions'>): number {
  let n = 0;
  for (const region of r.regions) n += region.retries;
  return n;
}

export class AttemptDetails {
  private readonly phases = new Map<string, CycleTimeHistogram>();
  private readonly slots = new Map<string, SlotDetail>();
  private readonly failMessages = new Map<string, { end: number; message: string }>();

  /** `latest`: this attempt is now the latest of its board (its MAC), so its message is the board's. */
  add(r: LedgerRecord, slotKey: string, end: number, latest: boolean): void {
    for (const [phase, ms] of Object.entries(r.phases)) {
      let h = this.phases.get(phase);
      if (!h) this.phases.set(phase, (h = new CycleTimeHistogram()));
      h.add(ms);
    }
    const slot = this.slot(slotKey);
    if (r.baud !== undefined && r.baud > slot.maxBaud) slot.maxBaud = r.baud;
    if (r.result === 'pass') {
      if (retriesOf(r) > 0) slot.passedRetried++;
      if (r.baud !== undefined) slot.passBauds.set(r.baud, (slot.passBauds.get(r.baud) ?? 0) + 1);
    }
    if (r.mac !== undefined && latest) {
      const mac = r.mac.toUpperCase();
      if (r.result === 'fail') this.failMessages.set(mac, { end, message: r.message ?? '' });
      else this.failMessages.delete(mac);
    }
  }

  toState(): DetailsState {
    return {
      phases: [...this.phases].map(([k, h]) => [k, h.toState()]),
      slots: [...this.slots].map(([k, s]) => [k, { ...s, passBauds: [...s.passBauds] }]),
      failMessages: [...this.failMessages].map(([mac, f]) => [mac, f.end, f.message]),
    };
  }

  /** Adds another part's details; `boardLastEnd` is this side's latest end of a board before the merge. */
  merge(state: DetailsState, boardLastEnd: (mac: string) => number): void {
    for (const [k, h] of state.phases) {
      let mine = this.phases.get(k);
      if (!mine) this.phases.set(k, (mine = new CycleTimeHistogram()));
      mine.merge(h);
    }
    for (const [k, s] of state.slots) {
      const mine = this.slot(k);
      mine.passedRetried += s.passedRetried;
      mine.maxBaud = Math.max(mine.maxBaud, s.maxBaud);
      for (const [baud, n] of s.passBauds) mine.passBauds.set(baud, (mine.passBauds.get(baud) ?? 0) + n);
    }
    // The same rule as the board table: the other part's latest attempt wins a tie, as in one pass.
    for (const [mac, end, message] of state.failMessages) {
      if (end >= boardLastEnd(mac)) this.failMessages.set(mac, { end, message });
    }
  }

  /** After a merge: a board whose latest attempt (across parts) passed has no failure message. */
  dropPassed(isFinalPass: (mac: string) => boolean): void {
    for (const mac of this.failMessages.keys()) if (isFinalPass(mac)) this.failMessages.delete(mac);
  }

  failMessage(mac: string): string {
    return this.failMessages.get(mac)?.message ?? '';
  }

  phaseRows(): PhaseRow[] {
    const rank = (p: string) => {
      const i = PHASE_ORDER.indexOf(p);
      return i === -1 ? PHASE_ORDER.length : i;
    };
    return [...this.phases]
      .sort(([a], [b]) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0))
      .map(([phase, h]) => ({
        phase,
        attempts: h.count,
        p50Ms: h.percentile(50) as number,
        p90Ms: h.percentile(90) as number,
        maxMs: h.max as number,
      }));
  }

  /** Passed attempts at this slot that needed a retry, and that were written below `fastest` baud. */
  slotFigures(slotKey: string, fastest: number): { passedAfterRetry: number; passedAtLowerBaud: number } {
    const s = this.slots.get(slotKey);
    if (!s) return { passedAfterRetry: 0, passedAtLowerBaud: 0 };
    let lower = 0;
    for (const [baud, n] of s.passBauds) if (baud < fastest) lower += n;
    return { passedAfterRetry: s.passedRetried, passedAtLowerBaud: lower };
  }

  maxBaud(slotKey: string): number {
    return this.slots.get(slotKey)?.maxBaud ?? 0;
  }

  private slot(key: string): SlotDetail {
    let s = this.slots.get(key);
    if (!s) this.slots.set(key, (s = { passedRetried: 0, passBauds: new Map(), maxBaud: 0 }));
    return s;
  }
}
