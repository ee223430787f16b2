/** Shared bits for the UI tests: a recording StationControls, a polling waitFor, ANSI stripping, event makers. */
import { stripVTControlCharacters } from 'node:util';
import type { BoardInfo, ProgressInfo, StationEvent } from '../../src/station/events.ts';
import type { StationControls, StationHeader } from '../../src/ui/controls.ts';

export class RecordingControls implements StationControls {
  calls: string[] = [];
  inFlight = 0;
  stopGate: Promise<void> = Promise.resolve();
  pause(): void {
    this.calls.push('pause');
  }
  resume(): void {
    this.calls.push('resume');
  }
  async stop(opts?: { abortInFlight?: boolean }): Promise<void> {
    this.calls.push(opts?.abortInFlight ? 'stop-abort' : 'stop');
    await this.stopGate;
  }
  setOperator(s: string): void {
    this.calls.push(`operator:${s}`);
  }
  setLot(s: string): void {
    this.calls.push(`lot:${s}`);
  }
}

export const HEADER: StationHeader = {
  stationName: 'line-7',
  profileName: 'at-wroom32',
  recipeFingerprint: 'abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789',
  chip: 'ESP32',
  operator: 'bob',
  lot: 'LOT-1',
  demoFirmware: false,
};

export function plain(s: string | undefined): string {
  return stripVTControlCharacters(s ?? '');
}

/** Polls until `check` passes (Ink renders asynchronously; fixed sleeps are flaky). */
export async function waitFor(check: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export const BOARD: BoardInfo = {
  chip: 'esp32',
  chipDisplay: 'ESP32',
  revision: 301,
  mac: '24:0A:C4:12:34:56',
  secureBoot: false,
  flashEncryption: false,
};

export function progress(done: number, total: number, extra: Partial<ProgressInfo> = {}): ProgressInfo {
  return {
    regionIndex: 5,
    regionCount: 6,
    regionOffset: 0x100000,
    regionLabel: 'app',
    regionDone: done,
    regionTotal: total,
    overallDone: done,
    overallTotal: total,
    bytesPerSecond: 400 * 1024,
    etaSeconds: 3,
    ...extra,
  };
}

let clock = 1_700_000_000_000;
export function at(): number {
  return (clock += 1000);
}

export function attach(slot: string, tty = `/dev/tty-${slot}`): StationEvent {
  return {
    type: 'slot-attached',
    time: at(),
    slot,
    slotInfo: { portPath: slot, name: slot, tty, vid: '10c4', pid: 'ea60' },
  };
}

export function state(
  slot: string,
  s: Extract<StationEvent, { type: 'state' }>['state'],
  attempt = 1,
): StationEvent {
  return {
    type: 'state',
    time: at(),
    slot,
    state: s,
    attempt,
    board: s === 'detected' || s === 'connecting' ? undefined : BOARD,
  };
}

export function result(
  slot: string,
  r: 'pass' | 'fail',
  extra: Partial<Extract<StationEvent, { type: 'result' }>> = {},
): StationEvent {
  return {
    type: 'result',
    time: at(),
    slot,
    result: r,
    durationMs: 12_000,
    attempt: 1,
    recorded: true,
    board: BOARD,
    ...extra,
  };
}
