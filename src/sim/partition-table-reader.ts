import { createHash } from 'node:crypto';
import type { NorFlash } from './nor-flash.ts';

/** One entry of an ESP-IDF partition table (§13), as the 2nd-stage bootloader reads it. */
export interface SimPartition {
  type: number;
  subtype: number;
  offset: number;
  size: number;
  label: string;
}

export type TableVerdict =
  { ok: true; partitions: SimPartition[]; md5Checked: boolean } | { ok: false; reason: string };

/** Read the table at `offset` (0x8000): 32-byte entries, an optional `EB EB` MD5 line, an all-0xFF end. */
export function readPartitionTable(flash: NorFlash, offset = 0x8000): TableVerdict {
  const raw = flash.read(offset, 0xc00);
  const partitions: SimPartition[] = [];
  let md5Checked = false;
  for (let pos = 0; pos + 32 <= raw.length; pos += 32) {
    const line = raw.subarray(pos, pos + 32);
    if (line.every((b) => b === 0xff)) {
      return partitions.length > 0
        ? { ok: true, partitions, md5Checked }
        : { ok: false, reason: 'no partitions' };
    }
    if (line[0] === 0xeb && line[1] === 0xeb) {
      const want = createHash('md5').update(raw.subarray(0, pos)).digest();
      if (!want.equals(line.subarray(16, 32))) return { ok: false, reason: 'Incorrect MD5 checksum' };
      md5Checked = true;
      continue;
    }
    if (line[0] !== 0xaa || line[1] !== 0x50) {
      return {
        ok: false,
        reason: `partition ${pos / 32} invalid magic number 0x${line.readUInt16LE(0).toString(16)}`,
      };
    }
    partitions.push({
      type: line[2],
      subtype: line[3],
      offset: line.readUInt32LE(4),
      size: line.readUInt32LE(8),
      label: line.subarray(12, 28).toString('latin1').replace(/\0.*$/s, ''),
    });
  }
  return { ok: false, reason: 'partition table has no end marker' };
}
