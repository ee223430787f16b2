/**
 * What the chips from the ESP32-S2 on have in common, stated once: their ROMs' protocol traits, the layout of
 * the SPI1 command registers, and (except the C2) where the eFuse MAC, security and revision words sit.
 * Each chip module adds only what is its own (base addresses, ids, revision bit positions, frequencies).
 */
import type { ChipFacts } from './chip.ts';
import {
  ESP32_FAMILY_FLASH_SIZES,
  encodeRevisionFields,
  readRevisionFields,
  type RevisionFields,
} from './revision-fields.ts';

/** §1.3 four status bytes, §2.1 the 5th `encrypted` FLASH_BEGIN word and the ESP32 commands, §11.2 sizes. */
export const LATER_ROM = {
  romStatusBytes: 4,
  romFlashBeginHasEncryptedWord: true,
  romHasEsp32Commands: true,
  flashSize: ESP32_FAMILY_FLASH_SIZES,
} as const satisfies Partial<ChipFacts>;

/** The RTC watchdog's write-protect key, the same on every chip (esptool `RTC_CNTL_WDT_WKEY`). */
export const WATCHDOG_WRITE_KEY = 0x50d83aa1;

/** RTC watchdog registers of the chips whose RTC_CNTL block sits at `rtcCntl` (S2, S3, C3). */
export function rtcCntlWatchdog(
  rtcCntl: number,
  offsets: { config0: number; wprotect: number },
): NonNullable<ChipFacts['rtcWatchdog']> {
  return {
    config0: rtcCntl + offsets.config0,
    config1: rtcCntl + offsets.config0 + 4,
    wprotect: rtcCntl + offsets.wprotect,
  };
}

/** C6 and H2: the LP watchdog block at 0x600B1C00; RWDT and SWD registers after CONFIG0 differ per chip. */
export function lpWatchdogs(offsets: {
  wprotect: number;
  swdConf: number;
}): Pick<ChipFacts, 'rtcWatchdog' | 'superWatchdog'> {
  const base = 0x600b1c00;
  return {
    rtcWatchdog: { config0: base, config1: base + 4, wprotect: base + offsets.wprotect },
    // The LP SWD takes the same key as the RTC watchdog; its auto-feed is bit 18.
    superWatchdog: {
      conf: base + offsets.swdConf,
      wprotect: base + offsets.swdConf + 4,
      key: WATCHDOG_WRITE_KEY,
      autoFeed: 1 << 18,
    },
  };
}

/** The RTC_CNTL super watchdog of S3 and C3 (key 0x8F1D312A, auto-feed bit 31). */
export function rtcCntlSuperWatchdog(conf: number): NonNullable<ChipFacts['superWatchdog']> {
  return { conf, wprotect: conf + 4, key: 0x8f1d312a, autoFeed: 0x80000000 };
}

/** SPI1 command registers at `base`, laid out as on S2 and later (§10.1). */
export function laterSpiRegisters(base: number): ChipFacts['spi'] {
  return { base, usr: 0x18, usr1: 0x1c, usr2: 0x20, mosiDlen: 0x24, misoDlen: 0x28, w0: 0x58 };
}

/** Revision read and encoded through the chip's own eFuse fields (§8.4). */
export function revisionFacts(
  revision: RevisionFields,
): Pick<ChipFacts, 'readRevision' | 'revisionRegisters'> {
  return {
    readRevision: (read) => readRevisionFields(revision, read),
    revisionRegisters: (rev) => encodeRevisionFields(revision, rev),
  };
}

/**
 * eFuse facts of S2, S3, C3, C6 and H2: base MAC in BLOCK1 words 0–1 (§9.1), FLASH_CRYPT_CNT at +0x34
 * bits 20:18 and SECURE_BOOT_EN at +0x38 bit 20 (§9.2).
 */
export function laterEfuseFacts(
  efuseBase: number,
  revision: RevisionFields,
): Pick<
  ChipFacts,
  'macRegisters' | 'macLayout' | 'flashCryptCnt' | 'secureBootFuses' | 'readRevision' | 'revisionRegisters'
> {
  const block1 = efuseBase + 0x44;
  return {
    macRegisters: [block1, block1 + 4],
    macLayout: 'standard',
    flashCryptCnt: { addr: efuseBase + 0x34, shift: 18, mask: 0x7 },
    // S2 and later have Secure Boot V2 only.
    secureBootFuses: [{ addr: efuseBase + 0x38, shift: 20, mask: 0x1, version: 2 }],
    ...revisionFacts(revision),
  };
}
