/**
 * How long things take on a real board. `realistic` uses datasheet-typical SPI NOR figures (W25Q32-class
 * parts) and the UART wire time; `fast` takes no time at all, for unit tests.
 */
export interface TimingModel {
  /** False in `fast` mode: no delays anywhere. */
  realistic: boolean;
  /** Bits on the wire per byte (start + 8 data + stop). */
  uartBitsPerByte: number;
  /** 4 KB sector erase. */
  sectorEraseMs: number;
  /** 64 KB block erase. */
  blockEraseMs: number;
  /** Page program per 256 bytes. */
  pageProgramMs: number;
  /** On-chip MD5 over flash, per MiB. */
  md5MsPerMiB: number;
  /** Plain flash read into RAM (a stub checking whether a sector is blank), per MiB. */
  readMsPerMiB: number;
  /** Inflate of compressed data on the chip, per MiB of output. */
  inflateMsPerMiB: number;
  /** From EN release until the ROM banner starts. */
  romStartMs: number;
  /** From the 2nd-stage bootloader until the app prints its first line. */
  appStartMs: number;
  /** ESP-AT: from the app's start until `ready` on the AT port (Wi-Fi and Bluetooth initialisation). */
  atReadyMs: number;
  /** ESP-AT: one AT+CWLAP scan over 13 channels (active scan, 120 ms each, plus overhead). */
  wifiScanMs: number;
  /** How long after EN rises the boot straps are sampled (the EN RC delay). Also used in `fast` mode. */
  strapSampleMs: number;
  /** Multiplies erase and program times (the slow-flash fault). */
  flashSlowdown: number;
  /** A native-USB board that dropped off the bus (chip reset): how long until its tty is back. */
  usbReenumerateMs: number;
  /**
   * The RTC watchdog the firmware left armed: how long after a USB-Serial/JTAG reset into download mode it resets
   * the chip (ESP-IDF's bootloader arms it for 9 s), unless the host disabled it.
   */
  appWatchdogMs: number;
}

export type TimingName = 'fast' | 'realistic';

const REALISTIC: TimingModel = {
  realistic: true,
  uartBitsPerByte: 10,
  sectorEraseMs: 45,
  blockEraseMs: 150,
  pageProgramMs: 0.7,
  md5MsPerMiB: 250,
  readMsPerMiB: 100,
  inflateMsPerMiB: 60,
  romStartMs: 30,
  appStartMs: 300,
  atReadyMs: 1200,
  wifiScanMs: 2200,
  strapSampleMs: 2,
  flashSlowdown: 1,
  usbReenumerateMs: 300,
  appWatchdogMs: 9000,
};

const FAST: TimingModel = {
  realistic: false,
  uartBitsPerByte: 10,
  sectorEraseMs: 0,
  blockEraseMs: 0,
  pageProgramMs: 0,
  md5MsPerMiB: 0,
  readMsPerMiB: 0,
  inflateMsPerMiB: 0,
  romStartMs: 0,
  appStartMs: 0,
  atReadyMs: 0,
  wifiScanMs: 0,
  // Reset sequences from clients set DTR and RTS in separate calls; the straps are still sampled a moment
  // after EN rises, exactly as the EN capacitor makes a real board do.
  strapSampleMs: 1,
  flashSlowdown: 1,
  // Both take real time even here: a host must wait for the tty, and a write must outlast the watchdog to fail.
  usbReenumerateMs: 5,
  appWatchdogMs: 1000,
};

export function timingModel(name: TimingName = 'fast', overrides: Partial<TimingModel> = {}): TimingModel {
  return { ...(name === 'realistic' ? REALISTIC : FAST), ...overrides };
}

/** Time for `bytes` on a UART at `baud`, in ms. */
export function wireMs(t: TimingModel, bytes: number, baud: number): number {
  return t.realistic ? (bytes * t.uartBitsPerByte * 1000) / baud : 0;
}
