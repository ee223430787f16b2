/**
 * ESP-IDF partition table binary (esp-protocol.md §13): 32-byte entries `AA 50 type subtype offset size
 * label flags`, an optional MD5 line `EB EB FF×14 md5`, ended by a line of 0xFF. ESP-AT's at_customize.bin
 * uses the same format for its secondary table.
 */
import { createHash } from 'node:crypto';

export const PARTITION_TABLE_LENGTH = 0xc00;
export const ENTRY_LENGTH = 32;
export const MAX_ENTRIES = 95;

export interface PartitionEntry {
  type: number;
  subtype: number;
  offset: number;
  size: number;
  label: string;
  encrypted: boolean;
  readonly: boolean;
}

export interface PartitionTable {
  entries: PartitionEntry[];
  md5: 'ok' | 'absent' | 'mismatch';
}

export type ParsedPartitionTable =
  { ok: true; table: PartitionTable; problems: string[] } | { ok: false; problems: string[] };

const TYPE_NAMES: Record<number, string> = {
  0x00: 'app',
  0x01: 'data',
  0x02: 'bootloader',
  0x03: 'partition_table',
};
const APP_SUBTYPES: Record<number, string> = { 0x00: 'factory', 0x20: 'test', 0x30: 'tee_0', 0x31: 'tee_1' };
const DATA_SUBTYPES: Record<number, string> = {
  0x00: 'ota',
  0x01: 'phy',
  0x02: 'nvs',
  0x03: 'coredump',
  0x04: 'nvs_keys',
  0x05: 'efuse',
  0x06: 'undefined',
  0x80: 'esphttpd',
  0x81: 'fat',
  0x82: 'spiffs',
  0x83: 'littlefs',
  0x90: 'tee_ota',
};

export function partitionTypeName(type: number): string {
  return TYPE_NAMES[type] ?? `0x${type.toString(16).padStart(2, '0')}`;
}

export function partitionSubtypeName(type: number, subtype: number): string {
  if (type === 0x00) {
    if (subtype >= 0x10 && subtype <= 0x1f) return `ota_${subtype - 0x10}`;
    if (APP_SUBTYPES[subtype]) return APP_SUBTYPES[subtype];
  }
  if (type === 0x01 && DATA_SUBTYPES[subtype]) return DATA_SUBTYPES[subtype];
  return `0x${subtype.toString(16).padStart(2, '0')}`;
}

export function parsePartitionTable(data: Uint8Array): ParsedPartitionTable {
  const problems: string[] = [];
  const entries: PartitionEntry[] = [];
  let md5: PartitionTable['md5'] = 'absent';
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let ended = false;
  for (
    let pos = 0;
    pos + ENTRY_LENGTH <= Math.min(data.length, PARTITION_TABLE_LENGTH);
    pos += ENTRY_LENGTH
  ) {
    const line = data.subarray(pos, pos + ENTRY_LENGTH);
    if (line.every((b) => b === 0xff)) {
      ended = true;
      break;
    }
    if (line[0] === 0xeb && line[1] === 0xeb) {
      const expected = createHash('md5').update(data.subarray(0, pos)).digest('hex');
      const stored = Buffer.from(line.subarray(16, 32)).toString('hex');
      md5 = stored === expected ? 'ok' : 'mismatch';
      if (md5 === 'mismatch')
        problems.push(`MD5 line says ${stored} but the entries hash to ${expected}; the table is corrupt`);
      continue;
    }
    if (line[0] !== 0xaa || line[1] !== 0x50) {
      return {
        ok: false,
        problems: [
          `entry ${pos / ENTRY_LENGTH} at byte ${pos} does not start with the magic AA 50; this is not a partition table (or it is corrupt)`,
        ],
      };
    }
    const labelBytes = line.subarray(12, 28);
    const nul = labelBytes.indexOf(0);
    const flags = view.getUint32(pos + 28, true);
    entries.push({
      type: line[2],
      subtype: line[3],
      offset: view.getUint32(pos + 4, true),
      size: view.getUint32(pos + 8, true),
      label: Buffer.from(nul < 0 ? labelBytes : labelBytes.subarray(0, nul)).toString('latin1'),
      encrypted: (flags & 1) !== 0,
      readonly: (flags & 2) !== 0,
    });
  }
  if (!ended)
    problems.push('no end marker (a line of 0xFF) within 0xC00 bytes; the table is truncated or corrupt');
  if (entries.length === 0) problems.push('the table has no entries');
  if (entries.length > MAX_ENTRIES)
    problems.push(`${entries.length} entries; ESP-IDF allows at most ${MAX_ENTRIES}`);
  return { ok: true, table: { entries, md5 }, problems };
}

/**
 * Layout rules of gen_esp32part.py: alignment, overlaps, unique names, one otadata of 0x2000 bytes, and
 * (for the main table) nothing before the end of the table's sector.
 */
export function partitionLayoutProblems(
  table: PartitionTable,
  opts: { firstUsableOffset?: number } = {},
): string[] {
  const out: string[] = [];
  const names = new Set<string>();
  let otadata = 0;
  for (const e of table.entries) {
    const what = `partition '${e.label}' (${partitionTypeName(e.type)}/${partitionSubtypeName(e.type, e.subtype)})`;
    if (names.has(e.label)) out.push(`${what}: the name is used twice`);
    names.add(e.label);
    const align = e.type === 0x00 ? 0x10000 : 0x1000;
    if (e.offset % align !== 0)
      out.push(`${what}: offset 0x${e.offset.toString(16)} is not aligned to 0x${align.toString(16)}`);
    if (e.type === 0x00 && e.size % 0x1000 !== 0)
      out.push(`${what}: size 0x${e.size.toString(16)} is not a multiple of 0x1000`);
    if (e.size === 0) out.push(`${what}: size is 0`);
    if (opts.firstUsableOffset !== undefined && e.offset < opts.firstUsableOffset) {
      out.push(
        `${what}: starts at 0x${e.offset.toString(16)}, before 0x${opts.firstUsableOffset.toString(16)} (the end of the partition table sector)`,
      );
    }
    if (e.type === 0x01 && e.subtype === 0x00) {
      otadata++;
      if (e.size !== 0x2000) out.push(`${what}: otadata must be 0x2000 bytes, is 0x${e.size.toString(16)}`);
    }
  }
  if (otadata > 1) out.push('more than one otadata partition');
  const sorted = [...table.entries].sort((a, b) => a.offset - b.offset);
  for (let i = 1; i < sorted.length; i++) {
    const a = sorted[i - 1];
    const b = sorted[i];
    if (a.offset + a.size > b.offset) {
      out.push(
        `partitions '${a.label}' (0x${a.offset.toString(16)}..0x${(a.offset + a.size).toString(16)}) and '${b.label}' (from 0x${b.offset.toString(16)}) overlap`,
      );
    }
  }
  return out;
}

/** Highest end offset of any partition (the flash the layout needs). */
export function partitionTableEnd(table: PartitionTable): number {
  return table.entries.reduce((m, e) => Math.max(m, e.offset + e.size), 0);
}

/** Builds a table binary (0xC00 bytes), with the MD5 line unless `md5: false`. Used by the demo set and tests. */
export function buildPartitionTable(
  entries: readonly PartitionEntry[],
  opts: { md5?: boolean } = {},
): Uint8Array {
  const out = new Uint8Array(PARTITION_TABLE_LENGTH).fill(0xff);
  const view = new DataView(out.buffer);
  entries.forEach((e, i) => {
    const pos = i * ENTRY_LENGTH;
    out[pos] = 0xaa;
    out[pos + 1] = 0x50;
    out[pos + 2] = e.type;
    out[pos + 3] = e.subtype;
    view.setUint32(pos + 4, e.offset, true);
    view.setUint32(pos + 8, e.size, true);
    out.fill(0, pos + 12, pos + 28);
    out.set(Buffer.from(e.label, 'latin1').subarray(0, 16), pos + 12);
    view.setUint32(pos + 28, (e.encrypted ? 1 : 0) | (e.readonly ? 2 : 0), true);
  });
  if (opts.md5 !== false) {
    const pos = entries.length * ENTRY_LENGTH;
    out[pos] = 0xeb;
    out[pos + 1] = 0xeb;
    out.set(createHash('md5').update(out.subarray(0, pos)).digest(), pos + 16);
  }
  return out;
}
