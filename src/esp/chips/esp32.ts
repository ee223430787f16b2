import type { ChipFacts } from './chip.ts';
import {
  CLASSIC_FLASH_FREQS,
  ESP32_FAMILY_FLASH_SIZES,
  encodeRevisionFields,
  readRevisionFields,
  type RevisionFields,
} from './revision-fields.ts';

const EFUSE_RD = 0x3ff5a000;
const APB_CTL_DATE = 0x3ff6607c;

/** §8.4: three scattered "rev bits" map to the major version; minor is eFuse word5 bits 25:24. */
const revision: RevisionFields = {
  major: [
    { addr: EFUSE_RD + 4 * 3, shift: 15, width: 1, at: 0 },
    { addr: EFUSE_RD + 4 * 5, shift: 20, width: 1, at: 1 },
    { addr: APB_CTL_DATE, shift: 31, width: 1, at: 2 },
  ],
  minor: [{ addr: EFUSE_RD + 4 * 5, shift: 24, width: 2, at: 0 }],
  majorFromRaw: { 0: 0, 1: 1, 3: 2, 7: 3 },
};

export const esp32: ChipFacts = {
  name: 'esp32',
  displayName: 'ESP32',
  magicValues: [0x00f01d83],
  imageChipId: 0,
  detectByChipId: false,
  bootloaderOffset: 0x1000,
  romStatusBytes: 4,
  // The ESP32 ROM takes only 16-byte FLASH_BEGIN; the 5th word is S2 and later (§2.1).
  romFlashBeginHasEncryptedWord: false,
  romSecurityInfoBytes: 0,
  romHasEsp32Commands: true,
  macRegisters: [EFUSE_RD + 0x4, EFUSE_RD + 0x8],
  macLayout: 'esp32',
  flashCryptCnt: { addr: EFUSE_RD, shift: 20, mask: 0x7f },
  // ABS_DONE_0 = Secure Boot V1; ABS_DONE_1 = V2, which exists from v3.0 on (§9.2, esptool targets/esp32.py).
  secureBootFuses: [
    { addr: EFUSE_RD + 0x18, shift: 4, mask: 0x1, version: 1 },
    { addr: EFUSE_RD + 0x18, shift: 5, mask: 0x1, version: 2, fromRevision: 300 },
  ],
  // esptool targets/esp32.py get_chip_spi_pads: BLK0 RDATA5 holds CLK, Q, D, CS; RDATA3 holds HD.
  spiPadConfig: { clkQDCs: EFUSE_RD + 0x14, hd: EFUSE_RD + 0x0c },
  readRevision: (read) => readRevisionFields(revision, read),
  revisionRegisters: (rev) => encodeRevisionFields(revision, rev),
  spi: {
    base: 0x3ff42000,
    usr: 0x1c,
    usr1: 0x20,
    usr2: 0x24,
    mosiDlen: 0x28,
    misoDlen: 0x2c,
    w0: 0x80,
  },
  flashFreq: CLASSIC_FLASH_FREQS,
  flashSize: ESP32_FAMILY_FLASH_SIZES,
  stubName: 'esp32',
  crystalMhz: 40,
  romBanner: [
    'ets Jun  8 2016 00:22:57',
    '',
    'rst:0x1 (POWERON_RESET),boot:0x3 (DOWNLOAD_BOOT(UART0/UART1/SDIO_REI_REO_V2))',
    'waiting for download',
  ],
};
