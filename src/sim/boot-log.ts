import type { ChipFacts } from '../esp/chips/chip.ts';
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
   * What the app prints on its AT port (UART1) once its command interface is up: ESP-AT's `ready`. Never on
   * UART0 — a real ESP-AT board's download port carries only the boot log (fixtures/boot-logs in the docs).
   */
  atLines: string[];
  /** What was found in flash. */
  bootloader: boolean;
  partitionTable: boolean;
  app: boolean;
}

const hex = (n: number) => `0x${n.toString(16)}`;

/** ESP-IDF colours its log lines by level, and the chip sends the escape sequences as they are. */
const info = (text: string) => `\x1b[0;32mI ${text}\x1b[0m`;
const error = (text: string) => `\x1b[0;31mE ${text}\x1b[0m`;

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
  opts: { resetLine?: string; flashEncryption: boolean; secureBoot: boolean; revision: number },
): FlashBootResult {
  const lines: string[] = [];
  const esp8266 = chip.name === 'esp8266';
  const result: FlashBootResult = {
    bootLines: lines,
    appLines: [],
    atLines: [],
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
    appOutput(result, bl.project);
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
  const appPart = pickApp(table.partitions);
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
  lines.push(
    info(`(1231) boot: Loaded app from partition at offset ${hex(appPart.offset)}`),
    info('(1234) boot: Disabling RNG early entropy source...'),
  );
  appOutput(result, app.project);
  return result;
}

/**
 * What the app prints: ESP-AT logs `at param mode:` on UART0 and announces `ready` on its AT port; another
 * ESP-IDF app logs its start-up on UART0.
 */
function appOutput(result: FlashBootResult, project: string | undefined): void {
  if (project && /esp-at|^at$/i.test(project)) {
    result.appLines.push('at param mode: 1');
    result.atLines.push('', 'ready');
    return;
  }
  result.appLines.push(
    info(`(300) app_init: Project name:     ${project ?? 'unknown'}`),
    info('(310) main_task: Calling app_main()'),
  );
}
