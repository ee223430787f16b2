import type { ChipFacts } from '../esp/chips/chip.ts';
import type { SimChipExtras } from './chip-extras.ts';
import { checkImage } from './image-check.ts';
import type { NorFlash } from './nor-flash.ts';
import { readPartitionTable, type SimPartition } from './partition-table-reader.ts';

export interface FlashBootResult {
  /** ROM + 2nd-stage bootloader lines, printed right after reset. */
  bootLines: string[];
  /** Lines the app prints once it runs (after the app start time); empty when nothing boots. */
  appLines: string[];
  /** What was found in flash. */
  bootloader: boolean;
  partitionTable: boolean;
  app: boolean;
}

const hex = (n: number) => `0x${n.toString(16)}`;

/** The app the bootloader picks: factory if present, else ota_0 (otadata is assumed initial). */
function pickApp(parts: SimPartition[]): SimPartition | undefined {
  return (
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
  opts: { resetLine?: string; flashEncryption: boolean; secureBoot: boolean },
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
    result.appLines.push(...appOutput(bl.project));
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
    'I (29) boot: ESP-IDF 2nd stage bootloader',
    'I (31) boot: chip revision: v3.0',
  );
  const table = readPartitionTable(flash, 0x8000);
  if (!table.ok) {
    lines.push(`E (40) flash_parts: ${table.reason}`, 'E (45) boot: load partition table error!');
    return result;
  }
  result.partitionTable = true;
  lines.push(
    'I (40) boot: Partition Table:',
    'I (42) boot: ## Label            Usage          Type ST Offset   Length',
  );
  table.partitions.forEach((p, i) => {
    lines.push(
      `I (${45 + i}) boot: ${String(i).padStart(2)} ${p.label.padEnd(16)} ${'-'.padEnd(14)} ${hex(
        p.type,
      ).padStart(
        2,
      )} ${p.subtype.toString(16).padStart(2, '0')} ${p.offset.toString(16).padStart(8, '0')} ${p.size
        .toString(16)
        .padStart(8, '0')}`,
    );
  });
  lines.push('I (60) boot: End of partition table');
  const appPart = pickApp(table.partitions);
  if (!appPart) {
    lines.push('E (62) boot: No bootable app partitions in the partition table');
    return result;
  }
  const app = checkImage(flash, appPart.offset, chip);
  if (!app.ok || app.shaOk === false) {
    const why = app.ok ? 'Image hash failed - image is corrupt' : app.reason;
    lines.push(
      `E (65) esp_image: image at ${hex(appPart.offset)} has ${why}`,
      `E (66) boot: ${appPart.label} app partition is not bootable`,
      'E (67) boot: No bootable app partitions in the partition table',
    );
    return result;
  }
  result.app = true;
  lines.push(
    `I (70) boot: Loaded app from partition at offset ${hex(appPart.offset)}`,
    'I (75) boot: Disabling RNG early entropy source...',
  );
  result.appLines.push(...appOutput(app.project));
  return result;
}

function appOutput(project: string | undefined): string[] {
  const out = [
    `I (300) app_init: Project name:     ${project ?? 'unknown'}`,
    'I (310) main_task: Calling app_main()',
  ];
  // ESP-AT prints `ready` when its AT command interface is up.
  if (project && /esp-at|^at$/i.test(project)) out.push('', 'ready');
  return out;
}
