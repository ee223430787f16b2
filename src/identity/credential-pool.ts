/**
 * A local pool of credential bundles: a folder with one sub-folder per bundle, or a CSV manifest
 * (`id,<member>,…`, paths relative to it). Bundles are issued in name order (numbers compared as numbers).
 * A bundle that lacks a member is listed as a problem and never issued.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { parseCsvRecords } from '../nvs/index.ts';
import { IdentityError } from './errors.ts';
import type { CredentialSettings } from './settings.ts';

export interface CredentialBundle {
  id: string;
  /** Member name → absolute path. */
  paths: Record<string, string>;
}

export interface CredentialFile {
  member: string;
  bytes: Uint8Array;
  sha256: string;
}

const byName = new Intl.Collator('en', { numeric: true }).compare;

export class CredentialPool {
  readonly source: string;
  private bundleList: CredentialBundle[] = [];
  private problemList: string[] = [];

  private constructor(private readonly settings: CredentialSettings) {
    this.source = (settings.folder ?? settings.manifest) as string;
  }

  static async open(settings: CredentialSettings): Promise<CredentialPool> {
    const pool = new CredentialPool(settings);
    await pool.refresh();
    return pool;
  }

  /** Bundles that can be issued, in issue order. */
  get bundles(): readonly CredentialBundle[] {
    return this.bundleList;
  }

  /** Bundles left out, and why. */
  get problems(): readonly string[] {
    return this.problemList;
  }

  /** Lists the pool again (an operator may have added bundles). */
  async refresh(): Promise<void> {
    const members = Object.keys(this.settings.files);
    const listed =
      this.settings.folder !== undefined
        ? await listFolder(this.settings.folder, members)
        : await listManifest(this.settings.manifest as string, members);
    const problems = [...listed.problems];
    const bundles: CredentialBundle[] = [];
    for (const bundle of listed.bundles) {
      const missing: string[] = [];
      for (const [member, p] of Object.entries(bundle.paths)) {
        const st = await stat(p).catch(() => undefined);
        if (!st?.isFile()) missing.push(member);
      }
      if (missing.length > 0)
        problems.push(`bundle ${bundle.id} lacks ${missing.join(', ')}; it is not issued until it has them`);
      else bundles.push(bundle);
    }
    this.bundleList = bundles;
    this.problemList = problems;
  }

  /** The bundle's files as they are now. */
  async read(bundle: CredentialBundle): Promise<CredentialFile[]> {
    const files: CredentialFile[] = [];
    for (const [member, p] of Object.entries(bundle.paths)) {
      let bytes: Uint8Array;
      try {
        bytes = new Uint8Array(await readFile(p));
      } catch (err) {
        throw new IdentityError(
          'bundle-changed',
          `bundle ${bundle.id}: ${p} cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)})`,
        );
      }
      files.push({ member, bytes, sha256: createHash('sha256').update(bytes).digest('hex') });
    }
    return files;
  }

  find(id: string): CredentialBundle | undefined {
    return this.bundleList.find((b) => b.id === id);
  }
}

async function listFolder(
  folder: string,
  members: string[],
): Promise<{ bundles: CredentialBundle[]; problems: string[] }> {
  let names: string[];
  try {
    const entries = await readdir(folder, { withFileTypes: true });
    names = entries.filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => e.name);
  } catch (err) {
    throw new IdentityError(
      'setup',
      `credential folder ${folder} cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)}); give a folder with one sub-folder per bundle`,
    );
  }
  names.sort(byName);
  return {
    bundles: names.map((id) => ({
      id,
      paths: Object.fromEntries(members.map((m) => [m, path.join(folder, id, m)])),
    })),
    problems: [],
  };
}

async function listManifest(
  manifest: string,
  members: string[],
): Promise<{ bundles: CredentialBundle[]; problems: string[] }> {
  let text: string;
  try {
    text = await readFile(manifest, 'utf8');
  } catch (err) {
    throw new IdentityError(
      'setup',
      `credential manifest ${manifest} cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)})`,
    );
  }
  let records;
  try {
    records = parseCsvRecords(text, manifest);
  } catch (err) {
    throw new IdentityError('setup', (err as Error).message);
  }
  const [header, ...rows] = records;
  const columns = header?.fields.map((f) => f.trim()) ?? [];
  const missing = ['id', ...members].filter((c) => !columns.includes(c));
  if (missing.length > 0) {
    throw new IdentityError(
      'setup',
      `${manifest}:${header?.line ?? 1}: the header lacks ${missing.join(', ')}; the first line must be id,${members.join(',')}`,
    );
  }
  const base = path.dirname(manifest);
  const seen = new Map<string, number>();
  const bundles: CredentialBundle[] = [];
  const problems: string[] = [];
  for (const { line, fields } of rows) {
    const id = fields[columns.indexOf('id')]?.trim() ?? '';
    if (!id) {
      problems.push(`${manifest}:${line}: a row without an id is not issued`);
      continue;
    }
    const first = seen.get(id);
    if (first !== undefined) {
      problems.push(`${manifest}:${line}: id ${id} is also on line ${first}; only the first is issued`);
      continue;
    }
    seen.set(id, line);
    const paths: Record<string, string> = {};
    for (const m of members) paths[m] = path.resolve(base, fields[columns.indexOf(m)]?.trim() ?? '');
    bundles.push({ id, paths });
  }
  return { bundles, problems };
}
