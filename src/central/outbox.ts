/**
 * The outbox: what of this station's ledger is not yet in the database. It reads the ledger files themselves
 * (the ledger is the queue; nothing is copied), from the saved position up to the last complete line, in file
 * name order and line order, a bounded batch at a time. A line still being written, or torn by a crash, waits
 * until it ends with a newline (the writer terminates a torn tail before its next record).
 *
 * Files may grow in any order (a record ending just before midnight can land in yesterday's day file after
 * today's has started), so the position is kept per file. A file whose inode changed or that shrank was
 * replaced (restored, rotated away and recreated): it is shipped again from its start, and ON CONFLICT makes
 * that harmless.
 */
import { open, readdir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { isStationLedgerFile } from '../ledger/files.ts';
import { LedgerReader } from '../ledger/reader.ts';
import type { LedgerProblem } from '../ledger/reader.ts';
import { loadPosition, positionPathFor, savePosition } from './outbox-position.ts';
import type { FilePosition, OutboxPosition } from './outbox-position.ts';
import type { ShippedRecord } from './record-rows.ts';

export type OutboxLedger = { dir: string; station: string } | { file: string; station: string };

export interface OutboxOptions {
  ledger: OutboxLedger;
  /** Bytes of ledger per batch (default 512 KiB, a few hundred records); a longer single line goes alone. */
  maxBatchBytes?: number;
  /** Where the position is kept (default: beside the ledger, see positionPathFor). */
  positionPath?: string;
  /** Told about replaced files and an unreadable position (never fatal). */
  onNotice?: (message: string) => void;
}

export interface PendingBatch {
  /** Ledger file (absolute path) and its base name (the key of its position). */
  path: string;
  name: string;
  records: ShippedRecord[];
  /** Lines in the batch that are not records (torn, corrupt, invalid), with file:line. */
  problems: LedgerProblem[];
  problemCount: number;
  /** The file's position once this batch is in the database. */
  next: FilePosition;
  /** Lines the batch covers (records and others). */
  lines: number;
}

export interface Backlog {
  /** Complete lines written to the ledger and not yet shipped. */
  records: number;
  /** End time (ms) of the oldest unshipped record, when there is one and it is readable. */
  oldestEndMs?: number;
}

interface Counted {
  ino: number;
  /** Bytes up to which newlines were counted (a line start). */
  countedTo: number;
  /** Complete lines in [position offset, countedTo). */
  pending: number;
}

const DEFAULT_BATCH_BYTES = 512 * 1024;
const WINDOW = 64 * 1024;

export class Outbox {
  readonly positionPath: string;
  private readonly ledger: OutboxLedger;
  private readonly maxBatchBytes: number;
  private readonly notice: (message: string) => void;
  private position: OutboxPosition;
  private readonly counted = new Map<string, Counted>();

  private constructor(options: OutboxOptions, positionPath: string, position: OutboxPosition) {
    this.ledger = options.ledger;
    this.maxBatchBytes = options.maxBatchBytes ?? DEFAULT_BATCH_BYTES;
    this.notice = options.onNotice ?? (() => undefined);
    this.positionPath = positionPath;
    this.position = position;
  }

  static async open(options: OutboxOptions): Promise<Outbox> {
    const path = options.positionPath ?? positionPathFor(options.ledger);
    const loaded = await loadPosition(path, options.ledger.station);
    if (loaded.problem) options.onNotice?.(loaded.problem);
    return new Outbox(options, path, loaded.position);
  }

  /** This station's ledger files, in shipping order (absolute paths); none while the ledger does not exist. */
  async files(): Promise<string[]> {
    if ('file' in this.ledger) {
      return (await exists(this.ledger.file)) ? [this.ledger.file] : [];
    }
    const dir = this.ledger.dir;
    let names: string[];
    try {
      names = await readdir(dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const station = this.ledger.station;
    return names
      .filter((n) => isStationLedgerFile(n, station))
      .sort()
      .map((n) => join(dir, n));
  }

  /** Per ledger file (base name): records shipped so far according to the position. */
  shippedRecords(): Map<string, number> {
    return new Map(Object.entries(this.position.files).map(([name, p]) => [name, p.records]));
  }

  /** Ships `name` again from its start (the database lost rows of it, e.g. restored from an older backup). */
  async restartFile(name: string): Promise<void> {
    if (!(name in this.position.files)) return;
    const files = { ...this.position.files };
    delete files[name];
    this.position = { ...this.position, files };
    this.counted.delete(name);
    await savePosition(this.positionPath, this.position);
  }

  /** The next lines to ship, or undefined when everything complete is shipped. */
  async nextBatch(): Promise<PendingBatch | undefined> {
    for (const path of await this.files()) {
      const name = basename(path);
      const info = await stat(path).catch(() => undefined);
      if (!info?.isFile()) continue;
      const pos = this.positionOf(name, info.ino, info.size);
      if (info.size <= pos.offset) continue;
      const end = await rangeEnd(path, pos.offset, info.size, this.maxBatchBytes);
      if (end === undefined) continue; // only an unfinished line: wait for its newline
      const reader = new LedgerReader(path, { range: { start: pos.offset, end }, maxProblemsKept: 100 });
      const records: ShippedRecord[] = [];
      for await (const batch of reader.entryBatches()) {
        for (const e of batch) records.push({ record: e.record, file: name, line: pos.line + e.line });
      }
      return {
        path,
        name,
        records,
        problems: reader.problems.map((p) => ({ ...p, line: pos.line + p.line })),
        problemCount: reader.problemCount,
        lines: reader.lines,
        next: {
          offset: end,
          line: pos.line + reader.lines,
          records: pos.records + records.length,
          ino: info.ino,
        },
      };
    }
    return undefined;
  }

  /** Records that the batch is in the database: saves the position durably before returning. */
  async commit(batch: PendingBatch): Promise<void> {
    this.position = { ...this.position, files: { ...this.position.files, [batch.name]: batch.next } };
    await savePosition(this.positionPath, this.position);
    const c = this.counted.get(batch.name);
    if (c && c.ino === batch.next.ino) c.pending = Math.max(0, c.pending - batch.lines);
  }

  /** Lines waiting to be shipped, counted incrementally (only bytes written since the last call are read). */
  async backlog(): Promise<Backlog> {
    let records = 0;
    let oldest: { path: string; offset: number } | undefined;
    for (const path of await this.files()) {
      const name = basename(path);
      const info = await stat(path).catch(() => undefined);
      if (!info?.isFile()) continue;
      const pos = this.positionOf(name, info.ino, info.size);
      let c = this.counted.get(name);
      if (!c || c.ino !== info.ino || c.countedTo > info.size || c.countedTo < pos.offset) {
        c = { ino: info.ino, countedTo: pos.offset, pending: 0 };
        this.counted.set(name, c);
      }
      if (info.size > c.countedTo) {
        const { lines, lastLineEnd } = await countLines(path, c.countedTo, info.size);
        c.pending += lines;
        c.countedTo = lastLineEnd;
      }
      if (c.pending > 0) {
        records += c.pending;
        oldest ??= { path, offset: pos.offset };
      }
    }
    const oldestEndMs = oldest ? await endOfLineAt(oldest.path, oldest.offset) : undefined;
    return { records, ...(oldestEndMs !== undefined && { oldestEndMs }) };
  }

  private positionOf(name: string, ino: number, size: number): FilePosition {
    const pos = this.position.files[name];
    if (pos === undefined) return { offset: 0, line: 0, records: 0, ino };
    if (pos.ino === ino && pos.offset <= size) return pos;
    this.notice(
      `${name} was replaced (${pos.ino !== ino ? 'another file under the same name' : 'it is shorter than what was shipped'}); ` +
        'shipping it again from its start (rows already in the database are not duplicated)',
    );
    const fresh = { offset: 0, line: 0, records: 0, ino };
    this.position = { ...this.position, files: { ...this.position.files, [name]: fresh } };
    this.counted.delete(name);
    return fresh;
  }
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/**
 * The end of the batch starting at `start`: just after the last newline within maxBytes, or after the first
 * newline beyond when a single line is longer; undefined when no complete line follows `start`.
 */
async function rangeEnd(
  path: string,
  start: number,
  size: number,
  maxBytes: number,
): Promise<number | undefined> {
  const h = await open(path, 'r');
  try {
    const limit = Math.min(size, start + maxBytes);
    const buf = Buffer.alloc(limit - start);
    const { bytesRead } = await h.read(buf, 0, buf.length, start);
    const nl = buf.subarray(0, bytesRead).lastIndexOf(0x0a);
    if (nl !== -1) return start + nl + 1;
    const window = Buffer.alloc(WINDOW);
    for (let at = start + bytesRead; at < size;) {
      const r = await h.read(window, 0, WINDOW, at);
      if (r.bytesRead === 0) break;
      const i = window.subarray(0, r.bytesRead).indexOf(0x0a);
      if (i !== -1) return at + i + 1;
      at += r.bytesRead;
    }
    return undefined;
  } finally {
    await h.close();
  }
}

/** Newlines in [from, to), and the offset just after the last one (from when there is none). */
async function countLines(
  path: string,
  from: number,
  to: number,
): Promise<{ lines: number; lastLineEnd: number }> {
  const h = await open(path, 'r');
  try {
    const buf = Buffer.alloc(Math.min(WINDOW * 16, Math.max(1, to - from)));
    let lines = 0;
    let lastLineEnd = from;
    for (let at = from; at < to;) {
      const { bytesRead } = await h.read(buf, 0, Math.min(buf.length, to - at), at);
      if (bytesRead === 0) break;
      for (let i = buf.indexOf(0x0a, 0); i !== -1 && i < bytesRead; i = buf.indexOf(0x0a, i + 1)) {
        lines++;
        lastLineEnd = at + i + 1;
      }
      at += bytesRead;
    }
    return { lines, lastLineEnd };
  } finally {
    await h.close();
  }
}

/** The `end` time of the record on the line starting at `offset`, if that line is a readable record. */
async function endOfLineAt(path: string, offset: number): Promise<number | undefined> {
  const h = await open(path, 'r');
  try {
    const buf = Buffer.alloc(WINDOW);
    const { bytesRead } = await h.read(buf, 0, WINDOW, offset);
    const nl = buf.subarray(0, bytesRead).indexOf(0x0a);
    if (nl === -1) return undefined;
    const m = /"end":"([^"]+)"/.exec(buf.toString('utf8', 0, nl));
    const ms = m ? Date.parse(m[1]) : NaN;
    return Number.isNaN(ms) ? undefined : ms;
  } finally {
    await h.close();
  }
}
