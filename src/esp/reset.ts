/**
 * Reset sequences as data (§7). A step sets DTR and/or RTS (the other line keeps its state; both are
 * always written together, which on Linux is one TIOCMSET) or waits. `true` = line asserted.
 * On auto-reset boards DTR drives the boot strap pin and RTS drives EN.
 */
import { ESPRESSIF_USB_JTAG } from './usb-ids.ts';
import type { Transport } from '../serial/transport.ts';
import { sleep } from './sleep.ts';

export type ResetStep = { dtr?: boolean; rts?: boolean } | { waitMs: number };

export interface ResetStrategy {
  name: string;
  steps: readonly ResetStep[];
}

export const DEFAULT_RESET_DELAY_MS = 50;
export const EXTRA_RESET_DELAY_MS = 550;

/** esptool ClassicReset: EN low 100 ms, then release EN with IO0 held low for `delayMs`. */
export function classicReset(delayMs: number): ResetStrategy {
  return {
    name: `Classic(${delayMs} ms)`,
    steps: [
      { dtr: false },
      { rts: true },
      { waitMs: 100 },
      { dtr: true },
      { rts: false },
      { waitMs: delayMs },
      { dtr: false },
    ],
  };
}

/** esptool UnixTightReset: both lines change in one ioctl, avoiding glitches between the two writes. */
export function unixTightReset(delayMs: number): ResetStrategy {
  return {
    name: `UnixTight(${delayMs} ms)`,
    steps: [
      { dtr: false, rts: false },
      { dtr: true, rts: true },
      { dtr: false, rts: true },
      { waitMs: 100 },
      { dtr: true, rts: false },
      { waitMs: delayMs },
      { dtr: false, rts: false },
      { dtr: false },
    ],
  };
}

/** Native USB-Serial/JTAG (303a:1001): the "lines" are decoded by the chip's USB peripheral. */
export const usbJtagSerialReset: ResetStrategy = {
  name: 'USB-JTAG-Serial',
  steps: [
    { rts: false },
    { dtr: false },
    { waitMs: 100 },
    { dtr: true },
    { rts: false },
    { waitMs: 100 },
    { rts: true },
    { dtr: false },
    { rts: true },
    { waitMs: 100 },
    { dtr: false },
    { rts: false },
  ],
};

/** For links without control lines (socket://): the board must already be in download mode. */
export const noReset: ResetStrategy = { name: 'none', steps: [] };

/** After flashing: pulse EN with IO0 released so the board boots the new firmware. */
export function hardResetStrategy(usbJtag: boolean): ResetStrategy {
  return {
    name: 'HardReset',
    steps: usbJtag
      ? [{ dtr: false, rts: true }, { waitMs: 200 }, { rts: false }, { waitMs: 200 }]
      : [{ dtr: false, rts: true }, { waitMs: 100 }, { rts: false }],
  };
}

export function isUsbJtagSerial(transport: Transport): boolean {
  const id = transport.usbVidPid;
  return id?.vid === ESPRESSIF_USB_JTAG.vid && id.pid === ESPRESSIF_USB_JTAG.pid;
}

/** esptool's order on POSIX (§7): UnixTight then Classic, each with the short and the long delay. */
export function defaultResetStrategies(transport: Transport): ResetStrategy[] {
  if (!transport.supportsControlLines) return [noReset];
  if (isUsbJtagSerial(transport)) return [usbJtagSerialReset];
  return [
    unixTightReset(DEFAULT_RESET_DELAY_MS),
    unixTightReset(EXTRA_RESET_DELAY_MS),
    classicReset(DEFAULT_RESET_DELAY_MS),
    classicReset(EXTRA_RESET_DELAY_MS),
  ];
}

/**
 * Runs `strategy` on `transport`. Line state starts as Linux leaves it after open (both asserted).
 * `timeScale` shrinks the waits (tests against a fast simulated chip); 1 on real hardware.
 */
export async function runReset(
  transport: Transport,
  strategy: ResetStrategy,
  signal?: AbortSignal,
  timeScale = 1,
): Promise<void> {
  if (!transport.supportsControlLines) return;
  const lines = { dtr: true, rts: true };
  for (const step of strategy.steps) {
    signal?.throwIfAborted();
    if ('waitMs' in step) {
      await sleep(step.waitMs * timeScale, signal);
    } else {
      if (step.dtr !== undefined) lines.dtr = step.dtr;
      if (step.rts !== undefined) lines.rts = step.rts;
      await transport.setSignals({ ...lines });
    }
  }
}
