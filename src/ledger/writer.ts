/**
 * The durable ledger writer. One record = one line = one write() on a file opened append-only, then fsync,
 * before append() resolves: the station shows PASS only after this promise settles (durability before display).
 * Files are never truncated or rewritten; rotation starts a new file and keeps the old ones.
 *
 * The neighbourhood is not trusted: open() takes the ledger's lock (one station per ledger) and proves the
 * location writable before any board is touched; every append first checks that the open file is still the
 * file at its path (deleted or replaced: a new file is started there, with a warning) and that nobody else
 * left a torn line at its end.
 */
import { mkdir, open, stat, unlink } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { dirname, join } from 'node:path';
import { dayFileName, fileSafeStation, lastSizeSequence, LEDGER_EXTENSION, sizeFileName } from './files.ts';
import { lockLedger } from './ledger-lock.ts';
import type { LedgerLock } from './ledger-lock.ts';
import { LedgerReader } from './reader.ts';
import type { LedgerProblem } from './reader.ts';
import { LedgerRecordSchema } from './record.ts';
import type { LedgerRecord } from './record.ts';

export interface LedgerRotateOptions {
  /** 'day': one file per UTC day of the record's end time; 'size': a new file when maxBytes would be exceeded. */
  by: 'day' | 'size' | 'none';
  /** For 'size' (default 64 MiB). A record larger than this still goes whole into a file of its own. */
  maxBytes?: number;
}

export interface LedgerWriterOptions {
  /** A directory of rotated files `<station>-YYYY-MM-DD.jsonl` / `<station>-NNNNNN.jsonl`. */
  dir?: string;
  /** Or exactly one file (no rotation). */
  file?: string;
  /** Only with `dir`; default by day. */
  rotate?: LedgerRotateOptions;
  /** This station's name; goes into rotated file names so stations can share a directory. */
  station: string;
  signal?: AbortSignal;
  /** Told when the ledger's neighbourhood changed under the writer (a file deleted or replaced). */
  onWarning?: (message: string) => void;
}

/** The ledger location cannot take records: why, in a sentence that says what to do. */
export class LedgerUnwritableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LedgerUnwritableError';
  }
}

export const DEFAULT_ROTATE_MAX_BYTES = 64 * 1024 * 1024;
/** No board is retested a million times; a larger attempt number on disk is not learned from. */
const MAX_PLAUSIBLE_ATTEMPT = 1_000_000;

type Target = { kind: 'file'; path: string } | { kind: 'day'; dir: string } | { kind: 'size'; dir: string };

export class LedgerWriter {
  /** Torn or corrupt lines found while scanning the existing ledger on open (never fatal). */
  readonly scanProblems: LedgerProblem[];
  /** Number of torn or corrupt lines found on open (scanProblems keeps only the first ones). */
  readonly scanProblemCount: number;
  private readonly target: Target;
  private readonly station: string;
  private readonly maxBytes: number;
  private readonly attempts: Map<string, number>;
  private handle: FileHandle | undefined;
  private handlePath: string | undefined;
  private handleSize = 0;
  private sizeSeq = 0;
  private tail: Promise<unknown> = Promise.resolve();
  private closed = false;
  private lock: LedgerLock | undefined;
  /** Where warnings go (the station shows them to the operator). */
  onWarning: ((message: string) => void) | undefined;

  private constructor(
    target: Target,
    station: string,
    maxBytes: number,
    attempts: Map<string, number>,
    scan: LedgerReader | undefined,
  ) {
    this.target = target;
    this.station = station;
    this.maxBytes = maxBytes;
    this.attempts = attempts;
    this.scanProblems = scan?.problems ?? [];
    this.scanProblemCount = scan?.problemCount ?? 0;
  }

  static async open(options: LedgerWriterOptions): Promise<LedgerWriter> {
    const { dir, file, rotate, station, signal } = options;
    if ((dir === undefined) === (file === undefined)) {
      throw new TypeError('LedgerWriter.open: give exactly one of `dir` or `file`');
    }
    if (file !== undefined && rotate !== undefined && rotate.by !== 'none') {
      throw new TypeError(
        'LedgerWriter.open: rotation needs a ledger directory (`dir`), not a single `file`',
      );
    }
    const by = rotate?.by ?? 'day';
    const maxBytes = rotate?.maxBytes ?? DEFAULT_ROTATE_MAX_BYTES;
    if (by === 'size' && !(Number.isInteger(maxBytes) && maxBytes > 0)) {
      throw new TypeError(`LedgerWriter.open: rotate.maxBytes must be a positive integer, got ${maxBytes}`);
    }
    const root = dir ?? dirname(file as string);
    await mkdir(root, { recursive: true }).catch((err: NodeJS.ErrnoException) => {
      throw unwritable(root, err);
    });
    signal?.throwIfAborted();

    const target: Target =
      file !== undefined
        ? { kind: 'file', path: file }
        : by === 'size'
          ? { kind: 'size', dir: root }
          : by === 'none'
            ? { kind: 'file', path: join(root, `${fileSafeStation(station)}${LEDGER_EXTENSION}`) }
            : { kind: 'day', dir: root };

    // Attempt numbers survive restarts: learn every MAC's highest attempt from what is already on disk.
    const attempts = new Map<string, number>();
    let scan: LedgerReader | undefined;
    const scanPath = target.kind === 'file' ? target.path : target.dir;
    if (await exists(scanPath)) {
      scan = new LedgerReader(scanPath, { signal, maxProblemsKept: 100, skipRegions: true });
      for await (const batch of scan.recordBatches()) {
        for (const record of batch) {
          if (record.mac === undefined) continue;
          const key = record.mac.toUpperCase();
          // An absurd attempt number (a hand-edited or hostile line) must not poison every later record of
          // this board: counting on from 2^53-1 gives numbers the schema refuses.
          if (record.attempt > MAX_PLAUSIBLE_ATTEMPT) continue;
          attempts.set(key, Math.max(attempts.get(key) ?? 0, record.attempt));
        }
      }
    }
    const lockPath =
      target.kind === 'file' ? `${target.path}.lock` : join(target.dir, `${fileSafeStation(station)}.lock`);
    const lock = await lockLedger(lockPath, target.kind === 'file' ? target.path : target.dir).catch(
      (err: NodeJS.ErrnoException) => {
        throw err.code ? unwritable(root, err) : err;
      },
    );
    try {
      await proveWritable(root, target.kind === 'file' ? target.path : undefined);
      signal?.throwIfAborted();
      const writer = new LedgerWriter(target, station, maxBytes, attempts, scan);
      writer.lock = lock;
      writer.onWarning = options.onWarning;
      if (target.kind === 'size') writer.sizeSeq = Math.max(1, await lastSizeSequence(target.dir, station));
      return writer;
    } catch (err) {
      await lock.release();
      throw err;
    }
  }

  /** The attempt number the next record for this board should carry: 1 for a board this ledger never saw. */
  attemptNumberFor(mac: string): number {
    return (this.attempts.get(mac.toUpperCase()) ?? 0) + 1;
  }

  /** The file the last record went to (undefined before the first append). */
  get currentFile(): string | undefined {
    return this.handlePath;
  }

  /**
   * Validate, write as one line with one write(), fsync; resolves only once the record is on disk.
   * Appends are queued, so concurrent workers never interleave. An abort only applies while still queued:
   * a write that started always completes.
   */
  append(record: LedgerRecord, signal?: AbortSignal): Promise<void> {
    if (this.closed) return Promise.reject(new Error('ledger writer is closed'));
    const parsed = LedgerRecordSchema.safeParse(record);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return Promise.reject(
        new TypeError(`ledger record rejected: ${issue.path.join('.') || '(record)'}: ${issue.message}`),
      );
    }
    // JSON.stringify never emits a raw newline, so the record is exactly one line.
    const bytes = Buffer.from(`${JSON.stringify(parsed.data)}\n`, 'utf8');
    const done = this.tail.then(() => {
      signal?.throwIfAborted();
      return this.writeLine(parsed.data, bytes);
    });
    // The queue continues after a failed append; the failure belongs to that caller alone.
    this.tail = done.catch(() => undefined);
    return done;
  }

  /** Waits for queued appends, then closes the file. */
  async close(): Promise<void> {
    this.closed = true;
    await this.tail;
    await this.closeHandle();
    await this.lock?.release();
  }

  private async writeLine(record: LedgerRecord, bytes: Buffer): Promise<void> {
    const path = await this.pathFor(record, bytes.length);
    const handle = await this.checkedHandle(await this.handleFor(path), path);
    try {
      let written = 0;
      // One write() in practice; the loop only guards against a short write (e.g. nearly full disk).
      while (written < bytes.length) {
        const { bytesWritten } = await handle.write(bytes, written, bytes.length - written);
        written += bytesWritten;
      }
      await handle.sync();
      this.handleSize += bytes.length;
    } catch (err) {
      // The file may now end in a partial line: reopen next time so the torn-tail check runs again.
      await this.closeHandle().catch(() => undefined);
      throw err;
    }
    if (record.mac !== undefined) {
      const key = record.mac.toUpperCase();
      this.attempts.set(key, Math.max(this.attempts.get(key) ?? 0, record.attempt));
    }
  }

  private async pathFor(record: LedgerRecord, length: number): Promise<string> {
    switch (this.target.kind) {
      case 'file':
        return this.target.path;
      case 'day': {
        const end = new Date(record.end);
        return join(
          this.target.dir,
          dayFileName(this.station, Number.isNaN(end.getTime()) ? new Date() : end),
        );
      }
      case 'size': {
        let path = join(this.target.dir, sizeFileName(this.station, this.sizeSeq));
        if (this.handlePath !== path) await this.handleFor(path);
        if (this.handleSize > 0 && this.handleSize + length > this.maxBytes) {
          this.sizeSeq++;
          path = join(this.target.dir, sizeFileName(this.station, this.sizeSeq));
        }
        return path;
      }
    }
  }

  /**
   * The open file must still be the file at `path`, ending in a complete line, before a record goes in:
   * someone may have deleted or replaced it (the record would go nowhere anyone looks), or another writer
   * may have left half a line at its end (our record would be glued to it and lost with it).
   */
  private async checkedHandle(handle: FileHandle, path: string): Promise<FileHandle> {
    const [atPath, mine] = await Promise.all([
      stat(path).catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') return undefined;
        throw err;
      }),
      handle.stat(),
    ]);
    if (!atPath || atPath.ino !== mine.ino || atPath.dev !== mine.dev) {
      this.onWarning?.(
        `the ledger file ${path} was ${atPath ? 'replaced' : 'deleted'} while the station was writing it; ` +
          'records from now on go to a new file at that path (find out who touched it: earlier records may be gone)',
      );
      await this.closeHandle();
      return this.handleFor(path);
    }
    if (mine.size !== this.handleSize) {
      // Someone else wrote (or cut) the file since our last record.
      this.handleSize = await endOnNewline(handle, mine);
    }
    return handle;
  }

  private async handleFor(path: string): Promise<FileHandle> {
    if (this.handle && this.handlePath === path) return this.handle;
    await this.closeHandle();
    const existed = await exists(path);
    // a+ (append, and read for the torn-tail check through the same open file).
    const handle = await open(path, 'a+').catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
      // The directory itself is gone (an unmounted disk, a wiped folder): recreating it could put records
      // on the wrong disk, so the record fails and the operator is told.
      throw new LedgerUnwritableError(
        `the ledger folder ${dirname(path)} no longer exists (unmounted, or deleted); this record cannot be written — restore the folder or restart the station with a ledger location that exists`,
        { cause: err },
      );
    });
    try {
      const size = await endOnNewline(handle, await handle.stat());
      if (!existed) await syncDirectory(dirname(path));
      this.handle = handle;
      this.handlePath = path;
      this.handleSize = size;
      return handle;
    } catch (err) {
      await handle.close();
      throw err;
    }
  }

  private async closeHandle(): Promise<void> {
    const h = this.handle;
    this.handle = undefined;
    this.handlePath = undefined;
    this.handleSize = 0;
    await h?.close();
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

/**
 * A torn last line (a crash, a full disk, another writer) gets a newline, so the next record starts on a
 * fresh line and is never glued to it. Returns the file's size afterwards.
 */
async function endOnNewline(handle: FileHandle, st: Stats): Promise<number> {
  if (st.size === 0) return 0;
  const buf = Buffer.alloc(1);
  await handle.read(buf, 0, 1, st.size - 1);
  if (buf[0] === 0x0a) return st.size;
  await handle.write('\n');
  await handle.sync();
  return st.size + 1;
}

/** A sentence for an error of the ledger's folder, saying what to do. */
function unwritable(dir: string, err: NodeJS.ErrnoException): LedgerUnwritableError {
  const why =
    err.code === 'EACCES' || err.code === 'EPERM'
      ? 'permission denied: give the station user write access to it, or choose another ledger location'
      : err.code === 'EROFS'
        ? 'it is on a read-only file system: choose a ledger location on a writable disk'
        : err.code === 'ENOSPC' || err.code === 'EDQUOT'
          ? 'the disk is full: free space, or choose a ledger location on another disk'
          : err.code === 'ENOTDIR' || err.code === 'EEXIST'
            ? 'a file is in the way of the folder: give a folder path'
            : `${err.code ?? err.message}: fix the ledger location`;
  return new LedgerUnwritableError(`the ledger at ${dir} cannot be written (${why})`, { cause: err });
}

/**
 * Before any board is touched: a record must be able to land here. A probe file proves the folder takes new
 * files and has room for a few records; an existing single ledger file must open for appending.
 */
async function proveWritable(dir: string, file: string | undefined): Promise<void> {
  const probe = join(dir, `.esp-station-probe-${process.pid}`);
  try {
    const h = await open(probe, 'a');
    try {
      await h.write(Buffer.alloc(16 * 1024, 0x0a));
      await h.sync();
    } finally {
      await h.close();
    }
    if (file !== undefined) await (await open(file, 'a')).close();
  } catch (err) {
    throw unwritable(file ?? dir, err as NodeJS.ErrnoException);
  } finally {
    await unlink(probe).catch(() => undefined);
  }
}

/** A new file's directory entry must be durable too, or a power cut could lose the whole file. */
async function syncDirectory(dir: string): Promise<void> {
  const h = await open(dir, 'r');
  try {
    await h.sync();
  } finally {
    await h.close();
  }
}
