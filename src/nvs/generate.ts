/**
 * Writes an NVS v2 partition byte for byte as Espressif's nvs_partition_gen.py (esp-idf-nvs-partition-gen
 * 0.1.6, the generator ESP-AT v3.4's mfg_nvs.bin was built with) does, quirks included:
 * - a string moves to the next page when it would reach the page's last entry (`>=`, one entry early);
 * - a blob always starts where the page has room, even with one entry left (a zero-byte first chunk), keeps
 *   one entry free for its index, and moves the index to the next page when the last chunk leaves no room;
 * - every page but the last is stamped FULL, empty ones too; the last page stays blank (kept for nvs_flash's
 *   page rotation).
 * Where the Python tool fails (a string of 3969..4000 bytes, which needs a page of its own and which it
 * refuses by the rule above), this writer puts it on a fresh page, as nvs_flash itself does.
 */
import {
  BITMAP_OFFSET,
  CHUNK_ANY,
  DATA_OFFSET,
  dataEntryCount,
  ENTRIES_PER_PAGE,
  ENTRY_SIZE,
  entryCrc32,
  FIRST_ENTRY_OFFSET,
  FORMAT_VERSION,
  INTEGER_TYPES,
  ITEM_TYPE,
  KEY_OFFSET,
  MAX_NAMESPACES,
  nvsCrc32,
  PAGE_SIZE,
  PAGE_STATE,
  pageHeaderCrc32,
} from './format.ts';
import { NvsInputError } from './errors.ts';
import type { NvsEntry, NvsPartition, NvsValue } from './model.ts';
import { checkEntry, checkName, checkPartitionSize, stringBytes } from './limits.ts';

/** The bytes of `partition` as an NVS partition of `size` bytes (a multiple of 4096, at least 0x3000). */
export function generatePartition(partition: NvsPartition, size: number): Uint8Array {
  checkPartitionSize(size);
  const writer = new PageWriter();
  const namespaceIndex = new Map<string, number>();
  const openNamespace = (name: string): number => {
    const known = namespaceIndex.get(name);
    if (known !== undefined) return known;
    checkName(name, `namespace '${name}'`);
    if (namespaceIndex.size >= MAX_NAMESPACES)
      throw new NvsInputError({
        message: `more than ${MAX_NAMESPACES} namespaces; an NVS partition holds at most that many`,
      });
    const index = namespaceIndex.size + 1;
    namespaceIndex.set(name, index);
    writer.writeInteger(0, name, { type: 'u8', value: index });
    return index;
  };
  for (const item of partition.items) {
    if (item.kind === 'namespace') {
      openNamespace(item.name);
      continue;
    }
    checkEntry(item);
    writeEntry(writer, openNamespace(item.namespace), item);
  }
  return writer.finish(size);
}

function writeEntry(writer: PageWriter, ns: number, entry: NvsEntry): void {
  const { key, value } = entry;
  switch (value.type) {
    case 'string':
      return writer.writeString(ns, key, stringBytes(value.value));
    case 'blob':
      return writer.writeBlob(ns, key, value.value);
    default:
      return writer.writeInteger(ns, key, value);
  }
}

class PageWriter {
  private readonly pages: Uint8Array[] = [];
  private page: Uint8Array = new Uint8Array(0);
  private entryNum = 0;

  constructor() {
    this.newPage();
  }

  writeInteger(ns: number, key: string, value: Exclude<NvsValue, { type: 'string' | 'blob' }>): void {
    if (this.entryNum >= ENTRIES_PER_PAGE) this.newPage();
    const info = INTEGER_TYPES[value.type];
    const entry = entryHeader(ns, info.code, 1, CHUNK_ANY, key);
    const view = new DataView(entry.buffer);
    const n = BigInt(value.value);
    if (info.bytes === 8) {
      if (info.signed) view.setBigInt64(DATA_OFFSET, n, true);
      else view.setBigUint64(DATA_OFFSET, n, true);
    } else {
      const bits = info.bytes * 8;
      const raw = Number(BigInt.asUintN(bits, n));
      for (let b = 0; b < info.bytes; b++) entry[DATA_OFFSET + b] = (raw >>> (8 * b)) & 0xff;
    }
    this.writeEntries(sealEntry(entry), 1);
  }

  writeString(ns: number, key: string, data: Uint8Array): void {
    const dataEntries = dataEntryCount(data.length);
    const total = dataEntries + 1;
    // The Python rule: move on when the string would reach the last entry. A string that fills a whole
    // page is the one case it refuses; nvs_flash takes it on a fresh page, and so does this writer.
    if (
      this.entryNum >= ENTRIES_PER_PAGE ||
      (this.entryNum + total >= ENTRIES_PER_PAGE && this.entryNum > 0)
    ) {
      this.newPage();
    }
    const entry = entryHeader(ns, ITEM_TYPE.string, total, CHUNK_ANY, key);
    setVariableData(entry, data);
    this.writeEntries(sealEntry(entry), 1);
    this.writeEntries(data, dataEntries);
  }

  writeBlob(ns: number, key: string, data: Uint8Array): void {
    if (this.entryNum >= ENTRIES_PER_PAGE) this.newPage();
    let offset = 0;
    let chunkCount = 0;
    while (true) {
      // One entry stays free on each page for the blob index that may follow.
      const tailroom = (ENTRIES_PER_PAGE - this.entryNum - 1) * ENTRY_SIZE;
      const chunk = data.subarray(offset, offset + Math.min(tailroom, data.length - offset));
      offset += chunk.length;
      const dataEntries = dataEntryCount(chunk.length);
      const entry = entryHeader(ns, ITEM_TYPE.blobData, dataEntries + 1, chunkCount, key);
      setVariableData(entry, chunk);
      this.writeEntries(sealEntry(entry), 1);
      this.writeEntries(chunk, dataEntries);
      chunkCount++;
      const remaining = data.length - offset;
      if (remaining > 0 || tailroom - chunk.length < ENTRY_SIZE) this.newPage();
      if (remaining === 0) break;
    }
    const index = entryHeader(ns, ITEM_TYPE.blobIndex, 1, CHUNK_ANY, key);
    new DataView(index.buffer).setUint32(DATA_OFFSET, data.length, true);
    index[DATA_OFFSET + 4] = chunkCount;
    index[DATA_OFFSET + 5] = 0; // first chunk index: version 0 of the blob
    this.writeEntries(sealEntry(index), 1);
  }

  /** Stamps the pages: every one but the last FULL (empty ones too), the last left blank. */
  finish(size: number): Uint8Array {
    const totalPages = size / PAGE_SIZE;
    const dataPages = this.pages.length;
    if (dataPages > totalPages - 1) {
      throw new NvsInputError({
        message:
          `the data needs ${dataPages} pages plus the blank page nvs_flash keeps, ${formatSize((dataPages + 1) * PAGE_SIZE)}, ` +
          `but the partition is ${formatSize(size)}; give --size ${formatSize((dataPages + 1) * PAGE_SIZE)} or more ` +
          `(the partition table must match), or store less`,
      });
    }
    while (this.pages.length < totalPages - 1) this.newPage();
    this.markFull();
    const out = new Uint8Array(size).fill(0xff);
    this.pages.forEach((p, i) => out.set(p, i * PAGE_SIZE));
    return out;
  }

  private newPage(): void {
    this.markFull();
    const page = new Uint8Array(PAGE_SIZE).fill(0xff);
    const view = new DataView(page.buffer);
    view.setUint32(0, PAGE_STATE.active, true);
    view.setUint32(4, this.pages.length, true);
    page[8] = FORMAT_VERSION.v2;
    view.setUint32(28, pageHeaderCrc32(page), true);
    this.pages.push(page);
    this.page = page;
    this.entryNum = 0;
  }

  private markFull(): void {
    const view = new DataView(this.page.buffer);
    if (this.page.length && view.getUint32(0, true) === PAGE_STATE.active) {
      view.setUint32(0, PAGE_STATE.full, true);
    }
  }

  /** Copies `data` (unpadded: the page is 0xFF already) and marks `count` entries written. */
  private writeEntries(data: Uint8Array, count: number): void {
    this.page.set(data, FIRST_ENTRY_OFFSET + this.entryNum * ENTRY_SIZE);
    for (let i = 0; i < count; i++) {
      const bit = (this.entryNum + i) * 2;
      this.page[BITMAP_OFFSET + (bit >> 3)] &= ~(1 << (bit & 7)) & 0xff;
    }
    this.entryNum += count;
  }
}

function entryHeader(ns: number, type: number, span: number, chunk: number, key: string): Uint8Array {
  const entry = new Uint8Array(ENTRY_SIZE).fill(0xff);
  entry[0] = ns;
  entry[1] = type;
  entry[2] = span;
  entry[3] = chunk;
  entry.fill(0, KEY_OFFSET, KEY_OFFSET + 16);
  entry.set(Buffer.from(key, 'utf8'), KEY_OFFSET);
  return entry;
}

/** Size (u16), 0xFFFF, then the payload's CRC32. */
function setVariableData(entry: Uint8Array, data: Uint8Array): void {
  const view = new DataView(entry.buffer);
  view.setUint16(DATA_OFFSET, data.length, true);
  view.setUint32(DATA_OFFSET + 4, nvsCrc32(data), true);
}

function sealEntry(entry: Uint8Array): Uint8Array {
  new DataView(entry.buffer).setUint32(4, entryCrc32(entry), true);
  return entry;
}

function formatSize(n: number): string {
  return `0x${n.toString(16)}`;
}
