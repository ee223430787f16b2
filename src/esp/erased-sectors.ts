/**
 * Erased-sector skipping: 4 KB sectors that are all 0xFF in the image need neither erase nor program when the
 * chip already reads them erased (a fresh board, or a board whose sector happens to be blank). A region with
 * such sectors is written as its other parts; the blank sectors are checked with one MD5 each and erased only
 * when they are not blank. The plan depends only on the image: src/firmware makes it once per prepared region,
 * with the same compressor as the whole region.
 */
import { createHash } from 'node:crypto';

const SECTOR = 0x1000;

export interface ErasedSectorPlan {
  /** Sector-aligned runs that are all 0xFF in the image. */
  blank: { offset: number; length: number }[];
  /** What is left to write, each part compressed once (one zlib stream each). */
  parts: { offset: number; data: Uint8Array; compressed: Uint8Array }[];
}

const blankMd5 = new Map<number, string>();
const FF_SECTOR = new Uint8Array(SECTOR).fill(0xff);

/** MD5 (hex) of `length` bytes of 0xFF, as the chip answers for an erased span. */
export function erasedMd5(length: number): string {
  let md5 = blankMd5.get(length);
  if (!md5) {
    const h = createHash('md5');
    for (let n = 0; n < length; n += SECTOR) h.update(FF_SECTOR.subarray(0, Math.min(SECTOR, length - n)));
    md5 = h.digest('hex');
    blankMd5.set(length, md5);
  }
  return md5;
}

function isBlank(data: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (data[i] !== 0xff) return false;
  return true;
}

/** The plan for a region, or undefined when it has no whole blank sector (then it is written as one piece). */
export function erasedSectorPlan(
  region: { offset: number; data: Uint8Array },
  deflate: (data: Uint8Array) => Uint8Array,
): ErasedSectorPlan | undefined {
  const { offset, data } = region;
  const end = offset + data.length;
  const blank: ErasedSectorPlan['blank'] = [];
  for (let s = Math.ceil(offset / SECTOR) * SECTOR; s + SECTOR <= end; s += SECTOR) {
    if (!isBlank(data, s - offset, s - offset + SECTOR)) continue;
    const last = blank[blank.length - 1];
    if (last && last.offset + last.length === s) last.length += SECTOR;
    else blank.push({ offset: s, length: SECTOR });
  }
  if (blank.length === 0) return undefined;
  const parts: ErasedSectorPlan['parts'] = [];
  let at = offset;
  for (const b of [...blank, { offset: end, length: 0 }]) {
    if (b.offset > at) {
      const part = data.subarray(at - offset, b.offset - offset);
      parts.push({ offset: at, data: part, compressed: deflate(part) });
    }
    at = b.offset + b.length;
  }
  return Object.freeze({ blank, parts });
}
