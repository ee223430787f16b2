/**
 * A disk cache of zlib streams prepared once per release by a slower, stronger encoder (deflate-fill.ts), so
 * every later preparation sends fewer bytes without paying for the encoder again. An entry is keyed by the
 * SHA-256 of the exact bytes compressed and the encoder's tag; it is used only when it inflates to exactly
 * those bytes, as one complete stream. Anything else (truncated, foreign, another piece's stream) is ignored,
 * said once on stderr, and replaced on the next fill. The cache never changes what is written, only how many
 * bytes carry it: nothing recorded about a board depends on it.
 */
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { mkdir, open, readdir, rename, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { threadId } from 'node:worker_threads';
import { inflateSync } from 'node:zlib';
import { ENCODER_TAG } from './deflate-encoder.ts';

/** Where the cache lives: a directory, or `off`. Unset: var/deflate-cache in the installation. */
export const DEFLATE_CACHE_ENV = 'ESP_STATION_DEFLATE_CACHE';
const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const DEFAULT_DEFLATE_CACHE_DIR = path.join(REPO_ROOT, 'var', 'deflate-cache');

export interface DeflateCache {
  /** The cache directory (entries live in `<dir>/<tag>/`). */
  dir: string;
  tag: string;
  /** The entry's path for these bytes. */
  fileFor(data: Uint8Array): string;
  /** The cached stream of exactly `data`, or undefined (absent, or refused and said once). */
  lookup(data: Uint8Array): Uint8Array | undefined;
}

export type Warn = (message: string) => void;

const warnToStderr: Warn = (message) => process.stderr.write(`${message}\n`);
/** Files already reported in this process: a refused entry is said once, not once per preparation. */
const reported = new Set<string>();
/** Entries this process found valid: a background fill has nothing to do for them. */
const validated = new Set<string>();

export function validatedInThisProcess(file: string): boolean {
  return validated.has(file);
}

/** The cache the environment names (undefined: `off`). */
export function deflateCacheFromEnv(
  env: NodeJS.ProcessEnv = process.env,
  warn: Warn = warnToStderr,
): DeflateCache | undefined {
  const setting = env[DEFLATE_CACHE_ENV]?.trim();
  if (setting === 'off') return undefined;
  return openDeflateCache(setting ? path.resolve(setting) : DEFAULT_DEFLATE_CACHE_DIR, { warn });
}

export function openDeflateCache(dir: string, opts: { tag?: string; warn?: Warn } = {}): DeflateCache {
  const tag = opts.tag ?? ENCODER_TAG;
  const warn = opts.warn ?? warnToStderr;
  const fileFor = (data: Uint8Array) => entryPath(dir, tag, data);
  return {
    dir,
    tag,
    fileFor,
    lookup(data) {
      const file = fileFor(data);
      const got = readEntry(file, data);
      if ('stream' in got) {
        validated.add(file);
        return got.stream;
      }
      if (got.refused && !reported.has(file)) {
        reported.add(file);
        warn(
          `esp-station: deflate cache: ignoring ${file}: ${got.refused}; sending zlib-9 for this piece ` +
            '(the next fill replaces the file: run esp-station check)',
        );
      }
      return undefined;
    },
  };
}

export function entryPath(dir: string, tag: string, data: Uint8Array): string {
  return path.join(dir, tag, `${createHash('sha256').update(data).digest('hex')}.zlib`);
}

/**
 * Largest zlib stream of n bytes worth reading: stored blocks cost 5 bytes per 64 KB, plus header and
 * Adler-32. A bigger file is not a stream of these bytes (and is not read into memory).
 */
function maxStreamBytes(n: number): number {
  return n + 5 * Math.ceil(n / 0xffff + 1) + 6;
}

type Entry = { stream: Uint8Array } | { refused?: string };

/** Reads and validates one entry; `{}` when there is none. */
export function readEntry(file: string, data: Uint8Array): Entry {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'ENOENT' || code === 'ENOTDIR' ? {} : { refused: `cannot read it (${code})` };
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) return { refused: 'not a regular file' };
    if (st.size > maxStreamBytes(data.length))
      return { refused: `${st.size} bytes is too large for a stream of ${data.length} bytes` };
    const stream = new Uint8Array(st.size);
    let at = 0;
    while (at < stream.length) {
      const n = readSync(fd, stream, at, stream.length - at, at);
      if (n === 0) break;
      at += n;
    }
    const problem = streamProblem(stream.subarray(0, at), data);
    return problem ? { refused: problem } : { stream: stream.subarray(0, at) };
  } catch (err) {
    return { refused: `cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})` };
  } finally {
    closeSync(fd);
  }
}

/** Why `stream` is not exactly one zlib stream of `data` (undefined: it is). */
export function streamProblem(stream: Uint8Array, data: Uint8Array): string | undefined {
  if (stream.length === 0) return 'empty';
  let out: { buffer: Buffer; engine: { bytesWritten: number } };
  try {
    // One byte over the expected length is enough to tell "more than these bytes".
    out = inflateSync(stream, { info: true, maxOutputLength: data.length + 1 }) as unknown as typeof out;
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    return e.code === 'ERR_BUFFER_TOO_LARGE'
      ? `inflates to more than the ${data.length} bytes it is for`
      : `not a complete zlib stream (${e.message})`;
  }
  // The chip's inflater would meet anything after the stream's end as data it cannot place.
  if (out.engine.bytesWritten !== stream.length)
    return `${stream.length - out.engine.bytesWritten} bytes follow the end of the stream`;
  if (out.buffer.length !== data.length)
    return `inflates to ${out.buffer.length} bytes, not the ${data.length} it is for`;
  if (!out.buffer.equals(data)) return 'inflates to other bytes than the ones it is for';
  return undefined;
}

/**
 * Writes an entry atomically: a private temporary file renamed over the entry, so a reader sees the old file
 * or the new one, never half of one, and two fillers at once each rename a complete file. No fsync: an entry
 * lost or cut short by a power failure is refused on read and filled again.
 */
export async function storeEntry(file: string, stream: Uint8Array): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}-${threadId}-${randomBytes(4).toString('hex')}.tmp`;
  try {
    const fh = await open(tmp, 'wx', 0o644);
    try {
      await fh.writeFile(stream);
    } finally {
      await fh.close();
    }
    await rename(tmp, file);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
}

/** Temporary files a stopped filler left behind (older than a minute: a running filler's are younger). */
export async function removeStaleTemporaries(dir: string, now = Date.now()): Promise<void> {
  const names = await readdir(dir).catch(() => [] as string[]);
  for (const name of names.filter((n) => n.endsWith('.tmp'))) {
    const file = path.join(dir, name);
    const st = await stat(file).catch(() => undefined);
    if (st && now - st.mtimeMs > 60_000) await unlink(file).catch(() => undefined);
  }
}

/** A compressor that takes the cache's stream when there is a valid one, and `fallback`'s otherwise. */
export function withDeflateCache(
  cache: DeflateCache | undefined,
  fallback: (data: Uint8Array) => Uint8Array,
): (data: Uint8Array) => Uint8Array {
  if (!cache) return fallback;
  return (data) => cache.lookup(data) ?? fallback(data);
}
