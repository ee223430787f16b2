/**
 * Where a board is in the pipeline, in the fault matrix's words, and how many wire bytes each phase spans on a
 * clean run. A byte-counted fault (disconnect, brownout, a noise burst) is armed when its phase begins, that
 * many bytes into it: how many bytes come before a phase depends on timing (a SYNC answered late on a loaded
 * machine is sent again), how many a phase itself takes does not.
 */
import type { SimBoard } from '../../src/sim/board.ts';
import type { StationEvent } from '../../src/station/events.ts';
import type { StationEventBus } from '../../src/station/events.ts';

/** connect, identify, stub (upload), baud (change), write:<region label>, verify, boot (reset + boot check). */
export type Phase = string;

/** The phase a slot is in, from its last state event and whether the stub has started since. */
export function phaseOf(state: string, message: string | undefined, stubRunning: boolean): Phase | undefined {
  switch (state) {
    case 'connecting':
      return 'connect';
    case 'identifying':
      return 'identify';
    case 'checking':
      // The guards send nothing; after them prepareWrites uploads the stub, then changes the baud.
      return stubRunning ? 'baud' : 'stub';
    case 'flashing':
      return `write:${(message ?? '').split(' @')[0]}`;
    case 'verifying':
      return 'verify';
    case 'resetting':
    case 'boot-check':
      return 'boot';
    default:
      return undefined;
  }
}

/** Follows one slot's state events so the current phase can be asked for at any moment. */
export class PhaseWatcher {
  private state = 'empty';
  private message: string | undefined;
  /** The stub took over since the last state change (the board's mode is 'off' once its link dropped). */
  private stubRunning = false;
  private last: Phase | undefined;
  private readonly off: () => void;
  private readonly onMode = (mode: string): void => {
    if (mode === 'stub') this.stubRunning = true;
    this.changed();
  };

  /** `onPhase` hears every change of phase synchronously, before the pipeline sends a byte of the new one. */
  constructor(
    bus: StationEventBus,
    slot: string,
    board: SimBoard,
    private readonly onPhase?: (phase: Phase | undefined) => void,
  ) {
    const unsubscribe = bus.subscribe((e: StationEvent) => {
      if (e.type === 'state' && e.slot === slot) {
        if (e.state !== this.state) this.stubRunning = board.mode === 'stub';
        this.state = e.state;
        this.message = e.message;
        this.changed();
      }
    });
    board.on('mode', this.onMode);
    this.off = () => {
      unsubscribe();
      board.off('mode', this.onMode);
    };
  }

  private changed(): void {
    const now = this.phase;
    if (now === this.last) return;
    this.last = now;
    this.onPhase?.(now);
  }

  get phase(): Phase | undefined {
    return phaseOf(this.state, this.message, this.stubRunning);
  }

  stop(): void {
    this.off();
  }
}

export interface PhaseSpan {
  phase: Phase;
  /** Wire bytes in both directions (what disconnect:BYTES counts) at the phase's start and end. */
  total: [number, number];
  /** Bytes received by the chip (what brownout:BYTES counts). */
  toChip: [number, number];
}

/** Records the byte counters at every phase change of a clean run; `spans()` once the board is done. */
export class PhaseRecorder {
  private readonly marks: { phase: Phase; total: number; toChip: number }[] = [];
  private readonly watcher: PhaseWatcher;

  constructor(
    bus: StationEventBus,
    slot: string,
    private readonly board: SimBoard,
  ) {
    // The stub taking over is the boundary between 'stub' and 'baud'; the watcher hears it from the board.
    this.watcher = new PhaseWatcher(bus, slot, board, (phase) => {
      if (phase === undefined) return;
      const { toChip, toHost } = this.board.stats;
      this.marks.push({ phase, total: toChip + toHost, toChip });
    });
  }

  spans(): PhaseSpan[] {
    this.watcher.stop();
    const { toChip, toHost } = this.board.stats;
    const end = { total: toChip + toHost, toChip };
    return this.marks.map((m, i) => {
      const next = this.marks[i + 1] ?? end;
      return { phase: m.phase, total: [m.total, next.total], toChip: [m.toChip, next.toChip] };
    });
  }
}

/**
 * Arms `fault(start)` on `board` the first time its slot enters `phase`; `start` holds the board's byte
 * counters at that moment. Returns the fault as armed (undefined until then) and a stop function.
 */
export function armAtPhase(
  bus: StationEventBus,
  slot: string,
  board: SimBoard,
  phase: Phase,
  fault: (start: { total: number; toChip: number }) => string,
): { watcher: PhaseWatcher; armed: () => string | undefined } {
  let armed: string | undefined;
  const watcher = new PhaseWatcher(bus, slot, board, (p) => {
    if (p !== phase || armed !== undefined) return;
    const { toChip, toHost } = board.stats;
    armed = fault({ total: toChip + toHost, toChip });
    board.armFault(armed);
  });
  return { watcher, armed: () => armed };
}
