/**
 * What esptool does for chips reached over their USB-Serial/JTAG peripheral (targets/esp32c3.py, esp32s3.py,
 * esp32c6.py, esp32h2.py `disable_watchdogs`, esp32s3.py `hard_reset`): a reset through that peripheral spares
 * the RTC domain, so a watchdog the firmware armed would reset the chip mid-write. Registers are chip facts.
 */
import type { ChipFacts } from './chips/chip.ts';
import { WATCHDOG_WRITE_KEY } from './chips/later-rom-layout.ts';

export interface RegisterAccess {
  readReg(addr: number, signal?: AbortSignal): Promise<number>;
  writeReg(addr: number, value: number, mask?: number, delayUs?: number, signal?: AbortSignal): Promise<void>;
}

/** Disable the RTC watchdog and let the super watchdog feed itself. False when the chip has neither. */
export async function disableWatchdogs(
  chip: ChipFacts,
  regs: RegisterAccess,
  signal?: AbortSignal,
): Promise<boolean> {
  const wdt = chip.rtcWatchdog;
  const swd = chip.superWatchdog;
  if (!wdt || !swd) return false;
  await regs.writeReg(wdt.wprotect, WATCHDOG_WRITE_KEY, undefined, undefined, signal);
  await regs.writeReg(wdt.config0, 0, undefined, undefined, signal);
  await regs.writeReg(wdt.wprotect, 0, undefined, undefined, signal);
  await regs.writeReg(swd.wprotect, swd.key, undefined, undefined, signal);
  const conf = await regs.readReg(swd.conf, signal);
  await regs.writeReg(swd.conf, (conf | swd.autoFeed) >>> 0, undefined, undefined, signal);
  await regs.writeReg(swd.wprotect, 0, undefined, undefined, signal);
  return true;
}

/**
 * ESP32-S3: clear RTC_CNTL_FORCE_DOWNLOAD_BOOT before the hard reset, or firmware that set it keeps the chip in
 * download mode. Errors are ignored as esptool does (the reset follows either way).
 */
export async function clearForceDownloadBoot(
  chip: ChipFacts,
  regs: RegisterAccess,
  signal?: AbortSignal,
): Promise<void> {
  const force = chip.forceDownloadBoot;
  if (!force) return;
  try {
    await regs.writeReg(force.addr, 0, force.mask, undefined, signal);
  } catch {
    // A board that already left the loader cannot answer; the reset still runs.
  }
}
