/**
 * A production line in simulated time: N slots, one operator, boards that take a measured time on the chip.
 * The operator walks a queue of requests (plug a fresh board into an empty slot, pull a finished one): each
 * request waits for the operator's attention (a reaction time after the slot shows its result) and then takes
 * the time of the hands (unplug, plug). A slot's time is split into flashing (the station and the chip at work),
 * waiting for the operator (result shown, or empty), and being handled. Event-driven and seeded: 30 minutes of
 * line run in milliseconds, so the station's own per-board time (measured, not modelled) is the only input
 * that comes from a real run.
 */
import { SeededRandom } from '../src/sim/rng.ts';

export interface LineOptions {
  slots: number;
  /** Simulated line time, s. */
  durationS: number;
  /** One board on the station, plug to result, s (measured). */
  boardS: number;
  /** The operator notices a finished slot after this long, s: uniform in [min, max]. */
  reactionS: [number, number];
  /** Pulling a board and putting it on the done tray, s. */
  unplugS: number;
  /** Taking a fresh board and plugging it, s. */
  plugS: number;
  seed?: number;
}

export interface LineResult {
  boards: number;
  boardsPerHour: number;
  /** Shares of all slot time (sum 1). */
  flashingShare: number;
  waitingForOperatorShare: number;
  handlingShare: number;
  /** Share of the operator's time spent with hands on boards. */
  operatorBusyShare: number;
  limitedBy: 'operator' | 'chip';
}

export function simulateLine(o: LineOptions): LineResult {
  const rng = new SeededRandom(o.seed ?? 17);
  const end = o.durationS;
  const reaction = () => o.reactionS[0] + rng.next() * (o.reactionS[1] - o.reactionS[0]);
  let flashing = 0;
  let handling = 0;
  let operatorBusy = 0;
  let operatorFreeAt = 0;
  let boards = 0;
  // Each slot starts empty; the operator fills them one after another at the start of the shift.
  // Per slot: the moment it needs the operator (noticed), and whether it holds a finished board.
  const needs: { slot: number; at: number; finished: boolean }[] = [];
  for (let s = 0; s < o.slots; s++) needs.push({ slot: s, at: 0, finished: false });
  while (needs.length > 0) {
    // The operator serves whichever slot was noticed first.
    needs.sort((a, b) => a.at - b.at);
    const n = needs.shift()!;
    const start = Math.max(n.at, operatorFreeAt);
    if (start >= end) continue;
    const hands = (n.finished ? o.unplugS : 0) + o.plugS;
    const plugged = Math.min(end, start + hands);
    handling += plugged - start;
    operatorBusy += plugged - start;
    operatorFreeAt = plugged;
    if (plugged >= end) continue;
    const done = plugged + o.boardS;
    flashing += Math.min(end, done) - plugged;
    if (done > end) continue;
    boards++;
    needs.push({ slot: n.slot, at: done + reaction(), finished: true });
  }
  const slotTime = o.slots * end;
  const waiting = slotTime - flashing - handling;
  const operatorBusyShare = operatorBusy / end;
  return {
    boards,
    boardsPerHour: (boards * 3600) / end,
    flashingShare: flashing / slotTime,
    waitingForOperatorShare: waiting / slotTime,
    handlingShare: handling / slotTime,
    operatorBusyShare,
    // An operator busy most of the time cannot keep more slots fed: the line waits for hands, not for chips.
    limitedBy: operatorBusyShare > 0.85 ? 'operator' : 'chip',
  };
}
