import type { ChipFacts } from './chip.ts';
import {
  LATER_ROM,
  laterEfuseFacts,
  laterSpiRegisters,
  rtcCntlSuperWatchdog,
  rtcCntlWatchdog,
} from './later-rom-layout.ts';
import { CLASSIC_FLASH_FREQS, type RevisionFields } from './revision-fields.ts';

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
  ...LATER_ROM,
  romSecurityInfoBytes: 20,
  ...laterEfuseFacts(EFUSE_BASE, revision),
  spi: laterSpiRegisters(0x60002000),
  // esptool targets/esp32c3.py (RTCCNTL_BASE_REG 0x60008000).
  rtcWatchdog: rtcCntlWatchdog(0x60008000, { config0: 0x90, wprotect: 0xa8 }),
  superWatchdog: rtcCntlSuperWatchdog(0x600080ac),
  flashFreq: CLASSIC_FLASH_FREQS,
  imageMinRevField: 'minor',
  stubName: 'esp32c3',
  crystalMhz: 40,
  romBanner: [
    'ESP-ROM:esp32c3-api1-20210207',
    'Build:Feb  7 2021',
    'rst:0x1 (POWERON),boot:0x4 (DOWNLOAD(USB/UART0/1))',
    'waiting for download',
  ],
};
