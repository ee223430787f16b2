import type { ChipFacts } from './chip.ts';
import { LATER_ROM, laterEfuseFacts, laterSpiRegisters, lpWatchdogs } from './later-rom-layout.ts';
import { type RevisionFields } from './revision-fields.ts';

const EFUSE_BASE = 0x600b0800;
const BLOCK1 = EFUSE_BASE + 0x44;

/** §8.4: major = w3[23:22], minor = w3[21:18]. */
const revision: RevisionFields = {
  major: [{ addr: BLOCK1 + 4 * 3, shift: 22, width: 2, at: 0 }],
  minor: [{ addr: BLOCK1 + 4 * 3, shift: 18, width: 4, at: 0 }],
};

export const esp32c6: ChipFacts = {
  name: 'esp32c6',
  displayName: 'ESP32-C6',
  magicValues: [0x2ce0806f],
  imageChipId: 13,
  detectByChipId: true,
  bootloaderOffset: 0x0,
  ...LATER_ROM,
  romSecurityInfoBytes: 20,
  ...laterEfuseFacts(EFUSE_BASE, revision),
  spi: laterSpiRegisters(0x60003000),
  // esptool targets/esp32c6.py (DR_REG_LP_WDT_BASE 0x600B1C00).
  ...lpWatchdogs({ wprotect: 0x18, swdConf: 0x1c }),
  // ROM MSPI divider workaround: 80m and 40m both encode as 0x0 (§11.2).
  flashFreq: { '80m': 0x0, '40m': 0x0, '20m': 0x2 },
  stubName: 'esp32c6',
  crystalMhz: 40,
  romBanner: [
    'ESP-ROM:esp32c6-20220919',
    'Build:Sep 19 2022',
    'rst:0x15 (USB_UART_HPSYS),boot:0x4 (DOWNLOAD(USB/UART0/SDIO_FEI_FEO))',
    'waiting for download',
  ],
};
