/**
 * Facts about one ESP chip, as data. One module per chip in this folder exports a `ChipFacts`.
 * The flasher, the firmware checks and the simulated chip all read these; nothing else hard-codes them.
 * Values follow esptool v5.3.1's targets/ and Espressif's serial protocol documentation (the § numbers in
 * comments are the sections of the team's protocol notes).
 */
export type ChipName =
  'esp8266' | 'esp32' | 'esp32s2' | 'esp32s3' | 'esp32c2' | 'esp32c3' | 'esp32c6' | 'esp32h2';

/** How the 6-byte base MAC is assembled from its two eFuse words (§9.1). */
export type MacLayout =
  /** ESP32: big-endian pack (word2, word1), drop the 2 CRC bytes. Registers = [word1, word2]. */
  | 'esp32'
  /** S2 and later: mac1>>8, mac1, mac0>>24, mac0>>16, mac0>>8, mac0. Registers = [mac0, mac1]. */
  | 'standard'
  /** ESP8266 OTP: registers = [MAC0, MAC1, MAC3]; OUI from MAC3 or derived from MAC1. */
  | 'esp8266';

/** A field of a register: value = (read(addr) >> shift) & mask. */
export interface RegField {
  addr: number;
  shift: number;
  mask: number;
}

/** An eFuse field that, when non-zero, means secure boot of `version` is on (§9.2). */
export interface SecureBootFuse extends RegField {
  version: 1 | 2;
  /** The field counts only from this chip revision (major*100+minor) on: ESP32's ABS_DONE_1 from v3.0. */
  fromRevision?: number;
}

export interface ChipFacts {
  name: ChipName;
  /** Human name, e.g. 'ESP32-S3'. */
  displayName: string;
  /** READ_REG 0x40001000 values that identify this chip (§8.2); may be several per ECO. */
  magicValues: readonly number[];
  /** IMAGE_CHIP_ID (image header + GET_SECURITY_INFO chip_id); undefined for ESP8266. */
  imageChipId: number | undefined;
  /** True when esptool detects this chip by GET_SECURITY_INFO chip_id rather than the magic value. */
  detectByChipId: boolean;
  /** Where the 2nd stage bootloader lives in flash (§11.1). */
  bootloaderOffset: number;
  /** ROM status bytes per reply: 2 on ESP8266, 4 on every ESP32-family ROM (§1.3). */
  romStatusBytes: 2 | 4;
  /** FLASH_BEGIN / FLASH_DEFL_BEGIN to the ROM takes the 5th `encrypted` word (S2 and later) (§2.1). */
  romFlashBeginHasEncryptedWord: boolean;
  /** ROM supports GET_SECURITY_INFO, and how many bytes it answers (S2: 12, later: 20) (§2.1, §8.3). */
  romSecurityInfoBytes: 0 | 12 | 20;
  /** ROM supports compressed writes, SPI_ATTACH, CHANGE_BAUDRATE, MD5 (false only on ESP8266). */
  romHasEsp32Commands: boolean;
  /** eFuse MAC registers and layout (§9.1). */
  macRegisters: readonly number[];
  macLayout: MacLayout;
  /** Security state by register (§9.2); undefined where there is none (ESP8266). */
  flashCryptCnt?: RegField;
  /** Secure boot eFuses, any of which set means secure boot is on (esptool `get_secure_boot_enabled`). */
  secureBootFuses?: readonly SecureBootFuse[];
  /**
   * Which version the legacy `min_rev` byte of an image header compares against when the image has no
   * min/max_rev_full: ESP-IDF writes the minor version there on ESP32-C3, the major one elsewhere (esptool
   * write_flash). Default 'major'.
   */
  imageMinRevField?: 'minor';
  /** Chip revision (major*100+minor) from register words (§8.4). Reads registers through `read`. */
  readRevision(read: (addr: number) => Promise<number>): Promise<number>;
  /** Register addresses `readRevision` needs, with values giving revision `rev` (used by the simulator). */
  revisionRegisters(rev: number): ReadonlyMap<number, number>;
  /** SPI peripheral registers for RDID etc. (§10.1). */
  spi: {
    base: number;
    usr: number;
    usr1: number;
    usr2: number;
    mosiDlen?: number;
    misoDlen?: number;
    w0: number;
  };
  /** Flash frequency nibble by name, e.g. { '40m': 0x0, '80m': 0xf } (§11.2). */
  flashFreq: Readonly<Record<string, number>>;
  /** Flash size nibble by name, e.g. { '4MB': 2 } (§11.2). */
  flashSize: Readonly<Record<string, number>>;
  /** Name of the chip's stub JSON in each pinned release (src/esp/stubs/esp-flasher-stub-<release>/<stubName>.json). */
  stubName: string;
  /**
   * RTC (LP) watchdog: CONFIG0 (bit 31 enables), CONFIG1 (timeout), WPROTECT (unlocked by WATCHDOG_WRITE_KEY)
   * (esptool `watchdog_reset`, `disable_watchdogs`). Absent where esptool has none (ESP8266, ESP32).
   */
  rtcWatchdog?: { config0: number; config1: number; wprotect: number };
  /**
   * Super watchdog of chips with a USB-Serial/JTAG peripheral: CONF (auto-feed bit), WPROTECT and its key.
   * Over 303a:1001 esptool disables the RTC watchdog and sets auto-feed after connecting: a reset through that
   * peripheral leaves the RTC domain (and the watchdogs the firmware armed) running.
   */
  superWatchdog?: { conf: number; wprotect: number; key: number; autoFeed: number };
  /**
   * RTC_CNTL_OPTION1 FORCE_DOWNLOAD_BOOT (ESP32-S3): firmware may set it to reboot into the ROM, and the ROM never
   * clears it, so esptool clears it before the hard reset (arduino-esp32 #6762).
   */
  forceDownloadBoot?: { addr: number; mask: number };
  /**
   * ESP32: where eFuse keeps SPI_PAD_CONFIG (the GPIOs of in-package or custom-wired flash). The ROM's SPI_ATTACH
   * with 0 uses the default pins, so esptool attaches with these (`get_chip_spi_pads`).
   */
  spiPadConfig?: { clkQDCs: number; hd: number };
  /** Default crystal in MHz and the ROM boot banner lines printed on reset into download mode (§7). */
  crystalMhz: number;
  romBanner: readonly string[];
}
