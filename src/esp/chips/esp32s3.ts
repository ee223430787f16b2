import type { ChipFacts } from './chip.ts';
import {
  LATER_ROM,
  laterEfuseFacts,
  laterSpiRegisters,
  rtcCntlSuperWatchdog,
  rtcCntlWatchdog,
} from './later-rom-layout.ts';
import { CLASSIC_FLASH_FREQS, type RevisionFields } from './revision-fields.ts';

const EFUSE_BASE = 0x60007000;
const BLOCK1 = EFUSE_BASE + 0x44;
const BLOCK2 = EFUSE_BASE + 0x5c;

/**
 * §8.4 and esptool targets/esp32s3.py: major = w5[25:24]; minor = w5[23] << 3 | w3[20:18]; "ECO0": block version
 * v1.1 (BLOCK2 w4[1:0] = 1, BLOCK1 w3[26:24] = 1) with raw minor & 7 = 0 is v0.0.
 */
const revision: RevisionFields = {
  major: [{ addr: BLOCK1 + 4 * 5, shift: 24, width: 2, at: 0 }],
  minor: [
    { addr: BLOCK1 + 4 * 3, shift: 18, width: 3, at: 0 },
    { addr: BLOCK1 + 4 * 5, shift: 23, width: 1, at: 3 },
  ],
  v0WhenAll: [
    { addr: BLOCK2 + 4 * 4, shift: 0, width: 2, value: 1 },
    { addr: BLOCK1 + 4 * 3, shift: 24, width: 3, value: 1 },
  ],
};

export const esp32s3: ChipFacts = {
  name: 'esp32s3',
  displayName: 'ESP32-S3',
  magicValues: [0x00000009],
  imageChipId: 9,
  detectByChipId: true,
  bootloaderOffset: 0x0,
  ...LATER_ROM,
  romSecurityInfoBytes: 20,
  ...laterEfuseFacts(EFUSE_BASE, revision),
  spi: laterSpiRegisters(0x60002000),
  // esptool targets/esp32s3.py (RTCCNTL_BASE_REG 0x60008000).
  rtcWatchdog: rtcCntlWatchdog(0x60008000, { config0: 0x98, wprotect: 0xb0 }),
  superWatchdog: rtcCntlSuperWatchdog(0x600080b4),
  forceDownloadBoot: { addr: 0x6000812c, mask: 0x1 },
  flashFreq: CLASSIC_FLASH_FREQS,
  stubName: 'esp32s3',
  crystalMhz: 40,
  romBanner: [
    'ESP-ROM:esp32s3-20210327',
    'Build:Mar 27 2021',
    'rst:0x1 (POWERON),boot:0x0 (DOWNLOAD(USB/UART0))',
    'waiting for download',
  ],
};
