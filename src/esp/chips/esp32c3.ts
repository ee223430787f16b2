import type { ChipFacts } from './chip.ts';
import {
  CLASSIC_FLASH_FREQS,
  ESP32_FAMILY_FLASH_SIZES,
  encodeRevisionFields,
  readRevisionFields,
  type RevisionFields,
} from './revision-fields.ts';

const EFUSE_BASE = 0x60008800;
const BLOCK1 = EFUSE_BASE + 0x44;

/** §8.4: major = w5[25:24]; minor = w5[23] << 3 | w3[20:18]. */
const revision: RevisionFields = {
  major: [{ addr: BLOCK1 + 4 * 5, shift: 24, width: 2, at: 0 }],
  minor: [
    { addr: BLOCK1 + 4 * 3, shift: 18, width: 3, at: 0 },
    { addr: BLOCK1 + 4 * 5, shift: 23, width: 1, at: 3 },
  ],
};

export const esp32c3: ChipFacts = {
  name: 'esp32c3',
  displayName: 'ESP32-C3',
  // ECO1+2, ECO3, ECO6, ECO7 (§8.2).
  magicValues: [0x6921506f, 0x1b31506f, 0x4881606f, 0x4361606f],
  imageChipId: 5,
  detectByChipId: true,
  bootloaderOffset: 0x0,
  romStatusBytes: 4,
  romFlashBeginHasEncryptedWord: true,
  romSecurityInfoBytes: 20,
  romHasEsp32Commands: true,
  macRegisters: [BLOCK1, BLOCK1 + 4],
  macLayout: 'standard',
  flashCryptCnt: { addr: EFUSE_BASE + 0x34, shift: 18, mask: 0x7 },
  secureBootEn: { addr: EFUSE_BASE + 0x38, shift: 20, mask: 0x1 },
  readRevision: (read) => readRevisionFields(revision, read),
  revisionRegisters: (rev) => encodeRevisionFields(revision, rev),
  spi: {
    base: 0x60002000,
    usr: 0x18,
    usr1: 0x1c,
    usr2: 0x20,
    mosiDlen: 0x24,
    misoDlen: 0x28,
    w0: 0x58,
  },
  flashFreq: CLASSIC_FLASH_FREQS,
  flashSize: ESP32_FAMILY_FLASH_SIZES,
  stubName: 'esp32c3',
  crystalMhz: 40,
  romBanner: [
    'ESP-ROM:esp32c3-api1-20210207',
    'Build:Feb  7 2021',
    'rst:0x1 (POWERON),boot:0x4 (DOWNLOAD(USB/UART0/1))',
    'waiting for download',
  ],
};
