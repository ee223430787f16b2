/**
 * What `identity pool load` loads: a CSV (`id`, optional `serial`, one column per bundle member holding the
 * file's path relative to the CSV) or a folder with one sub-folder per bundle (its name is the id, its files
 * the members). Every problem is found before anything goes to the database, each at its file:line.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { IdentityToLoad } from '../central/identity-pool-admin.ts';
import type { Problem } from '../config/problems.ts';
import { parseCsvRecords } from '../nvs/index.ts';

export interface PoolInput {
  identities: IdentityToLoad[];
  problems: Problem[];
}

const byName = new Intl.Collator('en', { numeric: true }).compare;

export async function readPoolCsv(file: string): Promise<PoolInput> {
  const problems: Problem[] = [];
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    return {
      identities: [],
      problems: [{ file, message: `cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)})` }],
    };
  }
  let records;
  try {
    records = parseCsvRecords(text, file);
  } catch (err) {
    return { identities: [], problems: [{ file, message: (err as Error).message }] };
  }
  const [header, ...rows] = records;
  const columns = header?.fields.map((f) => f.trim()) ?? [];
  if (!columns.includes('id')) {
    problems.push({
      file,
      line: header?.line ?? 1,
      message:
        'the first line must name the columns: id, then serial and/or one column per bundle file (e.g. id,serial,client.crt,client.key)',
    });
    return { identities: [], problems };
  }
  const members = columns.filter((c) => c !== 'id' && c !== 'serial');
  for (const m of members.filter((m) => m === '' || m.includes('/') || m.includes('\\')))
    problems.push({
      file,
      line: header.line,
      message: `column '${m}' is not a file name; a bundle member is a file name, e.g. client.crt`,
    });
  if (!columns.includes('serial') && members.length === 0)
    problems.push({
      file,
      line: header.line,
      message: 'no serial column and no bundle file columns: nothing to load',
    });
  const base = path.dirname(file);
  const identities: IdentityToLoad[] = [];
  const ids = new Map<string, number>();
  const serials = new Map<string, number>();
  for (const { line, fields } of rows) {
    const cell = (c: string) => fields[columns.indexOf(c)]?.trim() ?? '';
    const at = { file, line };
    if (fields.length !== columns.length) {
      problems.push({ ...at, message: `${fields.length} field(s), the header has ${columns.length}` });
      continue;
    }
    const id = cell('id');
    if (!id) {
      problems.push({ ...at, message: 'no id' });
      continue;
    }
    const first = ids.get(id);
    if (first !== undefined) problems.push({ ...at, message: `id ${id} is also on line ${first}` });
    ids.set(id, line);
    const serial = columns.includes('serial') ? cell('serial') : undefined;
    if (serial === '') problems.push({ ...at, message: `identity ${id} has no serial` });
    if (serial) {
      const s = serials.get(serial);
      if (s !== undefined) problems.push({ ...at, message: `serial ${serial} is also on line ${s}` });
      serials.set(serial, line);
    }
    const files: { member: string; bytes: Uint8Array }[] = [];
    for (const member of members) {
      const rel = cell(member);
      if (!rel) {
        problems.push({ ...at, message: `identity ${id} has no ${member}` });
        continue;
      }
      const p = path.resolve(base, rel);
      try {
        files.push({ member, bytes: new Uint8Array(await readFile(p)) });
      } catch (err) {
        problems.push({
          ...at,
          message: `${member}: ${p} cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)})`,
        });
      }
    }
    identities.push({
      id,
      ...(serial && { serial }),
      ...(members.length > 0 && { credential: id, files }),
      where: `${file}:${line}`,
    });
  }
  if (rows.length === 0) problems.push({ file, message: 'no identities below the header' });
  return { identities, problems };
}

export async function readPoolFolder(folder: string): Promise<PoolInput> {
  const problems: Problem[] = [];
  let names: string[];
  try {
    const entries = await readdir(folder, { withFileTypes: true });
    names = entries.filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => e.name);
  } catch (err) {
    return {
      identities: [],
      problems: [
        {
          file: folder,
          message: `cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)}); give a folder with one sub-folder per bundle`,
        },
      ],
    };
  }
  names.sort(byName);
  if (names.length === 0) problems.push({ file: folder, message: 'has no bundle sub-folders' });
  const identities: IdentityToLoad[] = [];
  let expected: string[] | undefined;
  let expectedFrom = '';
  for (const id of names) {
    const dir = path.join(folder, id);
    const entries = (await readdir(dir, { withFileTypes: true })).filter((e) => !e.name.startsWith('.'));
    const members = entries
      .filter((e) => e.isFile())
      .map((e) => e.name)
      .sort();
    if (members.length === 0) {
      problems.push({ file: dir, message: 'holds no files' });
      continue;
    }
    expected ??= members;
    expectedFrom ||= id;
    if (members.join('\0') !== expected.join('\0')) {
      problems.push({
        file: dir,
        message: `holds ${members.join(', ')}; bundle ${expectedFrom} holds ${expected.join(', ')} — every bundle needs the same files`,
      });
      continue;
    }
    const files = [];
    for (const member of members)
      files.push({ member, bytes: new Uint8Array(await readFile(path.join(dir, member))) });
    identities.push({ id, credential: id, files, where: dir });
  }
  return { identities, problems };
}
