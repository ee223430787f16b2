/**
 * Station events: the only thing that crosses from the station to the UI, the ledger and any other consumer.
 * The pipeline publishes them; consumers subscribe (StationEventBus). Nothing flows backwards.
 */
import type { FailureCode } from '../ledger/failure-codes.ts';
import type { ChipName } from '../esp/chips/chip.ts';

/** Pipeline states of one board in one slot, in order. */
export const SLOT_STATES = [
  'empty',
  'detected',
  'connecting',
  'identifying',
  'checking',
  'flashing',
  'verifying',
  'resetting',
  'boot-check',
  /** The post-flash test on the AT port (src/board-test); the state message names the step. */
  'testing',
  'pass',
  'fail',
] as const;
export type SlotState = (typeof SLOT_STATES)[number];

/** States in which a board is being worked on: from connecting to its AT test, before its result. */
const BUSY_SLOT_STATES: ReadonlySet<SlotState> = new Set(
  SLOT_STATES.slice(SLOT_STATES.indexOf('connecting'), SLOT_STATES.indexOf('pass')),
);

export function isBusySlotState(state: SlotState): boolean {
  return BUSY_SLOT_STATES.has(state);
}

/** What identifies a physical slot: its USB port path, whatever tty the OS picked. */
export interface SlotInfo {
  /** Physical USB port path, e.g. `1-1.4.2`; for simulated boards `sim-3`. Stable key. */
  portPath: string;
  /** Operator-facing name from config.yaml slots (falls back to the port path). */
  name: string;
  /** Current tty, e.g. /dev/ttyUSB3, or socket://... */
  tty: string;
  vid: string; // 4 lowercase hex
  pid: string;
  usbSerial?: string;
  /** The slot's AT port (ESP-AT's UART1): a tty or socket:// URL, when one is wired and present. */
  atPort?: string;
  /** Why a slot configured with an AT port has none right now (e.g. its second bridge is not plugged in). */
  atPortMissing?: string;
}

/** What the station learned about a board once identified. */
export interface BoardInfo {
  chip: ChipName;
  chipDisplay: string;
  revision: number; // major*100+minor
  mac: string; // AA:BB:CC:DD:EE:FF, the board's serial number
  flashId?: number;
  flashSizeBytes?: number;
  secureBoot: boolean;
  flashEncryption: boolean;
  crystalMhz?: number;
}

export interface ProgressInfo {
  /** Region being written/verified: offset and label (e.g. 'bootloader', 'app'). */
  regionIndex: number;
  regionCount: number;
  regionOffset: number;
  regionLabel: string;
  /** Bytes of uncompressed image done / total, for this region and for the whole image set. */
  regionDone: number;
  regionTotal: number;
  overallDone: number;
  overallTotal: number;
  /** Uncompressed bytes per second over the recent window. */
  bytesPerSecond: number;
  etaSeconds?: number;
}

interface EventBase {
  /** ms since epoch */
  time: number;
  slot: string; // portPath
}

export type StationEvent =
  | {
      type: 'station';
      time: number;
      state: 'running' | 'paused' | 'stopping' | 'stopped';
      detection?: 'hotplug' | 'polling' | 'simulated' | 'static';
      message?: string;
    }
  | (EventBase & { type: 'slot-attached'; slotInfo: SlotInfo })
  | (EventBase & { type: 'slot-detached'; wasBusy: boolean })
  | (EventBase & {
      type: 'state';
      state: SlotState;
      attempt: number;
      board?: BoardInfo;
      /** Baud in use, when known. */
      baud?: number;
      message?: string;
    })
  | (EventBase & { type: 'progress'; progress: ProgressInfo })
  | (EventBase & {
      type: 'result';
      result: 'pass' | 'fail';
      code?: FailureCode;
      message?: string;
      board?: BoardInfo;
      /** When the attempt started (ms since epoch): the ledger record's `start`; its `end` is start + durationMs. */
      startedAt?: number;
      durationMs: number;
      attempt: number;
      /** True once the ledger record for this attempt is on disk (the UI shows PASS only after that). */
      recorded: boolean;
    })
  | (EventBase & {
      type: 'retry';
      /** What is tried again: a reset into download mode, one region's write, the board at a baud step, an MD5 query. */
      scope: 'connect' | 'region' | 'board' | 'md5';
      /** This retry's number (1 = the first retry) and how many this scope allows. */
      n: number;
      of: number;
      /** A few words for the slot's tile: 'no reply', 'MD5 mismatch', 'write error'. */
      reason: string;
      /** The whole story, for the headless events and --verbose. */
      message: string;
    })
  | (EventBase & { type: 'log'; level: 'info' | 'warn' | 'error'; message: string })
  | CentralLinkEvent
  | (EventBase & { type: 'awaiting-removal' });

/**
 * The link to the central database (config.yaml `central:`), published by whoever ships the ledger: on every
 * change of link state, and at most once a second while the lag changes. Not tied to a slot (slot '').
 */
export interface CentralLinkEvent extends EventBase {
  type: 'central';
  /** Always '' (station-wide, like detection warnings). */
  slot: '';
  link: 'connecting' | 'online' | 'offline' | 'stopped';
  /** Ledger records not yet in the database, and the age of the oldest of them. */
  lagRecords: number;
  lagSeconds: number;
  /** The database as a URL without secrets. */
  database: string;
  /** Why it is offline. */
  message?: string;
}

export type StationEventListener = (event: StationEvent) => void;

/** A minimal typed event bus. Synchronous delivery, listener errors are isolated. */
export class StationEventBus {
  private readonly listeners = new Set<StationEventListener>();

  subscribe(listener: StationEventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  publish(event: StationEvent): void {
    for (const l of this.listeners) {
      try {
        l(event);
      } catch (err) {
        // A broken consumer must never stop the station or other consumers.
        process.emitWarning(`station event listener failed: ${(err as Error).message}`);
      }
    }
  }
}
