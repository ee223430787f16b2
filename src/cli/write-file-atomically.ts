/**
 * Writes a file so that it is either absent or whole: a temporary name in the same folder, fsync, rename,
 * fsync of the folder. A failure (or a kill) leaves no output file under the real name.
 */
import { open, rename, rm } from 'node:fs/promises';
import path from 'node:path';

export async function writeFileAtomically(file: string, data: Uint8Array | string): Promise<void> {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  try {
    const handle = await open(tmp, 'w');
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  const dir = await open(path.dirname(file), 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}
