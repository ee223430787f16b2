/**
 * Prepared firmware: everything that depends only on the recipe, computed once and shared read-only by every
 * worker (design.md "Prepare once, flash many"). Each region is loaded, padded to 4 bytes with 0xFF,
 * header-patched (bootloader only), compressed once and hashed once. Compressed means the deflate cache's stream
 * when it holds a valid one for those exact bytes (deflate-cache.ts), zlib level 9 otherwise.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';
import { chipByImageChipId, chipByName } from '../esp/chips/index.ts';
import type { ChipFacts, ChipName } from '../esp/chips/index.ts';
import { erasedSectorPlan } from '../esp/erased-sectors.ts';
import { clobberedByLaterRegion } from '../esp/shared-sectors.ts';
import { revisionRequirement, type RevisionRequirement } from '../esp/revision-requirement.ts';
import type { FlashSettings } from './flash-settings.ts';
import { flashSizeBytes, flashSizeName, KEEP_ALL } from './flash-settings.ts';
import { findPartitionTables, partitionFor } from './flash-layout.ts';
import type { LoadedRegion } from './flash-layout.ts';
import type { ImageSet } from './image-set.ts';
import { parseFirmwareImage } from './image-format.ts';
import { partitionTableEnd } from './partition-table.ts';
import type { AtTestSetup } from './at-test-plan.ts';
import type { PreparedRegion } from './prepared-region.ts';
import { deflateCacheFromEnv, withDeflateCache } from './deflate-cache.ts';

export type { PreparedRegion } from './prepared-region.ts';
import { isBootloaderOffset, patchImageHeader } from './patch-header.ts';

export interface PreparedFirmware {
  chip: ChipName;
  /** SHA-256 over chip, settings, offsets and file hashes: proves which firmware a board got. */
  fingerprint: string;
  settings: Readonly<FlashSettings>;
  regions: readonly PreparedRegion[];
  /** Regions for a board with this much flash; differs from `regions` only when size is 'detect'. */
  regionsFor(flashSizeBytes: number, board?: { secureBoot?: boolean }): readonly PreparedRegion[];
  /** Flash the set needs: the furthest region end or partition end. */
  requiredFlashBytes: number;
  /**
   * Flash size the bootloader header declares, in bytes (undefined: no bootloader in the set, or size
   * 'detect', where each board's own size is written). ESP-IDF's bootloader refuses to boot on a smaller chip.
   */
  declaredFlashBytes: number | undefined;
  /**
   * What each image accepts, as esptool decides it before writing (src/esp/revision-requirement.ts): a board
   * outside them will not boot, so it is refused before any write.
   */
  revisionRequirements: readonly RevisionRequirement[];
  /** The same as one range of major*100+minor, for display. */
  revisionRange: { min: number; max: number };
  demo: boolean;
  profileName: string;
  /** The post-flash test on the AT port, when the profile has a `test:` section (at-test-plan.ts). */
  atTest?: AtTestSetup;
}

export interface PrepareOptions {
  /** Chip to prepare for; defaults to the chip the image set names. */
  chip?: ChipName;
  profileName?: string;
  demo?: boolean;
  /**
   * The compressor; replaceable so tests can count the work. Default: the deflate cache's stream when valid
   * (ESP_STATION_DEFLATE_CACHE), zlib level 9 otherwise.
   */
  deflate?: (data: Uint8Array) => Uint8Array;
  /** File reader; replaceable for tests. */
  readFile?: (file: string) => Uint8Array;
}

const FINGERPRINT_VERSION = 1;

export function zlibLevel9(data: Uint8Array): Uint8Array {
  return deflateSync(data, { level: 9 });
}

export function padTo4(data: Uint8Array): Uint8Array {
  if (data.length % 4 === 0) return data;
  const out = new Uint8Array(data.length + (4 - (data.length % 4))).fill(0xff);
  out.set(data);
  return out;
}

export function prepareFirmware(
  imageSet: ImageSet,
  settings: FlashSettings,
  opts: PrepareOptions = {},
): PreparedFirmware {
  const chipName = opts.chip ?? imageSet.chip;
  const chip = chipName ? chipByName(chipName) : undefined;
  if (!chip) throw new Error('prepareFirmware: no chip (give options.chip or an image set that names one)');
  const deflate = opts.deflate ?? withDeflateCache(deflateCacheFromEnv(), zlibLevel9);
  const read = opts.readFile ?? ((f: string) => new Uint8Array(readFileSync(f)));

  const loaded: LoadedRegion[] = imageSet.regions.map((r) => ({
    offset: r.offset,
    label: r.label,
    file: r.file,
    data: read(r.file),
  }));
  const { tables } = findPartitionTables(loaded);
  const fileHashes = loaded.map((r) => ({
    offset: r.offset,
    sha256: createHash('sha256').update(r.data).digest('hex'),
  }));
  // With 'detect' the base regions keep the header's size; regionsFor() patches in the board's size.
  const baseSettings: FlashSettings = settings.size === 'detect' ? { ...settings, size: 'keep' } : settings;

  // Regions are written in this order; which of them a later one's erase could clobber is fixed by the layout.
  const reread = clobberedByLaterRegion(
    loaded.map((r) => ({ offset: r.offset, length: padTo4(r.data).length })),
  );
  const prepareRegion = (r: LoadedRegion, s: FlashSettings, index: number): PreparedRegion => {
    let data = padTo4(r.data);
    let header: PreparedRegion['header'];
    if (isBootloaderOffset(chip, r.offset)) {
      const p = patchImageHeader(data, chip, s);
      data = p.data;
      if (p.header) header = { ...p.header, patched: p.patched, shaUpdated: p.shaUpdated, note: p.skipped };
    }
    const part = partitionFor(tables, r.offset);
    const erasedPlan = erasedSectorPlan({ offset: r.offset, data }, deflate);
    return Object.freeze({
      offset: r.offset,
      label: r.label,
      file: r.file,
      data,
      compressed: deflate(data),
      ...(erasedPlan && { erasedPlan }),
      md5: createHash('md5').update(data).digest('hex'),
      rereadAfterAll: reread[index]!,
      sha256: createHash('sha256').update(data).digest('hex'),
      partition: part
        ? Object.freeze({ label: part.label, type: part.type, subtype: part.subtype, size: part.size })
        : undefined,
      header: header ? Object.freeze(header) : undefined,
    });
  };

  const regions = Object.freeze(loaded.map((r, i) => prepareRegion(r, baseSettings, i)));
  const requiredFlashBytes = Math.max(
    ...regions.map((r) => r.offset + r.data.length),
    ...tables.map((t) => partitionTableEnd(t.table)),
  );

  const revisionRequirements = imageRevisionRequirements(regions, chip);
  const revisionRange = { min: 0, max: 0xffff };
  for (const r of revisionRequirements) {
    const min = r.kind === 'full' || r.field === 'minor' ? r.min : r.min * 100;
    revisionRange.min = Math.max(revisionRange.min, min);
    if (r.kind === 'full' && r.max !== undefined) revisionRange.max = Math.min(revisionRange.max, r.max);
  }
  const bootloader = regions.find((r) => isBootloaderOffset(chip, r.offset));

  const bySize = new Map<number, readonly PreparedRegion[]>();
  let unpatched: readonly PreparedRegion[] | undefined;
  const withBootloader = (s: FlashSettings) =>
    Object.freeze(
      regions.map((r, i) => (isBootloaderOffset(chip, r.offset) ? prepareRegion(loaded[i], s, i) : r)),
    );
  const regionsFor = (
    flashSizeBytes: number,
    board: { secureBoot?: boolean } = {},
  ): readonly PreparedRegion[] => {
    // esptool: "Security features enabled, so not changing any flash settings" — a secure-boot bootloader
    // is written exactly as built (patching would break its signature/digest).
    if (board.secureBoot) return (unpatched ??= withBootloader(KEEP_ALL));
    if (settings.size !== 'detect') return regions;
    const name = flashSizeName(flashSizeBytes);
    if (!(name in chip.flashSize)) return regions;
    const cached = bySize.get(flashSizeBytes);
    if (cached) return cached;
    // Only the bootloader differs; every other region is the same shared object.
    const list = withBootloader({ ...settings, size: name });
    bySize.set(flashSizeBytes, list);
    return list;
  };

  const fingerprint = createHash('sha256')
    .update(
      JSON.stringify({
        v: FINGERPRINT_VERSION,
        chip: chip.name,
        settings: { mode: settings.mode, freq: settings.freq, size: settings.size },
        files: fileHashes,
      }),
    )
    .digest('hex');

  return Object.freeze({
    chip: chip.name,
    fingerprint,
    settings: Object.freeze({ ...settings }),
    regions,
    regionsFor,
    requiredFlashBytes,
    declaredFlashBytes:
      settings.size === 'detect' || !bootloader ? undefined : declaredFlashBytes(bootloader.data, chip),
    revisionRequirements: Object.freeze(revisionRequirements),
    revisionRange: Object.freeze(revisionRange),
    demo: opts.demo ?? false,
    profileName: opts.profileName ?? imageSet.sourceFile,
  });
}

/**
 * esptool parses every file it writes as an image and checks the revision fields of those that parse (the
 * bootloader and apps; partition tables, otadata and NVS do not start with the image magic). Without a chip
 * (raw files), each image's own chip id says whose rules apply.
 */
export function imageRevisionRequirements(
  regions: readonly { label: string; data: Uint8Array }[],
  chip?: ChipFacts,
): RevisionRequirement[] {
  if (chip?.name === 'esp8266') return [];
  const out: RevisionRequirement[] = [];
  for (const r of regions) {
    const p = parseFirmwareImage(r.data);
    if (!p.ok || !p.image.extended) continue;
    const owner = chip ?? chipByImageChipId(p.image.extended.chipId);
    if (!owner || p.image.extended.chipId !== owner.imageChipId) continue;
    out.push(revisionRequirement(r.label, p.image.extended, owner.imageMinRevField ?? 'major'));
  }
  return out;
}

/** The flash size a bootloader image's header declares, in bytes (undefined when the nibble is unknown). */
function declaredFlashBytes(bootloader: Uint8Array, chip: ChipFacts): number | undefined {
  const p = parseFirmwareImage(bootloader, chip.name !== 'esp8266');
  if (!p.ok) return undefined;
  const name = Object.entries(chip.flashSize).find(([, nibble]) => nibble === p.image.flashSizeNibble)?.[0];
  return name === undefined ? undefined : flashSizeBytes(name);
}
