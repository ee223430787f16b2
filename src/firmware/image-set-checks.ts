/**
 * Everything that can be known about an image set before any board is touched (issue 4, "Checks"): files
 * exist and are readable, offsets aligned, no overlaps, everything fits the flash, bootloader and app images
 * parse and are for the profile's chip, partition tables parse (MD5 line checked) and each file fits the
 * partition at its offset, at_customize.bin parses as a table. Every failure is a Problem pointing at the
 * line that declared the region (flasher_args.json / download.config / profile) and naming the file.
 */
import { readFile, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Problem } from '../config/problems.ts';
import { formatByteSize, formatHex } from '../config/byte-size.ts';
import type { ChipFacts } from '../esp/chips/index.ts';
import { chipByImageChipId } from '../esp/chips/index.ts';
import type { FlashSettings } from './flash-settings.ts';
import { flashSettingsProblems, flashSizeBytes, headerFieldNames } from './flash-settings.ts';
import { DEFAULT_PARTITION_TABLE_OFFSET, findPartitionTables, partitionFor } from './flash-layout.ts';
import type { FoundTable, LoadedRegion } from './flash-layout.ts';
import { parseFirmwareImage } from './image-format.ts';
import type { ImageSet, ImageSetRegion } from './image-set.ts';
import {
  PARTITION_TABLE_LENGTH,
  parsePartitionTable,
  partitionLayoutProblems,
  partitionTableEnd,
} from './partition-table.ts';

export const SECTOR = 0x1000;
/** No ESP chip maps more flash than this (128 MiB, octal flash on the S3); an image ending past it cannot fit. */
const MAX_FLASH_BYTES = 128 * 1024 * 1024;

export interface ImageSetCheck {
  problems: Problem[];
  /** Regions whose file could be read. */
  loaded: LoadedRegion[];
  tables: FoundTable[];
  /** Flash size the checks used ('detect' without minFlashSize: undefined). */
  flashBytes?: number;
}

export interface CheckOptions {
  /** From the profile's checks.minFlashSize: the smallest flash a board may have (used with size detect). */
  minFlashSize?: number;
}

export async function checkImageSet(
  set: ImageSet,
  chip: ChipFacts,
  settings: FlashSettings,
  opts: CheckOptions = {},
): Promise<ImageSetCheck> {
  const problems: Problem[] = [];
  const at = (r: ImageSetRegion, message: string): Problem => ({
    ...r.declaredAt,
    message: `${rel(set, r.file)}: ${message}`,
  });

  if (set.chip && set.chip !== chip.name) {
    problems.push({
      file: set.sourceFile,
      key: 'extra_esptool_args.chip',
      message: `the image set was built for ${set.chip} but the profile says ${chip.name}; use a build for ${chip.name} or fix the profile's chip`,
    });
  }
  for (const p of flashSettingsProblems(chip, settings))
    problems.push({
      file: set.sourceFile,
      ...set.settingsDeclaredAt?.[p.key],
      key: `flash.${p.key}`,
      message: p.message,
    });

  // 1. files exist and are readable
  const loaded: LoadedRegion[] = [];
  const releaseDir = path.dirname(set.sourceFile);
  const releaseReal = await realpath(releaseDir).catch(() => releaseDir);
  for (const r of set.regions) {
    try {
      // A release names files inside its own folder; ../../etc/passwd or /root/x.bin would be written to a
      // board (and shipped). An engineer who means it lists the file in the profile's imageSet.files.
      if (set.kind === 'flasherArgs' || set.kind === 'downloadConfig') {
        const real = await realpath(r.file).catch(() => path.resolve(r.file));
        if (real !== releaseReal && !real.startsWith(releaseReal + path.sep)) {
          problems.push(
            at(
              r,
              `${r.file} is outside the release folder ${releaseDir}; copy it into the folder, or list it in the profile's imageSet.files if it is meant`,
            ),
          );
          continue;
        }
      }
      // A FIFO or device would block the read forever: refuse anything that is not a regular file.
      const st = await stat(r.file);
      if (!st.isFile() && !st.isDirectory()) {
        problems.push(at(r, 'is not a regular file (a FIFO, socket or device); point at an image file'));
        continue;
      }
      // Known too big from its size alone: never read a 1 GiB file to find out it cannot fit.
      if (st.isFile() && r.offset + st.size > MAX_FLASH_BYTES) {
        problems.push(
          at(
            r,
            `is ${formatByteSize(st.size)}: at ${formatHex(r.offset)} it ends beyond ${formatByteSize(MAX_FLASH_BYTES)}, more than any ESP flash; is this the right file?`,
          ),
        );
        continue;
      }
      const data = new Uint8Array(await readFile(r.file));
      if (data.length === 0) problems.push(at(r, 'file is empty'));
      loaded.push({ offset: r.offset, label: r.label, file: r.file, data });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const why =
        code === 'ENOENT'
          ? 'file not found'
          : code === 'EACCES'
            ? 'file not readable (permission denied)'
            : code === 'EISDIR'
              ? 'is a directory, not an image file'
              : String(err);
      problems.push(at(r, `${why}; check the path (relative to ${path.basename(set.sourceFile)})`));
    }
  }
  const lengths = new Map(loaded.map((l) => [`${l.offset}:${l.file}`, l.data.length]));
  const lengthOf = (r: ImageSetRegion) => lengths.get(`${r.offset}:${r.file}`);

  // esp-station writes plaintext only; an image set that asks for encrypted writes must not be flashed as if not.
  for (const r of set.regions) {
    if (r.encrypted) {
      problems.push(
        at(
          r,
          'is marked encrypted; esp-station does not do encrypted writes — use a build without flash encryption in development mode',
        ),
      );
    }
  }

  // 2. alignment, duplicates and overlaps
  for (const r of set.regions) {
    if (r.offset % SECTOR !== 0)
      problems.push(at(r, `offset ${formatHex(r.offset)} is not 4 KB aligned; use a multiple of 0x1000`));
  }
  // Regions are sorted by offset; compare each with every earlier one that reaches past its start.
  for (let i = 1; i < set.regions.length; i++) {
    const b = set.regions[i];
    for (let j = 0; j < i; j++) {
      const a = set.regions[j];
      const len = lengthOf(a);
      if (a.offset === b.offset) {
        problems.push(
          at(b, `offset ${formatHex(b.offset)} is also given to ${rel(set, a.file)}; one file per offset`),
        );
      } else if (len !== undefined && a.offset + len > b.offset) {
        problems.push(
          at(
            b,
            `overlaps ${rel(set, a.file)} (${formatHex(a.offset)}..${formatHex(a.offset + len)}); it starts at ${formatHex(b.offset)}, inside it`,
          ),
        );
      }
    }
  }

  // 3. the bootloader parses, is for this chip, and says which flash size 'keep' means
  const boot =
    set.regions.find((r) => r.offset === chip.bootloaderOffset) ??
    (set.kind === 'merged' ? set.regions[0] : undefined);
  let headerSizeBytes: number | undefined;
  if (!boot && set.kind !== 'merged') {
    problems.push({
      file: set.sourceFile,
      message: `no image at ${chip.displayName}'s bootloader offset ${formatHex(chip.bootloaderOffset)}; a board without a bootloader will not boot`,
    });
  }
  if (boot) {
    const data = loaded.find((l) => l.file === boot.file)?.data;
    if (data) {
      const bytes = set.kind === 'merged' ? data.subarray(chip.bootloaderOffset) : data;
      const what =
        set.kind === 'merged'
          ? `bootloader inside the merged image (at ${formatHex(chip.bootloaderOffset)})`
          : 'bootloader';
      const size = checkImage(bytes, chip, what, (m) => problems.push(at(boot, m)));
      headerSizeBytes = size === undefined ? undefined : flashSizeBytes(size);
    }
  }

  // A merged image carries its own partition table and app: check them inside it.
  if (set.kind === 'merged' && boot) {
    const data = loaded.find((l) => l.file === boot.file)?.data;
    if (data) for (const m of mergedImageProblems(data, chip)) problems.push(at(boot, m));
  }

  // 4. partition tables (main and at_customize) parse and lay out correctly
  const { tables, unparsable } = findPartitionTables(loaded);
  for (const u of unparsable) {
    const r = set.regions.find((x) => x.file === u.region.file && x.offset === u.region.offset);
    if (r) for (const m of u.problems) problems.push(at(r, `not a valid partition table: ${m}`));
  }
  for (const t of tables) {
    const r = set.regions.find((x) => x.offset === t.offset);
    if (!r) continue;
    for (const m of t.problems) problems.push(at(r, `partition table: ${m}`));
    const isMain = t.offset === tables[0]?.offset;
    for (const m of partitionLayoutProblems(t.table, isMain ? { firstUsableOffset: t.offset + SECTOR } : {}))
      problems.push(at(r, `partition table: ${m}`));
    const len = lengthOf(r);
    if (len !== undefined && len > PARTITION_TABLE_LENGTH)
      problems.push(at(r, `is ${len} bytes; a partition table is at most 0xC00 bytes`));
  }
  const main = tables[0];
  if (main && boot && set.kind !== 'merged') {
    const len = lengthOf(boot);
    if (len !== undefined && boot.offset + len > main.offset) {
      problems.push(
        at(
          boot,
          `bootloader ends at ${formatHex(boot.offset + len)}, past the partition table at ${formatHex(main.offset)}`,
        ),
      );
    }
  }
  // ESP8266 (NONOS / RTOS SDK 2.x) images have no partition table at all.
  if (!main && set.kind !== 'merged' && chip.name !== 'esp8266')
    problems.push({
      file: set.sourceFile,
      message:
        'no partition table in the image set (expected one at 0x8000); the bootloader will not find the app',
    });

  // 5. every file fits its partition; app images parse and are for this chip
  for (const r of set.regions) {
    const len = lengthOf(r);
    if (len === undefined || r === boot || tables.some((t) => t.offset === r.offset)) continue;
    const p = partitionFor(tables, r.offset);
    if (p) {
      const end = p.offset + p.size;
      if (r.offset + len > end) {
        problems.push(
          at(
            r,
            `is ${len} bytes (${formatByteSize(len)}) but partition '${p.label}' at ${formatHex(p.offset)} ends at ${formatHex(end)}; it is ${r.offset + len - end} bytes too big`,
          ),
        );
      }
      if (p.type === 0x00 && p.offset === r.offset) {
        const data = loaded.find((l) => l.file === r.file)?.data;
        if (data) checkImage(data, chip, `app for partition '${p.label}'`, (m) => problems.push(at(r, m)));
      }
    } else if (main) {
      problems.push(
        at(
          r,
          `offset ${formatHex(r.offset)} is in no partition of the partition table; the firmware will never read it`,
        ),
      );
    }
    if (!p && r.label === 'app') {
      const data = loaded.find((l) => l.file === r.file)?.data;
      if (data) checkImage(data, chip, 'app', (m) => problems.push(at(r, m)));
    }
  }

  // 6. everything fits the flash
  const flashBytes =
    settings.size === 'keep'
      ? headerSizeBytes
      : settings.size === 'detect'
        ? opts.minFlashSize
        : flashSizeBytes(settings.size);
  if (flashBytes !== undefined) {
    const sizeName = formatByteSize(flashBytes);
    for (const r of set.regions) {
      const len = lengthOf(r);
      if (len !== undefined && r.offset + len > flashBytes) {
        problems.push(
          at(
            r,
            `ends at ${formatHex(r.offset + len)}, beyond the ${sizeName} flash; use a larger flash size or a smaller image`,
          ),
        );
      }
    }
    for (const t of tables) {
      const end = partitionTableEnd(t.table);
      const r = set.regions.find((x) => x.offset === t.offset);
      if (r && end > flashBytes)
        problems.push(
          at(
            r,
            `partition table needs flash up to ${formatHex(end)} (${formatByteSize(end)}) but the flash is ${sizeName}`,
          ),
        );
    }
  }
  if (opts.minFlashSize !== undefined && flashBytes !== undefined && flashBytes < opts.minFlashSize) {
    problems.push({
      file: set.sourceFile,
      key: 'flash.size',
      message: `flash size ${formatByteSize(flashBytes)} is below checks.minFlashSize ${formatByteSize(opts.minFlashSize)}`,
    });
  }
  return { problems, loaded, tables, flashBytes };
}

/** Parses an image and reports its problems; returns the header's flash size name when it parsed. */
export function checkImage(
  data: Uint8Array,
  chip: ChipFacts,
  what: string,
  report: (message: string) => void,
): string | undefined {
  const parsed = parseFirmwareImage(data, chip.imageChipId !== undefined);
  for (const m of parsed.problems) report(`${what}: ${m}`);
  if (!parsed.ok) return undefined;
  const ext = parsed.image.extended;
  if (ext && chip.imageChipId !== undefined && ext.chipId !== chip.imageChipId) {
    const other = chipByImageChipId(ext.chipId);
    report(
      `${what} is built for ${other ? other.displayName : `chip id ${ext.chipId}`} (chip id ${ext.chipId}), not ${chip.displayName} (chip id ${chip.imageChipId}); use the build for ${chip.displayName}`,
    );
  }
  return headerFieldNames(
    chip,
    parsed.image.flashModeByte,
    parsed.image.flashSizeNibble,
    parsed.image.flashFreqNibble,
  ).size;
}

function rel(set: ImageSet, file: string): string {
  const r = path.relative(path.dirname(set.sourceFile), file);
  return r.startsWith('..') ? file : r;
}

/**
 * A merged factory image (esptool merge_bin, ESP-AT's factory_*.bin) written at 0x0: the partition table at
 * 0x8000 inside it must parse, and the app the bootloader will pick (factory, else ota_0) must be there,
 * parse and be for this chip.
 */
export function mergedImageProblems(data: Uint8Array, chip: ChipFacts): string[] {
  const out: string[] = [];
  if (chip.name === 'esp8266') return out;
  const at = DEFAULT_PARTITION_TABLE_OFFSET;
  if (data.length < at + PARTITION_TABLE_LENGTH) {
    return [`merged image is ${data.length} bytes; it ends before the partition table at ${formatHex(at)}`];
  }
  const parsed = parsePartitionTable(data.subarray(at, at + PARTITION_TABLE_LENGTH));
  if (!parsed.ok)
    return parsed.problems.map((m) => `partition table inside the merged image (at ${formatHex(at)}): ${m}`);
  for (const m of [
    ...parsed.problems,
    ...partitionLayoutProblems(parsed.table, { firstUsableOffset: at + SECTOR }),
  ]) {
    out.push(`partition table inside the merged image: ${m}`);
  }
  const apps = parsed.table.entries.filter((e) => e.type === 0x00);
  const app = apps.find((e) => e.subtype === 0x00) ?? apps.find((e) => e.subtype === 0x10);
  if (!app) out.push('the partition table inside the merged image has no factory or ota_0 app partition');
  else if (data.length <= app.offset) {
    out.push(
      `merged image ends at ${formatHex(data.length)}, before the app partition '${app.label}' at ${formatHex(app.offset)}`,
    );
  } else {
    const end = Math.min(data.length, app.offset + app.size);
    checkImage(
      data.subarray(app.offset, end),
      chip,
      `app inside the merged image (partition '${app.label}' at ${formatHex(app.offset)})`,
      (m) => out.push(m),
    );
  }
  return out;
}
