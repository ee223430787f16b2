/** Runs `esp-station report` in-process with --out into a temp dir and returns what it wrote. */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from '../../src/cli/commands/report.ts';

let n = 0;

export async function runReport(
  outDir: string,
  args: string[],
): Promise<{ code: number; output: string; path: string }> {
  const path = join(outDir, `report-${++n}.out`);
  const code = await run([...args, '--out', path]);
  return { code, output: await readFile(path, 'utf8'), path };
}

/** Minimal RFC 4180 parser for checking our CSV (quoted fields, doubled quotes, embedded newlines). */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  if (field.length > 0 || row.length > 0) rows.push([...row, field]);
  return rows;
}
