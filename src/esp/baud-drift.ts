/**
 * ESP32 ROM only (§2.2): the ROM derives its UART clock from the 8 MHz RC oscillator calibration, so it
 * believes in a slightly wrong crystal frequency. esptool sends `baud × rom_freq / valid_freq` so the rate
 * the ROM actually configures is the one asked for.
 */
const RTCCALICFG1 = 0x3ff5f06c;
const TIMERS_RTC_CALI_VALUE_S = 7;
const TIMERS_RTC_CALI_VALUE = 0x01ffffff;
/** eFuse word 4 (EFUSE_RD_CK8M_FREQ in bits 7:0). */
const EFUSE_WORD4 = 0x3ff5a010;

export async function esp32RomBaudToSend(
  baud: number,
  read: (addr: number) => Promise<number>,
): Promise<number> {
  const cali = ((await read(RTCCALICFG1)) >>> TIMERS_RTC_CALI_VALUE_S) & TIMERS_RTC_CALI_VALUE;
  const ck8m = (await read(EFUSE_WORD4)) & 0xff;
  const romFreq = Math.floor((cali * 15625 * ck8m) / 40);
  // Unprogrammed calibration: nothing to compensate (and dividing by it would send 0).
  if (romFreq === 0) return baud;
  const validFreq = romFreq > 33_000_000 ? 40_000_000 : 26_000_000;
  return Math.floor((baud * romFreq) / validFreq);
}
