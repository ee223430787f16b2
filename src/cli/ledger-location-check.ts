/**
 * `check` says whether the configured ledger folder can take records, so "OK" is not followed by a station
 * that flashes every board and records none. Nothing is created: the nearest existing folder is probed.
 */
import { access, stat } from 'node:fs/promises';
import { constants } from 'node:fs';
import path from 'node:path';
import type { Problem } from '../config/problems.ts';
import type { StationConfig } from '../config/station-config.ts';

export async function ledgerLocationProblem(config: StationConfig): Promise<Problem | undefined> {
  const where = { file: config.file, key: 'ledger.dir' };
  let dir = config.ledger.dir;
  for (;;) {
    const st = await stat(dir).catch(() => undefined);
    if (st) {
      if (!st.isDirectory()) {
        return {
          ...where,
          message: `${dir} is not a folder; the ledger needs a folder at ${config.ledger.dir}`,
        };
      }
      break;
    }
    const parent = path.dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  const denied = await access(dir, constants.W_OK).then(
    () => undefined,
    (err: NodeJS.ErrnoException) => err.code ?? 'EACCES',
  );
  if (!denied) return undefined;
  return {
    ...where,
    message:
      denied === 'EROFS'
        ? `${dir} is on a read-only file system; the ledger needs a writable disk`
        : `${dir} is not writable for this user; the station could not record any board there — give it write access or choose another ledger.dir`,
  };
}
