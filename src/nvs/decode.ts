/**
 * Reads an NVS partition (v1 or v2) into items, checking every CRC on the way. What nvs_flash would skip
 * (a bad header CRC, a bad entry CRC, a blob missing a chunk) is skipped here too and reported as a
 * problem, so a partition read back from a returned board still decodes as far as it can.
 */
import {
  BITMAP_OFFSET,
  DATA_OFFSET,
  ENTRIES_PER_PAGE,
  ENTRY_SIZE,
  ENTRY_STATE,
  entryCrc32,
  FIRST_ENTRY_OFFSET,
  FORMAT_VERSION,
  integerTypeOfCode,
  INTEGER_TYPES,
  ITEM_TYPE,
  KEY_OFFSET,
  nvsCrc32,
  PAGE_SIZE,
  PAGE_STATE,
  pageHeaderCrc32,
} from './format.ts';
import type { NvsItem, NvsPartition, NvsValue } from './model.ts';

export interface NvsPageInfo {
  /** Position in the partition (page number). */
  index: number;
  state: 'empty' | 'active' | 'full' | 'freeing' | 'corrupt';
  sequence?: number;
  version?: 1 | 2;
  /** Entries marked written or erased. */
  usedEntries: number;
}

export interface NvsDecoded {
  partition: NvsPartition;
  /** The format version of the pages in use (2 unless every page says 1). */
  version: 1 | 2;
  pages: NvsPageInfo[];
  /** Everything that did not verify or make sense, as sentences naming page and entry. */
  problems: string[];
}

interface RawItem {
  ns: number;
  type: number;
  chunk: number;
  key: string;
  /** The 8 data bytes of the entry. */
  data: Uint8Array;
  /** String or blob-data payload. */
  payload?: Uint8Array;
  where: string;
}

export function decodePartition(bytes: Uint8Array): NvsDecoded {
  const problems: string[] = [];
  if (bytes.length % PAGE_SIZE !== 0) {
    problems.push(
      `the partition is ${bytes.length} bytes, not a multiple of 4096; the tail after the last whole page is ignored`,
    );
  }
  const pages: NvsPageInfo[] = [];
  const inUse: { info: NvsPageInfo; page: Uint8Array }[] = [];
  for (let p = 0; p + PAGE_SIZE <= bytes.length; p += PAGE_SIZE) {
    const page = bytes.subarray(p, p + PAGE_SIZE);
    const info = readPageHeader(page, p / PAGE_SIZE, problems);
    pages.push(info);
    if (info.state === 'active' || info.state === 'full' || info.state === 'freeing')
      inUse.push({ info, page });
  }
  // nvs_flash reads pages in sequence order, whatever their position.
  inUse.sort((a, b) => (a.info.sequence ?? 0) - (b.info.sequence ?? 0));
  const raw: RawItem[] = [];
  for (const { info, page } of inUse) raw.push(...readEntries(page, info, problems));
  const version = inUse.length > 0 && inUse.every(({ info }) => info.version === 1) ? 1 : 2;
  return { partition: assemble(raw, problems), version, pages, problems };
}

function readPageHeader(page: Uint8Array, index: number, problems: string[]): NvsPageInfo {
  const view = new DataView(page.buffer, page.byteOffset, PAGE_SIZE);
  const stateWord = view.getUint32(0, true);
  const usedEntries = countUsed(page);
  if (stateWord === PAGE_STATE.uninitialized) {
    if (page.some((b) => b !== 0xff))
      problems.push(`page ${index}: not initialised but not blank either; ignored`);
    return { index, state: 'empty', usedEntries: 0 };
  }
  const state =
    stateWord === PAGE_STATE.active
      ? 'active'
      : stateWord === PAGE_STATE.full
        ? 'full'
        : stateWord === PAGE_STATE.freeing
          ? 'freeing'
          : 'corrupt';
  const sequence = view.getUint32(4, true);
  const versionByte = page[8];
  const version = versionByte === FORMAT_VERSION.v2 ? 2 : versionByte === FORMAT_VERSION.v1 ? 1 : undefined;
  if (state === 'corrupt') {
    problems.push(`page ${index}: state 0x${stateWord.toString(16)} is not a page state; ignored`);
    return { index, state, sequence, usedEntries };
  }
  if (view.getUint32(28, true) !== pageHeaderCrc32(page)) {
    problems.push(`page ${index}: header CRC does not verify; ignored`);
    return { index, state: 'corrupt', sequence, usedEntries };
  }
  if (version === undefined) {
    problems.push(`page ${index}: format version byte 0x${versionByte.toString(16)} is unknown; ignored`);
    return { index, state: 'corrupt', sequence, usedEntries };
  }
  return { index, state, sequence, version, usedEntries };
}

function entryState(page: Uint8Array, i: number): number {
  const bit = i * 2;
  return (page[BITMAP_OFFSET + (bit >> 3)] >> (bit & 7)) & 0b11;
}

function countUsed(page: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < ENTRIES_PER_PAGE; i++) if (entryState(page, i) !== ENTRY_STATE.empty) n++;
  return n;
}

function readEntries(page: Uint8Array, info: NvsPageInfo, problems: string[]): RawItem[] {
  const items: RawItem[] = [];
  let i = 0;
  while (i < ENTRIES_PER_PAGE) {
    if (entryState(page, i) !== ENTRY_STATE.written) {
      i++;
      continue;
    }
    const where = `page ${info.index} entry ${i}`;
    const at = FIRST_ENTRY_OFFSET + i * ENTRY_SIZE;
    const entry = page.subarray(at, at + ENTRY_SIZE);
    const view = new DataView(entry.buffer, entry.byteOffset, ENTRY_SIZE);
    if (view.getUint32(4, true) !== entryCrc32(entry)) {
      problems.push(`${where}: entry CRC does not verify; skipped`);
      i++;
      continue;
    }
    const span = entry[2];
    if (span < 1 || i + span > ENTRIES_PER_PAGE) {
      problems.push(`${where}: span ${span} runs past the page; skipped`);
      i++;
      continue;
    }
    const type = entry[1];
    const item: RawItem = {
      ns: entry[0],
      type,
      chunk: entry[3],
      key: readKey(entry.subarray(KEY_OFFSET, KEY_OFFSET + 16)),
      data: entry.slice(DATA_OFFSET, DATA_OFFSET + 8),
      where,
    };
    if (type === ITEM_TYPE.string || type === ITEM_TYPE.blobV1 || type === ITEM_TYPE.blobData) {
      const size = view.getUint16(DATA_OFFSET, true);
      if (size > (span - 1) * ENTRY_SIZE) {
        problems.push(
          `${where}: '${item.key}' says ${size} bytes but spans only ${span - 1} data entries; skipped`,
        );
        i += span;
        continue;
      }
      const payload = page.slice(at + ENTRY_SIZE, at + ENTRY_SIZE + size);
      if (view.getUint32(DATA_OFFSET + 4, true) !== nvsCrc32(payload)) {
        problems.push(`${where}: data CRC of '${item.key}' does not verify; skipped`);
        i += span;
        continue;
      }
      item.payload = payload;
    }
    items.push(item);
    i += span;
  }
  return items;
}

function readKey(field: Uint8Array): string {
  const end = field.indexOf(0);
  return Buffer.from(field.subarray(0, end < 0 ? field.length : end)).toString('utf8');
}

/** Turns raw entries into items: namespaces by index, blobs from their chunks, in the order written. */
function assemble(raw: RawItem[], problems: string[]): NvsPartition {
  const names = new Map<number, string>();
  for (const r of raw) {
    if (r.ns === 0 && r.type === INTEGER_TYPES.u8.code) names.set(r.data[0], r.key);
  }
  const chunks = new Map<string, RawItem>();
  const chunkKey = (ns: number, key: string, chunk: number) => `${ns}\0${key}\0${chunk}`;
  for (const r of raw) if (r.type === ITEM_TYPE.blobData) chunks.set(chunkKey(r.ns, r.key, r.chunk), r);
  const used = new Set<RawItem>();

  const items: NvsItem[] = [];
  for (const r of raw) {
    if (r.ns === 0) {
      if (r.type === INTEGER_TYPES.u8.code) items.push({ kind: 'namespace', name: r.key });
      else problems.push(`${r.where}: '${r.key}' in namespace 0 is not a namespace entry; skipped`);
      continue;
    }
    if (r.type === ITEM_TYPE.blobData) continue; // taken with its index
    const namespace = names.get(r.ns);
    if (namespace === undefined) {
      problems.push(
        `${r.where}: '${r.key}' belongs to namespace index ${r.ns}, which no namespace entry names; skipped`,
      );
      continue;
    }
    const value = valueOf(r, chunks, chunkKey, used, problems);
    if (value) items.push({ kind: 'entry', namespace, key: r.key, value });
  }
  for (const r of raw) {
    if (r.type === ITEM_TYPE.blobData && !used.has(r))
      problems.push(`${r.where}: blob chunk ${r.chunk} of '${r.key}' has no blob index; ignored`);
  }
  return { items };
}

function valueOf(
  r: RawItem,
  chunks: Map<string, RawItem>,
  chunkKey: (ns: number, key: string, chunk: number) => string,
  used: Set<RawItem>,
  problems: string[],
): NvsValue | undefined {
  const intType = integerTypeOfCode(r.type);
  if (intType) {
    const view = new DataView(r.data.buffer, r.data.byteOffset, 8);
    const info = INTEGER_TYPES[intType];
    switch (info.bytes) {
      case 1:
        return { type: intType as 'u8' | 'i8', value: info.signed ? view.getInt8(0) : view.getUint8(0) };
      case 2:
        return {
          type: intType as 'u16' | 'i16',
          value: info.signed ? view.getInt16(0, true) : view.getUint16(0, true),
        };
      case 4:
        return {
          type: intType as 'u32' | 'i32',
          value: info.signed ? view.getInt32(0, true) : view.getUint32(0, true),
        };
      case 8:
        return {
          type: intType as 'u64' | 'i64',
          value: info.signed ? view.getBigInt64(0, true) : view.getBigUint64(0, true),
        };
    }
  }
  if (r.type === ITEM_TYPE.string) {
    const payload = r.payload as Uint8Array;
    const text = payload.length > 0 && payload[payload.length - 1] === 0 ? payload.subarray(0, -1) : payload;
    if (text.length === payload.length) problems.push(`${r.where}: string '${r.key}' has no terminating NUL`);
    const decoded = new TextDecoder('utf-8', { fatal: false }).decode(text);
    if (!Buffer.from(decoded, 'utf8').equals(Buffer.from(text)))
      problems.push(`${r.where}: string '${r.key}' is not valid UTF-8; shown with replacement characters`);
    return { type: 'string', value: decoded };
  }
  if (r.type === ITEM_TYPE.blobV1) return { type: 'blob', value: r.payload as Uint8Array };
  if (r.type === ITEM_TYPE.blobIndex) {
    const view = new DataView(r.data.buffer, r.data.byteOffset, 8);
    const size = view.getUint32(0, true);
    const count = r.data[4];
    const start = r.data[5];
    const parts: Uint8Array[] = [];
    for (let c = start; c < start + count; c++) {
      const chunk = chunks.get(chunkKey(r.ns, r.key, c));
      if (!chunk) {
        problems.push(`${r.where}: blob '${r.key}' is missing chunk ${c} of ${count}; skipped`);
        return undefined;
      }
      used.add(chunk);
      parts.push(chunk.payload as Uint8Array);
    }
    const value = Buffer.concat(parts);
    if (value.length !== size) {
      problems.push(
        `${r.where}: blob '${r.key}' chunks hold ${value.length} bytes, its index says ${size}; skipped`,
      );
      return undefined;
    }
    return { type: 'blob', value: new Uint8Array(value) };
  }
  problems.push(`${r.where}: '${r.key}' has unknown type 0x${r.type.toString(16)}; skipped`);
  return undefined;
}
