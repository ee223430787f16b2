/**
 * Where ledger records live on disk: file names for rotation and the ordered list of files a reader walks.
 * A ledger is either one file or a directory of `*.jsonl` files (rotated by day or by size, one set per station).
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

export const LEDGER_EXTENSION = '.jsonl';

/** Station names go into file names: keep them portable and free of path separators. */
export function fileSafeStation(station: string): string {
  const safe = station.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '_');
  return safe.length > 0 ? safe : 'station';
}

/** `<station>-YYYY-MM-DD.jsonl`, the UTC day the record ended (so a file holds one production day). */
export function dayFileName(station: string, when: Date): string {
  return `${fileSafeStation(station)}-${when.toISOString().slice(0, 10)}${LEDGER_EXTENSION}`;
}

/** `<station>-NNNNNN.jsonl`, zero-padded so name order is write order. */
export function sizeFileName(station: string, seq: number): string {
  return `${fileSafeStation(station)}-${String(seq).padStart(6, '0')}${LEDGER_EXTENSION}`;
}

/** Highest size-rotation sequence number already present for this station in `dir` (0 when none). */
export async function lastSizeSequence(dir: string, station: string): Promise<number> {
  const prefix = `${fileSafeStation(station)}-`;
  let max = 0;
  for (const name of await readdir(dir)) {
    if (!name.startsWith(prefix) || !name.endsWith(LEDGER_EXTENSION)) continue;
    const middle = name.slice(prefix.length, -LEDGER_EXTENSION.length);
    if (/^\d{6,}$/.test(middle)) max = Math.max(max, Number(middle));
  }
  return max;
}

/**
 * The files of a ledger, in reading order: a file is itself; a directory gives its `*.jsonl` files sorted by
 * name (day and sequence names sort chronologically within a station; reports do not depend on the order).
 */
export async function listLedgerFiles(path: string): Promise<string[]> {
  const info = await stat(path);
  if (!info.isDirectory()) return [path];
  const names = (await readdir(path)).filter((n) => n.endsWith(LEDGER_EXTENSION)).sort();
  const files: string[] = [];
  for (const name of names) {
    const p = join(path, name);
    if ((await stat(p)).isFile()) files.push(p);
  }
  return files;
}

/**
 * Whether `name` is one of `station`'s own ledger files in a shared directory: its day files, its size-rotated
 * files, or its single file (rotate: none). Another station whose name extends this one's (`st1-b`) never matches.
 */
export function isStationLedgerFile(name: string, station: string): boolean {
  const safe = fileSafeStation(station);
  if (!name.startsWith(safe) || !name.endsWith(LEDGER_EXTENSION)) return false;
  const middle = name.slice(safe.length, -LEDGER_EXTENSION.length);
  return middle === '' || /^-\d{4}-\d{2}-\d{2}$/.test(middle) || /^-\d{6,}$/.test(middle);
}
