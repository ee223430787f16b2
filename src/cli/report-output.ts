/**
 * Where `report --out` may write. Never over the ledger it reads (every record would be gone) and never into
 * a ledger folder (a `*.jsonl` there would be read as a ledger by the next report; anything else is clutter
 * among the records); the folder must exist. Found before the ledger is read: bad input, exit 2.
 */
import { realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Problem } from '../config/problems.ts';
import { COMMAND_LINE } from './command-args.ts';

export async function reportOutputProblem(out: string, ledger: string): Promise<Problem | undefined> {
  const problem = (message: string): Problem => ({ file: COMMAND_LINE, key: '--out', message });
  const folder = path.dirname(path.resolve(out));
  const folderStat = await stat(folder).catch(() => undefined);
  if (!folderStat)
    return problem(`the folder ${folder} does not exist; create it or write the report elsewhere`);
  if (!folderStat.isDirectory()) return problem(`${folder} is not a folder; give --out a file in a folder`);
  const outStat = await stat(out).catch(() => undefined);
  if (outStat?.isDirectory()) return problem(`${out} is a folder; give --out a file name, e.g. report.html`);

  const ledgerStat = await stat(ledger);
  const realFolder = await realpath(folder);
  if (ledgerStat.isDirectory()) {
    const ledgerDir = await realpath(ledger);
    if (realFolder === ledgerDir || realFolder.startsWith(ledgerDir + path.sep)) {
      return problem(
        `${out} is inside the ledger folder ${ledger}; reports go elsewhere (a .jsonl there would be read as ledger records), e.g. --out report.html`,
      );
    }
    return undefined;
  }
  // A single ledger file: the same file under any name (a symlink, a hard link) is refused.
  if (outStat && outStat.dev === ledgerStat.dev && outStat.ino === ledgerStat.ino) {
    return problem(`${out} is the ledger being read; writing the report there would destroy every record`);
  }
  if (path.join(realFolder, path.basename(out)) === (await realpath(ledger))) {
    return problem(`${out} is the ledger being read; writing the report there would destroy every record`);
  }
  return undefined;
}
