/**
 * The NVS partition format, version 2 (multi-page blobs), as ESP-IDF's nvs_flash reads it and Espressif's
 * nvs_partition_gen.py writes it. Every layout fact lives here; the decoder and the generator share them.
 */
import { crc32 } from 'node:zlib';

export const PAGE_SIZE = 4096;
export const ENTRY_SIZE = 32;
/** Entries after the 32-byte header and the 32-byte state bitmap. */
export const ENTRIES_PER_PAGE = 126;
export const FIRST_ENTRY_OFFSET = 64;
export const BITMAP_OFFSET = 32;
export const KEY_OFFSET = 8;
/** Keys are NUL-padded into 16 bytes and always end in a NUL. */
export const MAX_KEY_LENGTH = 15;
export const DATA_OFFSET = 24;

export const PAGE_STATE = {
  uninitialized: 0xffffffff,
  active: 0xfffffffe,
  full: 0xfffffffc,
  freeing: 0xfffffff8,
  corrupt: 0xfffffff0,
} as const;

export const FORMAT_VERSION = { v1: 0xff, v2: 0xfe } as const;

/** 2 bits per entry in the page's bitmap. */
export const ENTRY_STATE = { empty: 0b11, written: 0b10, erased: 0b00 } as const;

/** No chunk index: every entry that is not blob data. */
export const CHUNK_ANY = 0xff;

/** Largest string or blob chunk a page can hold (125 data entries). */
export const MAX_VARIABLE_DATA = (ENTRIES_PER_PAGE - 1) * ENTRY_SIZE;

/** Namespace 0 holds the namespace entries; namespace indices 1..254 name the rest. */
export const MAX_NAMESPACES = 254;

export type IntegerType = 'u8' | 'i8' | 'u16' | 'i16' | 'u32' | 'i32' | 'u64' | 'i64';

export interface IntegerTypeInfo {
  code: number;
  bytes: 1 | 2 | 4 | 8;
  signed: boolean;
  min: bigint;
  max: bigint;
}

function integerType(code: number, bytes: 1 | 2 | 4 | 8, signed: boolean): IntegerTypeInfo {
  const bits = BigInt(bytes * 8);
  return signed
    ? { code, bytes, signed, min: -(1n << (bits - 1n)), max: (1n << (bits - 1n)) - 1n }
    : { code, bytes, signed, min: 0n, max: (1n << bits) - 1n };
}

export const INTEGER_TYPES: Record<IntegerType, IntegerTypeInfo> = {
  u8: integerType(0x01, 1, false),
  i8: integerType(0x11, 1, true),
  u16: integerType(0x02, 2, false),
  i16: integerType(0x12, 2, true),
  u32: integerType(0x04, 4, false),
  i32: integerType(0x14, 4, true),
  u64: integerType(0x08, 8, false),
  i64: integerType(0x18, 8, true),
};

export const INTEGER_TYPE_NAMES = Object.keys(INTEGER_TYPES) as IntegerType[];

export const ITEM_TYPE = {
  string: 0x21,
  /** Version 1 single-page blob (read, never written). */
  blobV1: 0x41,
  blobData: 0x42,
  blobIndex: 0x48,
} as const;

const INTEGER_BY_CODE = new Map(INTEGER_TYPE_NAMES.map((name) => [INTEGER_TYPES[name].code, name]));

export function integerTypeOfCode(code: number): IntegerType | undefined {
  return INTEGER_BY_CODE.get(code);
}

/** CRC32 as nvs_flash computes it: zlib's CRC seeded with 0xFFFFFFFF. */
export function nvsCrc32(data: Uint8Array): number {
  // The CRC of nothing is the seed; Node 20's zlib.crc32 answers 0 for an empty array over a 0-byte buffer.
  if (data.length === 0) return 0xffffffff;
  return crc32(data, 0xffffffff) >>> 0;
}

/** An entry's CRC covers bytes 0..3 and 8..31 (everything but the CRC itself). */
export function entryCrc32(entry: Uint8Array): number {
  const covered = new Uint8Array(28);
  covered.set(entry.subarray(0, 4), 0);
  covered.set(entry.subarray(8, 32), 4);
  return nvsCrc32(covered);
}

/** A page header's CRC covers bytes 4..27 (sequence number, version, reserved). */
export function pageHeaderCrc32(header: Uint8Array): number {
  return nvsCrc32(header.subarray(4, 28));
}

/** Entries needed for `bytes` of string or blob payload (after the item's own header entry). */
export function dataEntryCount(bytes: number): number {
  return Math.ceil(bytes / ENTRY_SIZE);
}
