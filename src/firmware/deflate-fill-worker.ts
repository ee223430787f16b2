/**
 * Worker thread that fills the deflate cache: for each piece without a valid entry, zopfli's stream (or zlib-9's
 * when that is smaller) is checked to inflate to the piece and stored atomically. Runs off the event loop of
 * the station, the flash command and check alike; deflate-fill.ts starts and stops it.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { deflateSync } from 'node:zlib';
import { zlibAsync } from '@gfx/zopfli';
import { entryPath, readEntry, removeStaleTemporaries, storeEntry, streamProblem } from './deflate-cache.ts';
import { ZOPFLI_OPTIONS } from './deflate-encoder.ts';

export interface FillJob {
  dir: string;
  tag: string;
  pieces: Uint8Array[];
}

export type FillMessage =
  | { type: 'piece'; index: number; state: 'filled' | 'had'; zlib9Bytes: number; packedBytes: number }
  /** zopfli starts on a piece that has no entry (the first of these is what makes a fill take seconds). */
  | { type: 'packing'; index: number }
  | { type: 'failed'; message: string }
  | { type: 'done' };

const port = parentPort;
if (!port) throw new Error('deflate-fill-worker.ts runs as a worker thread');
const job = workerData as FillJob;

async function fill(): Promise<void> {
  await removeStaleTemporaries(`${job.dir}/${job.tag}`);
  for (const [index, data] of job.pieces.entries()) {
    const file = entryPath(job.dir, job.tag, data);
    const zlib9 = deflateSync(data, { level: 9 });
    const cached = readEntry(file, data);
    if ('stream' in cached) {
      post({
        type: 'piece',
        index,
        state: 'had',
        zlib9Bytes: zlib9.length,
        packedBytes: cached.stream.length,
      });
      continue;
    }
    post({ type: 'packing', index });
    const zopfli = await zlibAsync(data, ZOPFLI_OPTIONS);
    const best = zopfli.length < zlib9.length ? zopfli : new Uint8Array(zlib9);
    // Never store a stream that would be refused on read (an encoder bug must not reach a board either way).
    const problem = streamProblem(best, data);
    if (problem) throw new Error(`the encoder's stream for piece ${index} is wrong: ${problem}`);
    try {
      await storeEntry(file, best);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      post({ type: 'failed', message: `cannot write ${file}: ${e.code ?? e.message}` });
      return;
    }
    post({ type: 'piece', index, state: 'filled', zlib9Bytes: zlib9.length, packedBytes: best.length });
  }
  post({ type: 'done' });
}

function post(m: FillMessage): void {
  port!.postMessage(m);
}

fill().catch((err: unknown) => post({ type: 'failed', message: (err as Error)?.message ?? String(err) }));
