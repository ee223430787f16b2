import type { ChipFacts } from './chip.ts';
import {
  CLASSIC_FLASH_FREQS,
  ESP32_FAMILY_FLASH_SIZES,
  encodeRevisionFields,
  readRevisionFields,
  type RevisionFields,
} from './revision-fields.ts';

const EFUSE_BASE = 0x3f41a000;
const BLOCK1 = EFUSE_BASE + 0x44;

/** esptool targets/esp32s2.py: major = w3[19:18]; minor = w3[20] << 3 | w4[6:4]. */
const revision: RevisionFields = {
  major: [{ addr: BLOCK1 + 4 * 3, shift: 18, width: 2, at: 0 }],
  minor: [
    { addr: BLOCK1 + 4 * 4, shift: 4, width: 3, at: 0 },
    { addr: BLOCK1 + 4 * 3, shift: 20, width: 1, at: 3 },
  ],
};

export const esp32s2: ChipFacts = {
  name: 'esp32s2',
  displayName: 'ESP32-S2',
  magicValues: [0x000007c6],
  imageChipId: 2,
  // The S2 ROM's security info has no chip_id field, so esptool still uses the magic value (§8.2).
  detectByChipId: false,
  bootloaderOffset: 0x1000,
  romStatusBytes: 4,
  romFlashBeginHasEncryptedWord: true,
  romSecurityInfoBytes: 12,
  romHasEsp32Commands: true,
  macRegisters: [BLOCK1, BLOCK1 + 4],
  macLayout: 'standard',
  flashCryptCnt: { addr: EFUSE_BASE + 0x34, shift: 18, mask: 0x7 },
  secureBootEn: { addr: EFUSE_BASE + 0x38, shift: 20, mask: 0x1 },
  readRevision: (read) => readRevisionFields(revision, read),
  revisionRegisters: (rev) => encodeRevisionFields(revision, rev),
  spi: {
    base: 0x3f402000,
    usr: 0x18,
    usr1: 0x1c,
    usr2: 0x20,
    mosiDlen: 0x24,
    misoDlen: 0x28,
    w0: 0x58,
  },
  flashFreq: CLASSIC_FLASH_FREQS,
  flashSize: ESP32_FAMILY_FLASH_SIZES,
  stubName: 'esp32s2',
  crystalMhz: 40,
  romBanner: [
    'ESP-ROM:esp32s2-rc4-20191025',
    'Build:Oct 25 2019',
    'rst:0x1 (POWERON),boot:0x0 (DOWNLOAD(USB/UART0/1))',
    'waiting for download',
  ],
};
