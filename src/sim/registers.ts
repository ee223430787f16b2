import type { ChipFacts } from '../esp/chips/chip.ts';
import { WATCHDOG_WRITE_KEY } from '../esp/chips/later-rom-layout.ts';
import type { SimChipExtras } from './chip-extras.ts';
import { macRegisterWords } from './mac.ts';
import { runSpiFlashCommand, type SpiFlashIdentity } from './spi-flash-commands.ts';

const CHIP_DETECT_MAGIC_REG = 0x40001000;
const SPI_CMD_USR = 1 << 18;

export interface RegisterSetup {
  chip: ChipFacts;
  extras: SimChipExtras;
  mac: Uint8Array;
  revision: number;
  magic: number;
  /** Secure boot version burnt into the eFuses (undefined: off). */
  secureBootVersion: 1 | 2 | undefined;
  flashEncryption: boolean;
  spiFlash: SpiFlashIdentity;
  /** Further board-specific words ORed in (eFuse SPI pad configuration). */
  boardWords?: ReadonlyArray<readonly [number, number]>;
  /** Current UART baud of the chip and its crystal, for UART_CLKDIV_REG. */
  uartClock: () => { baud: number; crystalMhz: number };
  /** The RTC watchdog was armed: the chip resets after `ticks` slow-clock (~150 kHz) ticks. */
  onWatchdogArmed?: (ticks: number) => void;
  /** The RTC watchdog was switched off (CONFIG0 bit 31 cleared while unlocked). */
  onWatchdogDisabled?: () => void;
  /** The flash answers SPI commands run through the registers (false: wrong pins attached, MISO floats high). */
  flashReachable?: () => boolean;
}

/**
 * The chip's memory-mapped registers as READ_REG/WRITE_REG see them: eFuse words (MAC, revision, security),
 * the detect magic, UART clock divider, and the SPI peripheral whose CMD register runs flash commands.
 * Unknown addresses read 0 and keep what is written, like RAM/peripheral words.
 */
export class RegisterFile {
  private readonly words = new Map<number, number>();

  constructor(private readonly setup: RegisterSetup) {
    const { chip, extras } = setup;
    for (const [addr, value] of extras.constantRegs) this.or(addr, value);
    this.words.set(CHIP_DETECT_MAGIC_REG, setup.magic >>> 0);
    const macWords = macRegisterWords(chip.macLayout, setup.mac);
    chip.macRegisters.forEach((addr, i) => this.or(addr, macWords[i]));
    for (const [addr, value] of chip.revisionRegisters(setup.revision)) this.or(addr, value);
    if (setup.flashEncryption && chip.flashCryptCnt) {
      // One bit set: odd popcount = encryption on (§9.2).
      this.or(chip.flashCryptCnt.addr, (1 << chip.flashCryptCnt.shift) >>> 0);
    }
    const fuse = chip.secureBootFuses?.find((f) => f.version === setup.secureBootVersion);
    if (fuse) this.or(fuse.addr, (1 << fuse.shift) >>> 0);
    for (const [addr, value] of setup.boardWords ?? []) this.or(addr, value);
  }

  /** What the chip itself sets (state its firmware left), without the side effects of a WRITE_REG. */
  set(addr: number, value: number, mask = 0xffffffff): void {
    const a = addr >>> 0;
    this.words.set(a, ((value & mask) | ((this.words.get(a) ?? 0) & ~mask)) >>> 0);
  }

  read(addr: number): number {
    const a = addr >>> 0;
    const { extras } = this.setup;
    if (extras.uartClkdivReg !== undefined && a === extras.uartClkdivReg) {
      const { baud, crystalMhz } = this.setup.uartClock();
      return Math.round((crystalMhz * 1e6 * extras.xtalClkDivider) / baud) & 0xfffff;
    }
    return this.words.get(a) ?? 0;
  }

  /** WRITE_REG semantics: (value & mask) | (old & ~mask). Writing CMD.USR runs the SPI command. */
  write(addr: number, value: number, mask = 0xffffffff): void {
    const a = addr >>> 0;
    const old = this.words.get(a) ?? 0;
    const next = ((value & mask) | (old & ~mask)) >>> 0;
    this.words.set(a, next);
    const wdt = this.setup.chip.rtcWatchdog;
    if (wdt && a === wdt.config0 && this.words.get(wdt.wprotect) === WATCHDOG_WRITE_KEY) {
      if (next & 0x80000000) this.setup.onWatchdogArmed?.(this.words.get(wdt.config1) ?? 0);
      else this.setup.onWatchdogDisabled?.();
    }
    const spi = this.setup.chip.spi;
    if (a === spi.base && next & SPI_CMD_USR) {
      const cmd = (this.words.get(spi.base + spi.usr2) ?? 0) & 0xff;
      const reachable = this.setup.flashReachable?.() ?? true;
      const result = reachable
        ? runSpiFlashCommand(this.setup.spiFlash, cmd, this.words.get(spi.base + 4) ?? 0)
        : 0xffffffff;
      if (result !== undefined) this.words.set(spi.base + spi.w0, result >>> 0);
      // The peripheral finishes at once from the host's point of view: the bit reads back clear.
      this.words.set(a, (next & ~SPI_CMD_USR) >>> 0);
    }
  }

  private or(addr: number, value: number): void {
    this.words.set(addr >>> 0, ((this.words.get(addr >>> 0) ?? 0) | value) >>> 0);
  }
}
