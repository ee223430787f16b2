import type { ChipFacts } from './chip.ts';
import { LATER_ROM, laterEfuseFacts, laterSpiRegisters, rtcCntlWatchdog } from './later-rom-layout.ts';
import { CLASSIC_FLASH_FREQS, type RevisionFields } from './revision-fields.ts';

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
  ...LATER_ROM,
  romSecurityInfoBytes: 12,
  ...laterEfuseFacts(EFUSE_BASE, revision),
  spi: laterSpiRegisters(0x3f402000),
  // esptool targets/esp32s2.py: an RTC watchdog (for watchdog_reset) but no USB-Serial/JTAG, so no SWD handling.
  rtcWatchdog: rtcCntlWatchdog(0x3f408000, { config0: 0x94, wprotect: 0xac }),
  flashFreq: CLASSIC_FLASH_FREQS,
  stubName: 'esp32s2',
  crystalMhz: 40,
  romBanner: [
    'ESP-ROM:esp32s2-rc4-20191025',
    'Build:Oct 25 2019',
    'rst:0x1 (POWERON),boot:0x0 (DOWNLOAD(USB/UART0/1))',
    'waiting for download',
  ],
};
