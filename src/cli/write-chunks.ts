/** Writing a report's chunks to a file or stdout: in batches, honouring back-pressure, errors as rejections. */
import { once } from 'node:events';
import type { Writable } from 'node:stream';

/** Writes in batches and honours back-pressure, so a million-row CSV never piles up in memory. */
export async function writeAll(sink: Writable, chunks: Iterable<string>): Promise<void> {
  // Errors (EPIPE) arrive as events; turn them into a rejection of this call instead of a crash.
  let failed: Error | undefined;
  const onError = (err: Error) => (failed = err);
  sink.on('error', onError);
  try {
    await writeChunks(sink, chunks, () => failed);
  } finally {
    sink.off('error', onError);
  }
  if (failed) throw failed;
}

async function writeChunks(
  sink: Writable,
  chunks: Iterable<string>,
  failed: () => Error | undefined,
): Promise<void> {
  let batch = '';
  for (const c of chunks) {
    batch += c;
    if (batch.length >= 1 << 16) {
      const error = failed();
      if (error) throw error;
      if (!sink.write(batch)) await once(sink, 'drain');
      batch = '';
    }
  }
  if (batch.length > 0 && !sink.write(batch)) await once(sink, 'drain');
}
