import type { ChipFacts } from './chip.ts';
import { LATER_ROM, laterSpiRegisters, revisionFacts } from './later-rom-layout.ts';
import { type RevisionFields } from './revision-fields.ts';

const EFUSE_BASE = 0x60008800;
const BLOCK2 = EFUSE_BASE + 0x40;

/** esptool targets/esp32c2.py: major = BLOCK2 w1[21:20], minor = BLOCK2 w1[19:16]. */
const revision: RevisionFields = {
  major: [{ addr: BLOCK2 + 4, shift: 20, width: 2, at: 0 }],
  minor: [{ addr: BLOCK2 + 4, shift: 16, width: 4, at: 0 }],
};

export const esp32c2: ChipFacts = {
  name: 'esp32c2',
  displayName: 'ESP32-C2',
  magicValues: [0x6f51306f, 0x7c41a06f, 0x0c21e06f],
  imageChipId: 12,
  detectByChipId: true,
  bootloaderOffset: 0x0,
  ...LATER_ROM,
  romSecurityInfoBytes: 20,
  macRegisters: [EFUSE_BASE + 0x40, EFUSE_BASE + 0x44],
  macLayout: 'standard',
  flashCryptCnt: { addr: EFUSE_BASE + 0x30, shift: 7, mask: 0x7 },
  secureBootFuses: [{ addr: EFUSE_BASE + 0x30, shift: 21, mask: 0x1, version: 2 }],
  ...revisionFacts(revision),
  spi: laterSpiRegisters(0x60002000),
  // The C2 runs its flash clock from a 60 MHz source (§11.2).
  flashFreq: { '60m': 0xf, '30m': 0x0, '20m': 0x1, '15m': 0x2 },
  stubName: 'esp32c2',
  crystalMhz: 40,
  romBanner: [
    'ESP-ROM:esp32c2-20220211',
    'Build:Feb 11 2022',
    'rst:0x1 (POWERON),boot:0x4 (DOWNLOAD(UART0))',
    'waiting for download',
  ],
};
