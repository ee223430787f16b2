/**
 * A simulated operator and tray for `run --simulate N`: plugs N simulated boards into the virtual USB bus over
 * time (a few slots, each taking the next board once the previous one was removed), pulls each board a moment
 * after its result, and sometimes pulls one mid-write when the fault mix says so. Seeded: same seed, same day.
 */
import type { SimBoardOptions } from '../sim/board.ts';
import { SimBoard } from '../sim/board.ts';
import { SeededRandom } from '../sim/rng.ts';
import { AT_CHANNEL, type VirtualUsbBus } from '../sim/usb-bus.ts';
import type { StationEvent, StationEventBus } from '../station/events.ts';
import type { FaultMix } from './fault-mix.ts';
import { boardRecipe } from './fault-mix.ts';

/** Every simulated board sits behind a CP2105, whose second channel reaches ESP-AT's AT port (interface 1). */
export const SIM_BRIDGE = '10c4:ea70';
export const SIM_AT_INTERFACE = AT_CHANNEL;

export interface SimOperatorOptions {
  bus: VirtualUsbBus;
  events: StationEventBus;
  boards: number;
  mix: FaultMix;
  timing: 'fast' | 'realistic';
  /** Physical positions on the virtual hub (default min(boards, 8)). */
  positions?: number;
  seed?: number;
  /** Operator delays in ms: before plugging the next board, and before pulling a finished one. */
  plugDelayMs?: [number, number];
  removeDelayMs?: [number, number];
  /** Chip of the good boards (the profile's chip). */
  chip?: SimBoardOptions['chip'];
  /** Revision of the good boards (default: what ships today). */
  revision?: number;
  /** USB latency timer of every board's bridge, ms (FTDI: 16); 0/absent = off. For benchmarks. */
  usbLatencyMs?: number;
  signal?: AbortSignal;
}

export interface SimulatedBoard {
  index: number;
  portPath: string;
  board: SimBoard;
  faults: string[];
  variations: string[];
  /** The station started on this board (a late result of the previous board in the slot is not ours). */
  started: boolean;
}

/** Kernel-style port paths of a 2-level hub tree: 1-1.1 … 1-1.4, 1-2.1 … */
export function simPortPath(position: number): string {
  return `1-${Math.floor(position / 4) + 1}.${(position % 4) + 1}`;
}

export class SimOperator {
  readonly plugged: SimulatedBoard[] = [];
  private readonly rng: SeededRandom;
  private readonly timers = new Set<NodeJS.Timeout>();
  private next = 0;
  private readonly current = new Map<string, SimulatedBoard>();
  private unsubscribe: (() => void) | undefined;
  private finished = 0;
  private doneResolve!: () => void;
  /** Resolves once every board has a result and was pulled. */
  readonly done: Promise<void>;

  constructor(private readonly opts: SimOperatorOptions) {
    this.rng = new SeededRandom(opts.seed ?? 1);
    this.done = new Promise((r) => (this.doneResolve = r));
  }

  start(): void {
    this.unsubscribe = this.opts.events.subscribe((e) => this.onEvent(e));
    const positions = Math.max(1, Math.min(this.opts.positions ?? 8, this.opts.boards));
    for (let p = 0; p < positions; p++) this.schedulePlug(simPortPath(p));
    if (this.opts.boards === 0) this.doneResolve();
  }

  stop(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.unsubscribe?.();
  }

  private later(ms: number, fn: () => void): void {
    if (this.opts.signal?.aborted) return;
    const t = setTimeout(() => {
      this.timers.delete(t);
      if (!this.opts.signal?.aborted) fn();
    }, ms);
    this.timers.add(t);
  }

  private between([lo, hi]: [number, number]): number {
    return lo + this.rng.next() * (hi - lo);
  }

  private schedulePlug(portPath: string): void {
    if (this.next >= this.opts.boards) return;
    const index = this.next++;
    const fast = this.opts.timing === 'fast';
    this.later(this.between(this.opts.plugDelayMs ?? (fast ? [0, 30] : [300, 2500])), () =>
      this.plug(portPath, index),
    );
  }

  private plug(portPath: string, index: number): void {
    const seed = this.opts.seed ?? 1;
    const recipe = boardRecipe(this.opts.mix, index, seed);
    const v = new Set(recipe.variations);
    const board = new SimBoard({
      chip: v.has('wrong-chip') ? 'esp32s3' : (this.opts.chip ?? 'esp32'),
      ...(!v.has('wrong-chip') && this.opts.revision !== undefined && { revision: this.opts.revision }),
      flashSize: v.has('small-flash') ? '2MB' : '4MB',
      timing: this.opts.timing,
      faults: recipe.faults,
      seed: seed * 1000 + index + 1,
      mac: simulatedMac(seed, index),
      ...(this.opts.usbLatencyMs !== undefined && { usbLatencyMs: this.opts.usbLatencyMs }),
    });
    const sim: SimulatedBoard = {
      index,
      portPath,
      board,
      faults: recipe.faults,
      variations: recipe.variations,
      started: false,
    };
    this.plugged.push(sim);
    this.current.set(portPath, sim);
    // A dual bridge (CP2105): channel 0 flashes the board, channel 1 is wired to its AT port.
    this.opts.bus.plugBoard(portPath, board, { vidPid: SIM_BRIDGE });
  }

  private onEvent(e: StationEvent): void {
    if (!('slot' in e)) return;
    const sim = this.current.get(e.slot);
    if (!sim) return;
    if (e.type === 'state' && e.state === 'connecting') sim.started = true;
    if (!sim.started) return;
    if (
      e.type === 'progress' &&
      sim.variations.includes('unplug') &&
      e.progress.overallDone > e.progress.overallTotal / 3
    ) {
      // The operator knocks the board out mid-write.
      sim.variations = sim.variations.filter((x) => x !== 'unplug');
      this.pull(e.slot);
    } else if (e.type === 'result') {
      const fast = this.opts.timing === 'fast';
      this.later(this.between(this.opts.removeDelayMs ?? (fast ? [0, 20] : [500, 2000])), () =>
        this.pull(e.slot),
      );
    } else if (e.type === 'slot-detached') {
      // The board fell out on its own (link-loss fault): treat it as removed.
      this.pull(e.slot);
    }
  }

  private pull(portPath: string): void {
    if (!this.current.has(portPath)) return;
    this.current.delete(portPath);
    this.opts.bus.unplug(portPath);
    this.finished++;
    if (this.finished >= this.opts.boards) this.doneResolve();
    else this.schedulePlug(portPath);
  }
}

/**
 * A MAC per (seed, board index), as unique as real boards' MACs: Espressif's OUI, then a 24-bit device part that
 * starts at a point hashed from the seed, so two runs with different seeds give different boards (a real line
 * never sees the same MAC twice unless it is a retest) while one seed always gives the same boards.
 */
export function simulatedMac(seed: number, index: number): string {
  const start = Math.imul(seed ^ 0x5bd1e995, 0x9e3779b1) >>> 8;
  const device = (start + index) & 0xffffff;
  const bytes = [0x24, 0x0a, 0xc4, device >>> 16, (device >>> 8) & 0xff, device & 0xff];
  return bytes.map((b) => b.toString(16).padStart(2, '0').toUpperCase()).join(':');
}
