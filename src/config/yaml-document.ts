import { readFile, stat } from 'node:fs/promises';
import { isMap, isPair, isScalar, LineCounter, parseDocument, visit } from 'yaml';
import type { Document, Node } from 'yaml';
import type { z } from 'zod';
import { InputError } from './problems.ts';
import type { Problem } from './problems.ts';

/**
 * Reads a YAML file and validates it against a zod schema, turning every YAML and schema issue into a
 * Problem with file:line:column (node-platform.md §5). All problems are reported at once.
 */
export async function readYamlFile(file: string, signal?: AbortSignal): Promise<string> {
  // A FIFO or device would block the read forever (or never end): only regular files are inputs.
  const st = await stat(file).catch(() => undefined);
  if (st && !st.isFile() && !st.isDirectory()) {
    throw new InputError({
      file,
      message: 'is not a regular file (a FIFO, socket or device); give the path of a YAML file',
    });
  }
  try {
    // A byte order mark is not content (the YAML parser would otherwise see an invisible character).
    return (await readFile(file, { encoding: 'utf8', signal })).replace(/^\uFEFF/, '');
  } catch (err) {
    if (signal?.aborted) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT' ? 'file not found' : code === 'EISDIR' ? 'is a directory, not a file' : String(err);
    throw new InputError({ file, message: `${why}; give the path of a YAML file` });
  }
}

export interface ParsedYaml<T> {
  value: T;
  /** Position of a key path in the file, for problems found after validation (e.g. duplicate slot names). */
  locate(path: readonly PropertyKey[]): { line?: number; column?: number };
}

export function parseYamlWithSchema<S extends z.ZodType>(
  file: string,
  text: string,
  schema: S,
): ParsedYaml<z.output<S>> {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: true, uniqueKeys: true });
  const problems: Problem[] = [];
  for (const e of doc.errors) {
    const pos = e.linePos?.[0];
    problems.push({
      file,
      line: pos?.line,
      column: pos?.col,
      // The location is already in file:line:column; yaml's own "at line L, column C:" is dropped.
      message: `YAML syntax: ${e.message
        .split('\n')[0]
        .replace(/\s*at line \d+, column \d+:?\s*$/, '')
        .replace(/:$/, '')}`,
    });
  }
  if (problems.length > 0) throw new InputError(problems);

  const locate = (path: readonly PropertyKey[]) => locateIn(doc, lineCounter, path);
  let raw: unknown;
  try {
    raw = doc.toJS() ?? {};
  } catch (err) {
    // yaml refuses aliases that expand without bound (an "alias bomb"): bad input at the first alias.
    let at: { line?: number; column?: number } = {};
    visit(doc, {
      Alias(_key, node) {
        if (node.range) at = pos(lineCounter, node.range[0]);
        return visit.BREAK;
      },
    });
    throw new InputError({
      file,
      ...at,
      message: `YAML aliases expand too far (${(err as Error).message.replace(/\.$/, '')}); write the values out instead of nesting aliases`,
    });
  }
  const result = schema.safeParse(raw);
  if (!result.success) {
    // A whole-object rule ("give one of ...") is noise next to a typo'd key in the same object: the typo
    // is the cause, so only it is reported.
    const typoAt = new Set(
      result.error.issues.filter((i) => i.code === 'unrecognized_keys').map((i) => i.path.join('.')),
    );
    for (const issue of result.error.issues) {
      const path = issue.path as PropertyKey[];
      if (issue.code === 'custom' && typoAt.has(path.join('.'))) continue;
      if (issue.code === 'unrecognized_keys') {
        for (const key of issue.keys) {
          const where = locateKey(doc, lineCounter, [...path, key]);
          problems.push({
            file,
            ...where,
            key: [...path, key].join('.'),
            message: `unknown key '${key}'${allowedKeysHint(schema, path)}`,
          });
        }
        continue;
      }
      problems.push({
        file,
        ...locate(path),
        key: path.length ? path.join('.') : undefined,
        message: describeIssue(issue, raw),
      });
    }
    problems.sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0));
    throw new InputError(problems);
  }
  return { value: result.data, locate };
}

function valueAt(raw: unknown, path: readonly PropertyKey[]): { found: boolean; value?: unknown } {
  let v: unknown = raw;
  for (const p of path) {
    if (v === null || typeof v !== 'object' || !Object.hasOwn(v, p)) return { found: false };
    v = (v as Record<PropertyKey, unknown>)[p];
  }
  return { found: true, value: v };
}

/** zod's sentence plus what was actually found, e.g. "expected one of ...; found 'udev'". */
function describeIssue(issue: z.core.$ZodIssue, raw: unknown): string {
  const msg = issue.message.replace(/^Invalid input: /, '').replace(/^Invalid option: /, '');
  const lower = msg.charAt(0).toLowerCase() + msg.slice(1);
  if (issue.path.length === 0 && issue.code === 'invalid_type')
    return 'expected a YAML mapping of `key: value` lines';
  const at = valueAt(raw, issue.path as PropertyKey[]);
  if (!at.found) {
    return issue.code === 'invalid_type' ? `missing; expected ${issue.expected}` : `missing; ${lower}`;
  }
  if (
    issue.code === 'invalid_type' ||
    issue.code === 'invalid_value' ||
    issue.code === 'too_small' ||
    issue.code === 'too_big'
  ) {
    return `${lower}; found ${JSON.stringify(at.value)}`;
  }
  return msg;
}

/** Lists the allowed keys at a path when the schema there is a plain object (helps with typos). */
function allowedKeysHint(schema: z.ZodType, path: readonly PropertyKey[]): string {
  let s: unknown = schema;
  for (const p of path) {
    s = unwrap(s);
    const shape = (s as { shape?: Record<string, unknown> }).shape;
    const element = (s as { element?: unknown }).element;
    if (typeof p === 'number' && element) s = element;
    else if (shape && typeof p === 'string' && p in shape) s = shape[p];
    else return '';
  }
  const shape = (unwrap(s) as { shape?: Record<string, unknown> }).shape;
  return shape ? `; allowed keys: ${Object.keys(shape).join(', ')}` : '';
}

function unwrap(s: unknown): unknown {
  // Optional/default/pipe wrappers keep the inner schema in def.innerType or def.in.
  for (let i = 0; i < 8; i++) {
    const def = (s as { def?: { innerType?: unknown; in?: unknown; type?: string } }).def;
    if (!def) return s;
    if (def.innerType) s = def.innerType;
    else if (def.type === 'pipe' && def.in) s = def.in;
    else return s;
  }
  return s;
}

function pos(lc: LineCounter, offset: number) {
  const p = lc.linePos(offset);
  return { line: p.line, column: p.col };
}

/** The node at a path, or the nearest existing ancestor (for missing keys). */
function locateIn(doc: Document, lc: LineCounter, path: readonly PropertyKey[]) {
  for (let n = path.length; n >= 0; n--) {
    const node = doc.getIn(path.slice(0, n) as unknown[], true) as Node | undefined;
    if (node && node.range) return pos(lc, node.range[0]);
    if (n === 0 && doc.contents?.range) return pos(lc, doc.contents.range[0]);
  }
  return { line: 1, column: 1 };
}

/** Position of the key itself (for unknown keys), not of its value. */
function locateKey(doc: Document, lc: LineCounter, path: readonly PropertyKey[]) {
  const parent = path.length > 1 ? doc.getIn(path.slice(0, -1) as unknown[], true) : doc.contents;
  const key = path[path.length - 1];
  if (isMap(parent)) {
    for (const item of parent.items) {
      if (isPair(item) && isScalar(item.key) && String(item.key.value) === String(key) && item.key.range) {
        return pos(lc, item.key.range[0]);
      }
    }
  }
  return locateIn(doc, lc, path.slice(0, -1));
}
