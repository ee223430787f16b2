/**
 * Which regions the final verify pass must read again. Every region is checked by the chip's MD5 right after it
 * is written; what can spoil it afterwards is only an erase for a later region. Erases (ROM FLASH_BEGIN, the
 * stub's FLASH_DEFL_BEGIN with its blank-sector skip and 64 KB block erases, ERASE_REGION of blank sectors) cover
 * the written region's own 4 KB sectors and nothing beyond them, so a region can be clobbered only by a region
 * written after it that shares one of its sectors. The answer depends only on offsets, sizes and order: it is
 * made once per recipe.
 */
export const FLASH_SECTOR_BYTES = 0x1000;

/** For each region, in write order: does a region written after it touch one of its 4 KB sectors? */
export function clobberedByLaterRegion(regions: readonly { offset: number; length: number }[]): boolean[] {
  const sectors = regions.map((r) => ({
    first: Math.floor(r.offset / FLASH_SECTOR_BYTES),
    // Exclusive; an empty region has no sector.
    end: r.length > 0 ? Math.ceil((r.offset + r.length) / FLASH_SECTOR_BYTES) : 0,
  }));
  return sectors.map((a, i) => sectors.slice(i + 1).some((b) => a.first < b.end && b.first < a.end));
}
