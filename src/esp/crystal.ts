/**
 * Crystal frequency, as esptool finds it (`get_crystal_freq`): chips sold with 26 or 40 MHz crystals are
 * measured from the ROM's UART divider (it autobauded to the host's rate, so rate × divider ≈ crystal);
 * the others have one fixed crystal (ChipFacts.crystalMhz).
 */
import type { ChipFacts, ChipName } from './chips/chip.ts';

interface UartClock {
  /** UART_CLKDIV_REG; the low 20 bits hold the divider. */
  clkdivReg: number;
  /** XTAL_CLK_DIVIDER (ESP8266: the UART runs from crystal × 2). */
  xtalDivider: number;
}

/** esptool targets/*.py UART_CLKDIV_REG and XTAL_CLK_DIVIDER for the chips with a choice of crystal. */
const MEASURED: Partial<Record<ChipName, UartClock>> = {
  esp8266: { clkdivReg: 0x60000014, xtalDivider: 2 },
  esp32: { clkdivReg: 0x3ff40014, xtalDivider: 1 },
  esp32c2: { clkdivReg: 0x60000014, xtalDivider: 1 },
};

/**
 * `baud` is the rate the ROM is talking at (it autobauds at connect). Unreadable or implausible
 * dividers give the chip's usual crystal rather than a wrong number.
 */
export async function crystalMhz(
  chip: ChipFacts,
  baud: number,
  read: (addr: number) => Promise<number>,
): Promise<number> {
  const clock = MEASURED[chip.name];
  if (!clock) return chip.crystalMhz;
  const div = (await read(clock.clkdivReg)) & 0xfffff;
  if (div === 0) return chip.crystalMhz;
  const estimate = (baud * div) / 1e6 / clock.xtalDivider;
  // esptool normalises to the two crystals these chips are sold with.
  return estimate > 33 ? 40 : 26;
}
