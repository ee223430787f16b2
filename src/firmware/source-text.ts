/** Reading text inputs (flasher_args.json, download.config) with positions for problems. */
import { readFile, stat } from 'node:fs/promises';
import { InputError } from '../config/problems.ts';

export async function readSourceText(file: string, what: string): Promise<string> {
  // A FIFO or device would block the read forever: only regular files (and directories, for EISDIR) are read.
  const st = await stat(file).catch(() => undefined);
  if (st && !st.isFile() && !st.isDirectory()) {
    throw new InputError({ file, message: `${what} is not a regular file (a FIFO, socket or device)` });
  }
  try {
    // A byte order mark (Windows editors write one) is not content: dropped, never shown as a bad character.
    return (await readFile(file, 'utf8')).replace(/^\uFEFF/, '');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'not found'
        : code === 'EACCES'
          ? 'not readable (permission denied)'
          : code === 'EISDIR'
            ? 'is a directory'
            : String(err);
    throw new InputError({ file, message: `${what} ${why}` });
  }
}

/** 1-based line and column of a character index. */
export function positionOf(text: string, index: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < index && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: index - lineStart + 1 };
}
