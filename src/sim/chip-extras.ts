import type { ChipName } from '../esp/chips/chip.ts';

/**
 * Per-chip facts the simulated chip needs and ChipFacts does not carry (they matter only to a device model,
 * not to the flasher): UART clock divider register, baud of the ROM's boot log, extra eFuse words esptool
 * reads for chip description, and the ESP32 ROM clock calibration.
 * Sources: esptool / esptool-js `targets/*` (UART_CLKDIV_REG, XTAL_CLK_DIVIDER, EFUSE words), esp-protocol.md §2.2, §7.
 */
export interface SimChipExtras {
  /** UART_CLKDIV_REG: esptool estimates the crystal as baud * div / 1e6 / xtalClkDivider. */
  uartClkdivReg?: number;
  xtalClkDivider: number;
  /** Baud of the ROM boot log before autobaud (ESP8266 with a 26 MHz crystal: 74880). */
  bootLogBaud: number;
  /** Constant register words (chip description / features), merged under MAC, revision and security. */
  constantRegs: ReadonlyArray<readonly [number, number]>;
  /**
   * ESP32 only: the ROM derives its UART clock from the 8 MHz RC oscillator calibration, so its idea of the
   * crystal is slightly off; esptool compensates in CHANGE_BAUDRATE (§2.2). Value = CK8M eFuse byte and the
   * RTCCALICFG1 calibration count.
   */
  romClockCal?: { rtcCaliReg: number; caliValue: number; efuseWord4Reg: number; ck8mFreq: number };
  /** Boot mode printed in the flash-boot ROM log. */
  flashBootLine: string;
  /**
   * ESP8266 ROM FLASH_BEGIN bug (§5.3): it erases the sectors up to the next 64 KB boundary twice over, i.e.
   * r + min(16 - start%16, r) sectors for r requested. Derived by inverting esptool's get_erase_size workaround.
   */
  romEraseCountsHeadTwice?: boolean;
}

const ESP32_EFUSE = 0x3ff5a000;

/**
 * The revision a simulated chip has unless told otherwise (major*100+minor): what ships in modules today, per
 * Espressif's chip errata (the newest revision listed for each chip).
 */
export const DEFAULT_REVISIONS: Readonly<Record<ChipName, number>> = {
  esp8266: 0,
  esp32: 300,
  esp32s2: 100,
  esp32s3: 2,
  esp32c2: 100,
  esp32c3: 4,
  esp32c6: 2,
  esp32h2: 1,
};

export const SIM_CHIP_EXTRAS: Readonly<Partial<Record<ChipName, SimChipExtras>>> = {
  esp32: {
    uartClkdivReg: 0x3ff40014,
    xtalClkDivider: 1,
    bootLogBaud: 115200,
    constantRegs: [
      // word3: pkg version 1 (ESP32-D0WD), dual core, BT enabled.
      [ESP32_EFUSE + 0x0c, 1 << 9],
      // word4: ADC VRef calibration (bits 12:8) and CK8M_FREQ (bits 7:0), typical production values.
      [ESP32_EFUSE + 0x10, (0x0b << 8) | 51],
      // RTCCALICFG1: TIMERS_RTC_CALI_VALUE at bit 7 (esptool: rom_freq = cali * 15625 * ck8m / 40).
      [0x3ff5f06c, 2013 << 7],
    ],
    // 2013 * 15625 * 51 / 40 = 40.1 MHz: the ROM believes its 40 MHz crystal runs 0.26 % fast.
    romClockCal: { rtcCaliReg: 0x3ff5f06c, caliValue: 2013, efuseWord4Reg: ESP32_EFUSE + 0x10, ck8mFreq: 51 },
    flashBootLine: 'rst:0x1 (POWERON_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)',
  },
  esp32s2: {
    uartClkdivReg: 0x3f400014,
    xtalClkDivider: 1,
    bootLogBaud: 115200,
    constantRegs: [],
    flashBootLine: 'rst:0x1 (POWERON),boot:0x8 (SPI_FAST_FLASH_BOOT)',
  },
  esp32s3: {
    uartClkdivReg: 0x60000014,
    xtalClkDivider: 1,
    bootLogBaud: 115200,
    constantRegs: [],
    flashBootLine: 'rst:0x1 (POWERON),boot:0x8 (SPI_FAST_FLASH_BOOT)',
  },
  esp32c3: {
    uartClkdivReg: 0x60000014,
    xtalClkDivider: 1,
    bootLogBaud: 115200,
    constantRegs: [],
    flashBootLine: 'rst:0x1 (POWERON),boot:0xc (SPI_FAST_FLASH_BOOT)',
  },
  esp8266: {
    uartClkdivReg: 0x60000014,
    xtalClkDivider: 2,
    bootLogBaud: 74880,
    constantRegs: [],
    romEraseCountsHeadTwice: true,
    flashBootLine: ' ets Jan  8 2013,rst cause:2, boot mode:(3,6)',
  },
};

const GENERIC: SimChipExtras = {
  xtalClkDivider: 1,
  bootLogBaud: 115200,
  constantRegs: [],
  flashBootLine: 'rst:0x1 (POWERON),boot:0x8 (SPI_FAST_FLASH_BOOT)',
};

export function simChipExtras(name: ChipName): SimChipExtras {
  return SIM_CHIP_EXTRAS[name] ?? GENERIC;
}
