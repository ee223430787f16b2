import type { ChipFacts } from './chip.ts';
import { LATER_ROM, laterEfuseFacts, laterSpiRegisters, lpWatchdogs } from './later-rom-layout.ts';
import { type RevisionFields } from './revision-fields.ts';

const EFUSE_BASE = 0x600b0800;
const BLOCK1 = EFUSE_BASE + 0x44;

/** esptool targets/esp32h2.py: major = w3[22:21], minor = w3[20:18]. */
const revision: RevisionFields = {
  major: [{ addr: BLOCK1 + 4 * 3, shift: 21, width: 2, at: 0 }],
  minor: [{ addr: BLOCK1 + 4 * 3, shift: 18, width: 3, at: 0 }],
};

export const esp32h2: ChipFacts = {
  name: 'esp32h2',
  displayName: 'ESP32-H2',
  magicValues: [0xd7b73e80, 0x97e30068],
  imageChipId: 16,
  detectByChipId: true,
  bootloaderOffset: 0x0,
  ...LATER_ROM,
  romSecurityInfoBytes: 20,
  ...laterEfuseFacts(EFUSE_BASE, revision),
  spi: laterSpiRegisters(0x60003000),
  // esptool targets/esp32h2.py (DR_REG_LP_WDT_BASE 0x600B1C00).
  ...lpWatchdogs({ wprotect: 0x1c, swdConf: 0x20 }),
  // The H2 flash clock comes from a 96 MHz/48 MHz source (§11.2).
  flashFreq: { '48m': 0xf, '24m': 0x0, '16m': 0x1, '12m': 0x2 },
  stubName: 'esp32h2',
  // The H2 crystal is fixed at 32 MHz.
  crystalMhz: 32,
  romBanner: [
    'ESP-ROM:esp32h2-20221101',
    'Build:Nov  1 2022',
    'rst:0x1 (POWERON),boot:0x4 (DOWNLOAD(USB/UART0))',
    'waiting for download',
  ],
};
