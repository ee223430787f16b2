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
