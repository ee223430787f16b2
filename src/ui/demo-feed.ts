/**
 * Realistic fake station events for running and measuring the UI without a station: boards are plugged into
 * slots, walk through the pipeline at believable speeds, a few fail for believable reasons, and operators remove
 * them. Not the simulated chip (src/sim): this only produces events, for the UI's demo, tests and bench.
 */
import { setMaxListeners } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import type { BoardInfo, SlotState, StationEvent, StationEventBus } from '../station/events.ts';
import type { FailureCode } from '../ledger/failure-codes.ts';
import type { SlotConfig } from './controls.ts';

/** The ESP-AT v3.4.0.0 ESP32-WROOM-32 image set (offset, label, bytes), as flashed in order. */
export const DEMO_REGIONS: ReadonlyArray<{ offset: number; label: string; size: number }> = [
  { offset: 0x1000, label: 'bootloader', size: 25_392 },
  { offset: 0x8000, label: 'partition-table', size: 3_072 },
  { offset: 0x10000, label: 'otadata', size: 8_192 },
  { offset: 0x20000, label: 'at_customize', size: 3_072 },
  { offset: 0x21000, label: 'mfg_nvs', size: 114_688 },
  { offset: 0x100000, label: 'app', size: 1_477_168 },
];

/** Where each failure shows up in the pipeline, and the sentence a station would attach to it. */
const FAULTS: ReadonlyArray<{ code: FailureCode; at: SlotState; message: string }> = [
  { code: 'no-sync', at: 'connecting', message: 'no answer to SYNC after 7 tries' },
  { code: 'wrong-chip', at: 'identifying', message: 'found ESP32-S2, profile wants ESP32' },
  { code: 'write-error', at: 'flashing', message: 'FLASH_DEFL_DATA failed at 0x1a4000 (status 0xc1)' },
  { code: 'verify-mismatch', at: 'verifying', message: 'app MD5 differs at 0x100000' },
  { code: 'timeout', at: 'flashing', message: 'no reply for 3 s during app write' },
  { code: 'boot-check-failed', at: 'boot-check', message: 'no "ready" from ESP-AT within 5 s of reset' },
];

export interface DemoFeedOptions {
  bus: StationEventBus;
  slots: readonly SlotConfig[];
  signal: AbortSignal;
  /** Time scale: 1 = real speed, 10 = ten times faster. */
  speed?: number;
  /** Progress events per second per flashing board (a real station emits 20-50). */
  progressHz?: number;
  /** Fraction of boards that fail (default 0.07). */
  faultRate?: number;
  /** Slots with a bad contact that fail far more often, so the yield panel's suspect marker shows. */
  badSlots?: readonly string[];
  /** Deterministic randomness for tests. */
  random?: () => number;
  /** While true, no new board is started (boards in flight finish). */
  isPaused?: () => boolean;
  /** While true, operators do not plug new boards in (stopping). */
  isStopping?: () => boolean;
}

export interface DemoFeed {
  readonly inFlight: number;
  /** Resolves when every slot loop has ended (after the signal aborts). */
  readonly done: Promise<void>;
}

/** A small seeded PRNG (mulberry32) so demo runs and tests can be repeated. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function isAbort(err: unknown): boolean {
  return (err as Error)?.name === 'AbortError';
}

export function startDemoFeed(opts: DemoFeedOptions): DemoFeed {
  const speed = opts.speed ?? 1;
  const hz = opts.progressHz ?? 20;
  const faultRate = opts.faultRate ?? 0.07;
  const random = opts.random ?? Math.random;
  const bad = new Set(opts.badSlots ?? []);
  const { bus, signal } = opts;
  // Every slot loop waits on the same signal (a couple of listeners per slot at any time).
  setMaxListeners(Math.max(10, opts.slots.length * 4), signal);
  let inFlight = 0;
  let macCounter = Math.floor(random() * 0xffff);

  const emit = (e: StationEvent): void => bus.publish(e);
  const wait = (ms: number): Promise<void> => sleep(ms / speed, undefined, { signal });
  const between = (lo: number, hi: number): number => lo + random() * (hi - lo);

  const newBoard = (): BoardInfo => {
    macCounter = (macCounter + 1 + Math.floor(random() * 40)) & 0xffffff;
    const tail = [16, 8, 0].map((s) =>
      ((macCounter >> s) & 0xff).toString(16).padStart(2, '0').toUpperCase(),
    );
    return {
      chip: 'esp32',
      chipDisplay: 'ESP32',
      revision: 301,
      mac: `24:0A:C4:${tail.join(':')}`,
      flashId: 0x1640ef,
      flashSizeBytes: 4 * 1024 * 1024,
      secureBoot: false,
      flashEncryption: false,
      crystalMhz: 40,
    };
  };

  async function runBoard(slot: SlotConfig, index: number): Promise<void> {
    const started = Date.now();
    const board = newBoard();
    // Retests (attempt 2) are boards that failed earlier and came back from rework.
    const attempt = random() < 0.04 ? 2 : 1;
    const fault =
      random() < faultRate * (bad.has(slot.portPath) ? 6 : 1)
        ? FAULTS[Math.floor(random() * FAULTS.length)]
        : undefined;
    const state = async (
      s: SlotState,
      ms: number,
      extra: Partial<Extract<StationEvent, { type: 'state' }>> = {},
    ) => {
      emit({ type: 'state', time: Date.now(), slot: slot.portPath, state: s, attempt, ...extra });
      if (fault?.at === s && fault.at !== 'flashing' && fault.at !== 'verifying') {
        await wait(ms * between(1, 3));
        throw fault;
      }
      await wait(ms * between(0.8, 1.3));
    };

    const writeRegions = async (phase: 'flashing' | 'verifying', bytesPerSecond: number): Promise<void> => {
      const overallTotal = DEMO_REGIONS.reduce((n, r) => n + r.size, 0);
      const failAt = fault?.at === phase ? between(0.2, 0.9) * overallTotal : Infinity;
      let overallDone = 0;
      const stepMs = 1000 / hz;
      for (const [regionIndex, r] of DEMO_REGIONS.entries()) {
        let regionDone = 0;
        while (regionDone < r.size) {
          const rate = bytesPerSecond * between(0.9, 1.1);
          const step = Math.min(r.size - regionDone, Math.max(1024, (rate * speed) / hz));
          regionDone += step;
          overallDone += step;
          emit({
            type: 'progress',
            time: Date.now(),
            slot: slot.portPath,
            progress: {
              regionIndex,
              regionCount: DEMO_REGIONS.length,
              regionOffset: r.offset,
              regionLabel: r.label,
              regionDone,
              regionTotal: r.size,
              overallDone,
              overallTotal,
              bytesPerSecond: rate,
              etaSeconds: (overallTotal - overallDone) / rate,
            },
          });
          if (overallDone >= failAt) throw fault;
          await wait(stepMs * speed);
        }
      }
    };

    inFlight++;
    try {
      await state('connecting', 700, { message: 'reset into download mode' });
      await state('identifying', 250, { board, baud: 921_600 });
      await state('checking', 200, { board, baud: 921_600 });
      emit({ type: 'state', time: Date.now(), slot: slot.portPath, state: 'flashing', attempt, board });
      await writeRegions('flashing', between(330, 420) * 1024);
      emit({ type: 'state', time: Date.now(), slot: slot.portPath, state: 'verifying', attempt, board });
      await writeRegions('verifying', 2_400 * 1024);
      await state('resetting', 300, { board });
      await state('boot-check', 900, { board, message: 'waiting for "ready"' });
      emit({ type: 'state', time: Date.now(), slot: slot.portPath, state: 'pass', attempt, board });
      emit({
        type: 'result',
        time: Date.now(),
        slot: slot.portPath,
        result: 'pass',
        board,
        durationMs: Date.now() - started,
        attempt,
        recorded: true,
      });
    } catch (err) {
      if (isAbort(err)) throw err;
      const f = err as (typeof FAULTS)[number];
      emit({ type: 'state', time: Date.now(), slot: slot.portPath, state: 'fail', attempt, board });
      emit({
        type: 'result',
        time: Date.now(),
        slot: slot.portPath,
        result: 'fail',
        code: f.code,
        message: f.message,
        board: f.at === 'connecting' ? undefined : board,
        durationMs: Date.now() - started,
        attempt,
        recorded: true,
      });
      if (index % 5 === 0) {
        emit({
          type: 'log',
          time: Date.now(),
          slot: slot.portPath,
          level: 'warn',
          message: `${f.code}: ${f.message}`,
        });
      }
    } finally {
      inFlight--;
    }
    emit({ type: 'awaiting-removal', time: Date.now(), slot: slot.portPath });
  }

  async function slotLoop(slot: SlotConfig, index: number): Promise<void> {
    const tty = `/dev/ttyUSB${index}`;
    await wait(between(200, 3000));
    while (!signal.aborted) {
      while (opts.isPaused?.() || opts.isStopping?.()) await wait(250);
      emit({
        type: 'slot-attached',
        time: Date.now(),
        slot: slot.portPath,
        slotInfo: { portPath: slot.portPath, name: slot.name, tty, vid: '10c4', pid: 'ea60' },
      });
      emit({ type: 'state', time: Date.now(), slot: slot.portPath, state: 'detected', attempt: 1 });
      await wait(between(150, 400));
      await runBoard(slot, index);
      // The operator notices the result and pulls the board, then seats the next one.
      await wait(between(1500, 5000));
      emit({ type: 'slot-detached', time: Date.now(), slot: slot.portPath, wasBusy: false });
      await wait(between(1000, 4000));
    }
  }

  emit({ type: 'station', time: Date.now(), state: 'running', detection: 'simulated' });
  const done = Promise.all(
    opts.slots.map((s, i) =>
      slotLoop(s, i).catch((err: unknown) => {
        if (!isAbort(err)) throw err;
      }),
    ),
  ).then(() => undefined);
  return {
    get inFlight() {
      return inFlight;
    },
    done,
  };
}

/** Slot names like a fixture's: A01..A08, B01..B08, ... */
export function demoSlots(count: number): SlotConfig[] {
  return Array.from({ length: count }, (_, i) => ({
    portPath: `sim-${i + 1}`,
    name: `${String.fromCharCode(65 + Math.floor(i / 8))}${String((i % 8) + 1).padStart(2, '0')}`,
  }));
}
