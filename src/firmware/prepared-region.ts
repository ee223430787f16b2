/** One region of the prepared firmware: its bytes, compressed form, hashes and where it goes. */
import type { ErasedSectorPlan } from '../esp/erased-sectors.ts';

export interface PreparedRegion {
  offset: number;
  label: string;
  file: string;
  /** Bytes to write: padded to 4 with 0xFF and header-patched. */
  data: Uint8Array;
  /** One zlib stream of `data` (the deflate cache's, or level 9), for FLASH_DEFL_*. */
  compressed: Uint8Array;
  /** Whole blank (0xFF) sectors and the compressed parts between them; absent when there are none. */
  erasedPlan?: ErasedSectorPlan;
  md5: string;
  /**
   * A region written after this one shares one of its 4 KB sectors (src/esp/shared-sectors.ts): the final
   * verify pass reads its MD5 again once all are written. Every other region's MD5 right after writing stands.
   */
  rereadAfterAll: boolean;
  sha256: string;
  partition?: { label: string; type: number; subtype: number; size: number };
  /** Header fields of `data` when it is the bootloader (what the board will boot with). */
  header?: { mode: string; freq: string; size: string; patched: boolean; shaUpdated: boolean; note?: string };
}
