import { crc32 } from 'node:zlib';
import type { ChipFacts } from '../esp/chips/chip.ts';
import { isEspAtProject, readAtFirmware, type AtFirmware } from './at-firmware.ts';
import type { SimChipExtras } from './chip-extras.ts';
import { checkImage } from './image-check.ts';
import type { NorFlash } from './nor-flash.ts';
import { readPartitionTable, type SimPartition } from './partition-table-reader.ts';

export interface FlashBootResult {
  /** ROM + 2nd-stage bootloader lines, printed on UART0 right after reset. */
  bootLines: string[];
  /** Lines the app prints on UART0 once it runs (after the app start time); empty when nothing boots. */
  appLines: string[];
  /**
   * The ESP-AT app found in flash, as it reads itself and its mfg_nvs at start-up: it brings up the AT port
   * (UART1) and prints `ready` there (src/sim/at-app.ts). Never on UART0 — a real ESP-AT board's download port
   * carries only the boot log (fixtures/boot-logs in the docs). Undefined for any other app, or none.
   */
  atFirmware?: AtFirmware;
  /** Offset of the app partition that booted. */
  appOffset?: number;
  /** What was found in flash. */
  bootloader: boolean;
  partitionTable: boolean;
  app: boolean;
}

const hex = (n: number) => `0x${n.toString(16)}`;

/** ESP-IDF colours its log lines by level, and the chip sends the escape sequences as they are. */
const info = (text: string) => `\x1b[0;32mI ${text}\x1b[0m`;
const error = (text: string) => `\x1b[0;31mE ${text}\x1b[0m`;

/** ESP-IDF's esp_ota_select_entry_t: ota_seq, seq_label[20], ota_state, crc (over ota_seq). */
const OTA_ENTRY_BYTES = 32;
/** ota_state values the bootloader never boots (ESP_OTA_IMG_INVALID, ESP_OTA_IMG_ABORTED). */
const OTA_STATE_REFUSED = new Set([3, 4]);

/**
 * The OTA slot otadata selects, as ESP-IDF's bootloader decides it: of the two 4 KB otadata sectors, the valid
 * entry (ota_seq not 0xFFFFFFFF, its CRC32 right, not marked invalid/aborted) with the highest ota_seq names
 * slot (ota_seq - 1) % count. Undefined when neither is valid (an erased otadata: ota_data_initial.bin).
 */
function otaSlotFromOtadata(flash: NorFlash, parts: SimPartition[]): number | undefined {
  const otadata = parts.find((p) => p.type === 1 && p.subtype === 0x00);
  const slots = parts.filter((p) => p.type === 0 && p.subtype >= 0x10 && p.subtype < 0x20).length;
  if (!otadata || slots === 0) return undefined;
  let best: number | undefined;
  for (const at of [otadata.offset, otadata.offset + 0x1000]) {
    const e = flash.read(at, OTA_ENTRY_BYTES);
    const seq = e.readUInt32LE(0);
    if (seq === 0xffffffff || OTA_STATE_REFUSED.has(e.readUInt32LE(24))) continue;
    if (e.readUInt32LE(28) !== crc32(e.subarray(0, 4), 0xffffffff)) continue;
    if (best === undefined || seq > best) best = seq;
  }
  return best === undefined ? undefined : (best - 1) % slots;
}

/** The app the bootloader picks: the OTA slot otadata selects, else factory if present, else ota_0. */
function pickApp(flash: NorFlash, parts: SimPartition[]): SimPartition | undefined {
  const slot = otaSlotFromOtadata(flash, parts);
  const ota = slot === undefined ? undefined : parts.find((p) => p.type === 0 && p.subtype === 0x10 + slot);
  return (
    ota ??
    parts.find((p) => p.type === 0 && p.subtype === 0x00) ??
    parts.find((p) => p.type === 0 && p.subtype === 0x10)
  );
}

/**
 * What a board prints when it boots from flash (EN released with IO0 high), decided by what is really in
 * flash: a valid 2nd-stage bootloader at the chip's offset, a partition table at 0x8000 (MD5 line checked),
 * and a valid app in the factory/ota_0 partition. An ESP-AT app ends with `ready`.
 */
export function flashBootLog(
  flash: NorFlash,
  chip: ChipFacts,
  extras: SimChipExtras,
  opts: {
    resetLine?: string;
    flashEncryption: boolean;
    secureBoot: boolean;
    revision: number;
    /** ESP-AT cannot initialise its mfg_nvs (the at-bad-mfg fault). */
    mfgUnreadable?: boolean;
  },
): FlashBootResult {
  const lines: string[] = [];
  const esp8266 = chip.name === 'esp8266';
  const result: FlashBootResult = {
    bootLines: lines,
    appLines: [],
    bootloader: false,
    partitionTable: false,
    app: false,
  };
  if (!esp8266) lines.push(chip.romBanner[0] ?? chip.displayName, '');
  lines.push(opts.resetLine ?? extras.flashBootLine);
  if (opts.flashEncryption) {
    // Plaintext written over serial is "decrypted" by the flash cache into garbage.
    lines.push('flash read err, 1000', 'ets_main.c 371 ');
    return result;
  }
  const bl = checkImage(flash, chip.bootloaderOffset, chip);
  if (!bl.ok) {
    lines.push(bl.reason, 'ets_main.c 371 ');
    return result;
  }
  if (esp8266) {
    // ESP8266: the image at 0 is the app itself (no separate partition table needed by the ROM).
    result.bootloader = result.partitionTable = result.app = true;
    lines.push(`load ${hex(bl.entry)}, len ${bl.length}`, `entry ${hex(bl.entry)}`);
    appOutput(result, bl.project, () => undefined);
    return result;
  }
  if (bl.shaOk === false) {
    lines.push('SHA-256 comparison failed:', 'Attempting to boot anyway...');
  }
  if (opts.secureBoot && bl.shaOk !== true) {
    lines.push('secure boot check fail', 'ets_main.c 371 ');
    return result;
  }
  result.bootloader = true;
  lines.push(
    `entry ${hex(bl.entry)}`,
    info('(757) boot: ESP-IDF 2nd stage bootloader'),
    info(`(773) boot: chip revision: v${Math.floor(opts.revision / 100)}.${opts.revision % 100}`),
  );
  const table = readPartitionTable(flash, 0x8000);
  if (!table.ok) {
    lines.push(error(`(790) flash_parts: ${table.reason}`), error('(795) boot: load partition table error!'));
    return result;
  }
  result.partitionTable = true;
  lines.push(
    info('(808) boot: Partition Table:'),
    info('(808) boot: ## Label            Usage          Type ST Offset   Length'),
  );
  table.partitions.forEach((p, i) => {
    const cols = [
      String(i).padStart(2),
      p.label.padEnd(16),
      '-'.padEnd(14),
      p.type.toString(16).padStart(2, '0'),
      p.subtype.toString(16).padStart(2, '0'),
      p.offset.toString(16).padStart(8, '0'),
      p.size.toString(16).padStart(8, '0'),
    ];
    lines.push(info(`(809) boot: ${cols.join(' ')}`));
  });
  lines.push(info('(821) boot: End of partition table'));
  const appPart = pickApp(flash, table.partitions);
  if (!appPart) {
    lines.push(error('(848) boot: No bootable app partitions in the partition table'));
    return result;
  }
  const app = checkImage(flash, appPart.offset, chip);
  if (!app.ok || app.shaOk === false) {
    const why = app.ok ? 'Image hash failed - image is corrupt' : app.reason;
    lines.push(
      error(`(864) esp_image: image at ${hex(appPart.offset)} has ${why}`),
      error(`(866) boot: ${appPart.label} app partition is not bootable`),
      error('(867) boot: No bootable app partitions in the partition table'),
    );
    return result;
  }
  result.app = true;
  result.appOffset = appPart.offset;
  lines.push(
    info(`(1231) boot: Loaded app from partition at offset ${hex(appPart.offset)}`),
    info('(1234) boot: Disabling RNG early entropy source...'),
  );
  appOutput(result, app.project, () =>
    readAtFirmware(flash, chip.name, appPart.offset, table.partitions, { mfgUnreadable: opts.mfgUnreadable }),
  );
  return result;
}

/**
 * What the app prints on UART0: ESP-AT logs how it found its factory parameters (`at param mode:`) and brings
 * up its AT port; another ESP-IDF app logs its start-up.
 */
function appOutput(
  result: FlashBootResult,
  project: string | undefined,
  atFirmware: () => AtFirmware | undefined,
): void {
  const at = isEspAtProject(project) ? atFirmware() : undefined;
  if (at) {
    result.appLines.push(`at param mode: ${at.paramMode}`);
    result.atFirmware = at;
    return;
  }
  result.appLines.push(
    info(`(300) app_init: Project name:     ${project ?? 'unknown'}`),
    info('(310) main_task: Calling app_main()'),
  );
}
