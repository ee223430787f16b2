/**
 * How far the station's ledger has been shipped: per ledger file, the byte offset and line count up to which
 * every line is in the database (or was not a record). Kept beside the ledger and replaced atomically
 * (write a temporary file, fsync, rename, fsync the directory), so a crash leaves the old or the new position,
 * never a torn one. The position only ever trails the database: it is saved after the database committed, so
 * a crash between the two ships a batch again, and ON CONFLICT DO NOTHING makes that harmless.
 */
import { open, readFile, rename } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { z } from 'zod';

const FilePositionSchema = z.strictObject({
  /** Bytes of the file shipped (always a line start). */
  offset: z.number().int().nonnegative(),
  /** Lines before `offset`, so problems are reported as file:line. */
  line: z.number().int().nonnegative(),
  /** Records (valid lines) shipped from this file: the database must hold at least these. */
  records: z.number().int().nonnegative(),
  /** The file's inode: another inode under the same name is another file, shipped from its start. */
  ino: z.number().int().nonnegative(),
});

const PositionSchema = z.strictObject({
  v: z.literal(1),
  station: z.string(),
  files: z.record(z.string(), FilePositionSchema),
});

export type FilePosition = z.infer<typeof FilePositionSchema>;
export type OutboxPosition = z.infer<typeof PositionSchema>;

/** `<ledger dir>/.central-outbox-<station>.json`, or `.<file>.central-outbox.json` beside a one-file ledger. */
export function positionPathFor(ledger: { dir: string; station: string } | { file: string }): string {
  if ('file' in ledger) return join(dirname(ledger.file), `.${basename(ledger.file)}.central-outbox.json`);
  return join(ledger.dir, `.central-outbox-${ledger.station.replace(/[^A-Za-z0-9._-]/g, '_')}.json`);
}

export type LoadedPosition = { position: OutboxPosition; problem?: string };

/** The saved position, or an empty one (everything is shipped again, harmlessly) with the reason why. */
export async function loadPosition(path: string, station: string): Promise<LoadedPosition> {
  const empty: OutboxPosition = { v: 1, station, files: {} };
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { position: empty };
    return {
      position: empty,
      problem: `${path}: ${(err as Error).message}; shipping the ledger from its start`,
    };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return {
      position: empty,
      problem: `${path}: not JSON; shipping the ledger from its start (no duplicates)`,
    };
  }
  const parsed = PositionSchema.safeParse(value);
  if (!parsed.success) {
    return {
      position: empty,
      problem: `${path}: not an outbox position (${parsed.error.issues[0].message}); shipping the ledger from its start`,
    };
  }
  return { position: parsed.data };
}

/** Replaces the position file atomically and durably. */
export async function savePosition(path: string, position: OutboxPosition): Promise<void> {
  const tmp = `${path}.tmp`;
  const h = await open(tmp, 'w');
  try {
    await h.writeFile(`${JSON.stringify(position)}\n`);
    await h.sync();
  } finally {
    await h.close();
  }
  await rename(tmp, path);
  const d = await open(dirname(path), 'r');
  try {
    await d.sync();
  } finally {
    await d.close();
  }
}
