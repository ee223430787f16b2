/**
 * The journal on disk: JSONL, opened append-only, each line written with one write() and fsynced before
 * append() resolves, like the ledger. One station process owns a journal at a time (a lock file with its
 * pid; a lock left by a killed process is taken over). A line torn by a power cut is ignored and the file
 * continues on a fresh line; any other unreadable line stops the station (the journal must not be guessed).
 */
import { mkdir, open, readFile, rm, writeFile } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { IdentityError } from './errors.ts';
import { JournalRecordSchema } from './journal-records.ts';
import type { JournalRecord } from './journal-records.ts';

export interface OpenedJournal {
  journal: JournalFile;
  records: JournalRecord[];
  /** Set when the last line was torn (a crash mid-write) and was left out. */
  tornTail: boolean;
}

export class JournalFile {
  readonly file: string;
  private readonly handle: FileHandle;
  private tail: Promise<unknown> = Promise.resolve();
  private closed = false;

  private constructor(file: string, handle: FileHandle) {
    this.file = file;
    this.handle = handle;
  }

  static async open(file: string): Promise<OpenedJournal> {
    await mkdir(path.dirname(file), { recursive: true });
    await takeLock(file);
    try {
      const text = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') return '';
        throw new IdentityError('setup', `journal ${file} cannot be read (${err.code ?? String(err)})`);
      });
      const { records, tornTail } = parseJournal(file, text);
      const handle = await open(file, 'a');
      if (text.length > 0 && !text.endsWith('\n')) {
        await handle.write('\n'); // never glue the next record to a torn one
        await handle.sync();
      }
      if (text.length === 0) await syncDirectory(path.dirname(file));
      return { journal: new JournalFile(file, handle), records, tornTail };
    } catch (err) {
      await releaseLock(file);
      throw err;
    }
  }

  /** Resolves once the record is on disk. Appends are queued, so concurrent callers never interleave. */
  append(record: JournalRecord): Promise<void> {
    if (this.closed) return Promise.reject(new Error('identity journal is closed'));
    const bytes = Buffer.from(`${JSON.stringify(JournalRecordSchema.parse(record))}\n`, 'utf8');
    const done = this.tail.then(async () => {
      let written = 0;
      while (written < bytes.length) written += (await this.handle.write(bytes, written)).bytesWritten;
      await this.handle.sync();
    });
    this.tail = done.catch(() => undefined);
    return done;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.tail;
    await this.handle.close();
    await releaseLock(this.file);
  }
}

/** The journal's records without taking it over (a report while a station runs); a torn tail is left out. */
export async function readJournal(file: string): Promise<JournalRecord[]> {
  const text = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return '';
    throw new IdentityError('setup', `journal ${file} cannot be read (${err.code ?? String(err)})`);
  });
  return parseJournal(file, text).records;
}

function parseJournal(file: string, text: string): { records: JournalRecord[]; tornTail: boolean } {
  const lines = text.split('\n');
  const endsClean = lines[lines.length - 1] === '';
  if (endsClean) lines.pop();
  const records: JournalRecord[] = [];
  let tornTail = false;
  for (let i = 0; i < lines.length; i++) {
    if (lines[i] === '') continue; // the fresh line started after a torn one
    let parsed: ReturnType<typeof JournalRecordSchema.safeParse> | undefined;
    try {
      parsed = JournalRecordSchema.safeParse(JSON.parse(lines[i]));
    } catch {
      parsed = undefined;
    }
    if (parsed?.success) {
      records.push(parsed.data);
      continue;
    }
    if (i === lines.length - 1 && !endsClean) {
      tornTail = true; // written partly when the power went: that step never completed
      continue;
    }
    throw new IdentityError(
      'setup',
      `${file}:${i + 1}: not a journal record; the journal is written only by esp-station — restore it from a backup rather than edit it`,
    );
  }
  return { records, tornTail };
}

const lockFile = (file: string) => `${file}.lock`;

async function takeLock(file: string): Promise<void> {
  const lock = lockFile(file);
  for (let tries = 0; tries < 3; tries++) {
    try {
      await writeFile(lock, `${process.pid}\n`, { flag: 'wx' });
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const pid = Number((await readFile(lock, 'utf8').catch(() => '')).trim());
    if (pid === process.pid) {
      throw new IdentityError('setup', `identity journal ${file} is already open in this process`);
    }
    if (Number.isInteger(pid) && pid > 0 && isAlive(pid)) {
      throw new IdentityError(
        'setup',
        `identity journal ${file} is in use by process ${pid}; one station at a time per journal (stop it, or give this station its own pool)`,
      );
    }
    await rm(lock, { force: true }); // left by a process that is gone
  }
  throw new IdentityError('setup', `cannot lock identity journal ${file}`);
}

async function releaseLock(file: string): Promise<void> {
  const lock = lockFile(file);
  const pid = Number((await readFile(lock, 'utf8').catch(() => '')).trim());
  if (pid === process.pid) await rm(lock, { force: true });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function syncDirectory(dir: string): Promise<void> {
  const h = await open(dir, 'r');
  try {
    await h.sync();
  } finally {
    await h.close();
  }
}
