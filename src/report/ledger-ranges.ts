/**
 * Splits a ledger into byte ranges that start and end on line boundaries, so workers can read parts of one
 * big file in parallel. Ranges keep ledger order: by file, then by offset.
 */
import { open, stat } from 'node:fs/promises';

export interface LedgerRange {
  file: string;
  /** Position of the file in the ledger's file list. */
  fileIndex: number;
  start: number;
  end: number;
}

const WINDOW = 64 * 1024;

export async function planRanges(files: readonly string[], targetBytes: number): Promise<LedgerRange[]> {
  const ranges: LedgerRange[] = [];
  for (const [fileIndex, file] of files.entries()) {
    const size = (await stat(file)).size;
    let start = 0;
    while (start < size) {
      const end = start + targetBytes >= size ? size : await nextLineStart(file, start + targetBytes, size);
      ranges.push({ file, fileIndex, start, end });
      start = end;
    }
  }
  return ranges;
}

/** The offset just after the first newline at or after `from` (the file size when there is none). */
async function nextLineStart(file: string, from: number, size: number): Promise<number> {
  const h = await open(file, 'r');
  try {
    const buf = Buffer.alloc(WINDOW);
    for (let at = from; at < size; at += WINDOW) {
      const { bytesRead } = await h.read(buf, 0, WINDOW, at);
      const nl = buf.subarray(0, bytesRead).indexOf(0x0a);
      if (nl !== -1) return at + nl + 1;
      if (bytesRead === 0) break;
    }
    return size;
  } finally {
    await h.close();
  }
}
