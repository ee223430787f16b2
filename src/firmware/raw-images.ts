/**
 * OFFSET=PATH files written as given, like esptool write_flash: padded to 4 bytes, compressed (the deflate
 * cache's stream when valid, else zlib-9) and hashed once, no image checks and no header patching (there are
 * no flash settings to apply), any chip unless one is named.
 */
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { chipByName, type ChipName } from '../esp/chips/index.ts';
import type { RevisionRequirement } from '../esp/revision-requirement.ts';
import { erasedSectorPlan } from '../esp/erased-sectors.ts';
import { clobberedByLaterRegion } from '../esp/shared-sectors.ts';
import type { Problem } from '../config/problems.ts';
import { InputError } from '../config/problems.ts';
import { labelFromFile } from './image-set.ts';
import { imageRevisionRequirements, padTo4, zlibLevel9, type PreparedRegion } from './prepared.ts';
import { deflateCacheFromEnv, withDeflateCache } from './deflate-cache.ts';

export interface RawImages {
  chip?: ChipName;
  regions: readonly PreparedRegion[];
  regionsFor(flashSizeBytes: number): readonly PreparedRegion[];
  requiredFlashBytes: number;
  /** Checked as esptool checks raw files: every file that parses as an image. */
  revisionRequirements: readonly RevisionRequirement[];
}

/** `where` names the input in problems (e.g. '<command line>'). Every unreadable file is reported at once. */
export async function prepareRawImages(
  pairs: readonly { offset: number; file: string }[],
  where: string,
  chip?: ChipName,
): Promise<RawImages> {
  const regions: PreparedRegion[] = [];
  const problems: Problem[] = [];
  const deflate = withDeflateCache(deflateCacheFromEnv(), zlibLevel9);
  for (const p of [...pairs].sort((a, b) => a.offset - b.offset)) {
    const key = `0x${p.offset.toString(16)}=${p.file}`;
    // A FIFO or device would block the read forever: only regular files are images.
    const st = await stat(p.file).catch(() => undefined);
    if (!st || !st.isFile()) {
      problems.push({
        file: where,
        key,
        message: `cannot read ${p.file}: ${st ? 'not a regular file' : 'not found'}; give the path of an image file`,
      });
      continue;
    }
    const bytes = await readFile(p.file).catch((e: NodeJS.ErrnoException) => {
      problems.push({ file: where, key, message: `cannot read ${p.file}: ${e.code ?? e.message}` });
      return undefined;
    });
    if (!bytes) continue;
    const data = padTo4(new Uint8Array(bytes));
    const erasedPlan = erasedSectorPlan({ offset: p.offset, data }, deflate);
    regions.push({
      offset: p.offset,
      label: labelFromFile(p.file),
      file: p.file,
      data,
      compressed: deflate(data),
      ...(erasedPlan && { erasedPlan }),
      md5: createHash('md5').update(data).digest('hex'),
      rereadAfterAll: true,
      sha256: createHash('sha256').update(data).digest('hex'),
    });
  }
  for (let i = 1; i < regions.length; i++) {
    const prev = regions[i - 1];
    if (prev.offset + prev.data.length > regions[i].offset) {
      problems.push({
        file: where,
        message: `${prev.label} @0x${prev.offset.toString(16)} overlaps ${regions[i].label} @0x${regions[i].offset.toString(16)}`,
      });
    }
  }
  if (problems.length) throw new InputError(problems);
  const reread = clobberedByLaterRegion(regions.map((r) => ({ offset: r.offset, length: r.data.length })));
  const frozen = Object.freeze(regions.map((r, i) => Object.freeze({ ...r, rereadAfterAll: reread[i]! })));
  return {
    ...(chip && { chip }),
    regions: frozen,
    regionsFor: () => frozen,
    requiredFlashBytes: Math.max(0, ...regions.map((r) => r.offset + r.data.length)),
    revisionRequirements: imageRevisionRequirements(regions, chip ? chipByName(chip) : undefined),
  };
}
