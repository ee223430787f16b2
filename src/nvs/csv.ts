/**
 * mfg_nvs.csv ⇄ the partition model. Rows are `key,type,encoding,value`: a `namespace` row opens a
 * namespace; `data` rows carry the value inline (u8…i64, string, binary, hex2bin, base64); `file` rows name a
 * file, relative to the CSV, read as binary, hex2bin, base64 or string. Every bad row is reported at once with
 * its line and what to change.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { csvField, parseCsvRecords } from './csv-records.ts';
import { INTEGER_TYPE_NAMES, INTEGER_TYPES, MAX_NAMESPACES } from './format.ts';
import type { IntegerType } from './format.ts';
import { NvsInputError } from './errors.ts';
import type { NvsProblem } from './errors.ts';
import { nameProblem, valueProblem } from './limits.ts';
import { namespacesOf } from './model.ts';
import type { NvsEntry, NvsItem, NvsPartition, NvsValue } from './model.ts';

export const CSV_HEADER = ['key', 'type', 'encoding', 'value'] as const;
const ROW_TYPES = ['namespace', 'data', 'file'] as const;
const BLOB_ENCODINGS = ['binary', 'hex2bin', 'base64'] as const;
/** Encodings of a value written inline (a CSV data row, a profile's fixed value). */
export const DATA_ENCODINGS = [...INTEGER_TYPE_NAMES, 'string', ...BLOB_ENCODINGS] as const;
export type DataEncoding = (typeof DATA_ENCODINGS)[number];
const FILE_ENCODINGS = ['string', ...BLOB_ENCODINGS] as const;

/** Reads a file row's file; given the path as written and the path resolved against the CSV's folder. */
export type CsvFileReader = (resolved: string) => Promise<Uint8Array>;

/** Loads `file` and every file its rows name. */
export async function loadNvsCsv(file: string): Promise<NvsPartition> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new NvsInputError({
      file,
      message: `${readFailure(err)}; give the path of a mfg_nvs.csv-style CSV`,
    });
  }
  return parseNvsCsv(text, file, (p) => readFile(p));
}

export async function parseNvsCsv(
  text: string,
  file: string,
  readBytes: CsvFileReader,
): Promise<NvsPartition> {
  const records = parseCsvRecords(text, file);
  const problems: NvsProblem[] = [];
  const problem = (line: number, message: string) => problems.push({ file, line, message });
  if (records.length === 0)
    throw new NvsInputError({ file, message: `is empty; the first line must be ${CSV_HEADER.join(',')}` });

  const [header, ...rows] = records;
  const columns = header.fields.map((f) => f.trim());
  const missing = CSV_HEADER.filter((c) => !columns.includes(c));
  if (missing.length > 0) {
    throw new NvsInputError({
      file,
      line: header.line,
      message: `the header lacks ${missing.join(', ')}; the first line must be ${CSV_HEADER.join(',')}`,
    });
  }
  const col = Object.fromEntries(CSV_HEADER.map((c) => [c, columns.indexOf(c)])) as Record<
    (typeof CSV_HEADER)[number],
    number
  >;

  const items: NvsItem[] = [];
  const namespaces = new Map<string, number>();
  const seen = new Map<string, number>();
  let current: string | undefined;
  for (const { line, fields } of rows) {
    if (fields.length > columns.length) {
      problem(
        line,
        `has ${fields.length} fields, the header ${columns.length}; put a value that contains commas in double quotes`,
      );
      continue;
    }
    const get = (c: (typeof CSV_HEADER)[number]) => fields[col[c]];
    const key = get('key') ?? '';
    const type = get('type');
    const encoding = get('encoding') ?? '';
    const value = get('value');
    const badName = nameProblem(key);
    if (badName) {
      problem(line, `key '${key}' ${badName}`);
      continue;
    }
    if (!(ROW_TYPES as readonly string[]).includes(type ?? '')) {
      problem(line, `type '${type ?? ''}' is not one of ${ROW_TYPES.join(', ')}`);
      continue;
    }
    if (type === 'namespace') {
      const opened = namespaces.get(key);
      if (opened !== undefined) {
        // nvs_partition_gen.py would put the rows after a second namespace row into the namespace opened
        // last, not this one: refuse rather than build something else than the CSV says.
        problem(
          line,
          `namespace '${key}' was opened on line ${opened} already; move these rows up under that one`,
        );
        current = undefined;
        continue;
      }
      if (namespaces.size >= MAX_NAMESPACES) {
        problem(line, `namespace '${key}' is one more than the ${MAX_NAMESPACES} an NVS partition can hold`);
        continue;
      }
      namespaces.set(key, line);
      current = key;
      items.push({ kind: 'namespace', name: key });
      continue;
    }
    if (current === undefined) {
      if (namespaces.size === 0)
        problem(line, `'${key}' comes before any namespace; add a row 'NAME,namespace,,' above it`);
      continue;
    }
    const allowed: readonly string[] = type === 'data' ? DATA_ENCODINGS : FILE_ENCODINGS;
    if (!allowed.includes(encoding)) {
      problem(line, `encoding '${encoding}' is not one ${type} rows take; use one of ${allowed.join(', ')}`);
      continue;
    }
    if (value === undefined) {
      problem(
        line,
        `'${key}' has no value column; a ${type} row has 4 fields: key,${type},${encoding},VALUE`,
      );
      continue;
    }
    const where = `${current}/${key}`;
    const first = seen.get(where);
    if (first !== undefined) {
      problem(
        line,
        `'${key}' is already set in namespace '${current}' on line ${first}; keep one of the two rows`,
      );
      continue;
    }
    seen.set(where, line);
    try {
      const content = type === 'file' ? await readFileRow(value, file, readBytes) : value;
      const parsed = valueFromText(content, encoding as (typeof DATA_ENCODINGS)[number]);
      const bad = valueProblem(parsed);
      if (bad) throw new Error(bad);
      items.push({ kind: 'entry', namespace: current, key, value: parsed });
    } catch (err) {
      problem(line, `'${key}': ${(err as Error).message}`);
    }
  }
  if (problems.length > 0) throw new NvsInputError(problems);
  return { items };
}

async function readFileRow(value: string, csvFile: string, readBytes: CsvFileReader): Promise<Uint8Array> {
  if (value === '') throw new Error('names no file; give a path relative to the CSV');
  const resolved = path.resolve(path.dirname(csvFile), value);
  try {
    return await readBytes(resolved);
  } catch (err) {
    throw new Error(`${readFailure(err)}: ${resolved} (file paths are relative to the CSV's folder)`, {
      cause: err,
    });
  }
}

function readFailure(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'file not found';
  if (code === 'EISDIR') return 'is a folder, not a file';
  if (code === 'EACCES') return 'cannot be read (permission denied)';
  return `cannot be read (${(err as Error).message})`;
}

/** A value written inline as in a CSV data row; throws an Error saying what is wrong with it. */
export function parseNvsValue(text: string, encoding: DataEncoding): NvsValue {
  const value = valueFromText(text, encoding);
  const bad = valueProblem(value);
  if (bad) throw new Error(bad);
  return value;
}

/** A value as written in a data row, or a file's content for a file row. */
function valueFromText(content: string | Uint8Array, encoding: (typeof DATA_ENCODINGS)[number]): NvsValue {
  const text = () => {
    if (typeof content === 'string') return content;
    const decoded = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
    try {
      return decoded.decode(content);
    } catch {
      throw new Error('the file is not UTF-8 text; use encoding binary for raw bytes');
    }
  };
  switch (encoding) {
    case 'string':
      return { type: 'string', value: text() };
    case 'binary':
      return {
        type: 'blob',
        value: new Uint8Array(typeof content === 'string' ? Buffer.from(content, 'utf8') : content),
      };
    case 'hex2bin': {
      const hex = text().trim();
      if (hex.length % 2 !== 0)
        throw new Error(`hex2bin value has ${hex.length} digits; give an even number (two per byte)`);
      if (!/^[0-9a-fA-F]*$/.test(hex))
        throw new Error(
          'hex2bin value has characters other than 0-9, a-f; write the bytes as hex digits only',
        );
      return { type: 'blob', value: new Uint8Array(Buffer.from(hex, 'hex')) };
    }
    case 'base64': {
      const b64 = text().replace(/\s+/g, '');
      if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64) || b64.length % 4 !== 0)
        throw new Error(
          'base64 value is not valid base64 (A-Z a-z 0-9 + /, padded with = to a multiple of 4)',
        );
      return { type: 'blob', value: new Uint8Array(Buffer.from(b64, 'base64')) };
    }
    default:
      return integerValue(text(), encoding);
  }
}

function integerValue(text: string, type: IntegerType): NvsValue {
  const s = text.trim();
  if (!/^[-+]?(\d+|0x[0-9a-fA-F]+)$/.test(s)) {
    throw new Error(`'${text}' is not a whole number; write it in decimal (e.g. 115200) or hex (0x1C200)`);
  }
  const negative = s.startsWith('-');
  const digits = s.replace(/^[-+]/, '');
  const n = negative ? -BigInt(digits) : BigInt(digits);
  const info = INTEGER_TYPES[type];
  if (n < info.min || n > info.max) {
    throw new Error(
      `${s} does not fit ${type} (${info.min}..${info.max}); use a wider type or a smaller value`,
    );
  }
  return type === 'u64' || type === 'i64' ? { type, value: n } : { type, value: Number(n) };
}

/**
 * The partition as mfg_nvs.csv. Blobs go inline as base64, or, when `blobFile` is given, as file rows
 * naming the path it returns (relative to the CSV). Generating from the result gives the same bytes.
 */
export function formatNvsCsv(
  partition: NvsPartition,
  blobFile?: (entry: NvsEntry & { value: { type: 'blob' } }) => string,
): string {
  const lines = [CSV_HEADER.join(',')];
  const row = (...fields: string[]) => lines.push(fields.map((f, i) => csvField(f, i === 0)).join(','));
  // A CSV opens each namespace once (see parseNvsCsv), so entries are grouped under their namespace in the
  // order namespaces first appear; a generated partition is already in that order.
  for (const namespace of namespacesOf(partition)) {
    row(namespace, 'namespace', '', '');
    for (const item of partition.items) {
      if (item.kind !== 'entry' || item.namespace !== namespace) continue;
      const v = item.value;
      if (v.type === 'blob') {
        if (blobFile) row(item.key, 'file', 'binary', blobFile({ ...item, value: v }));
        else row(item.key, 'data', 'base64', Buffer.from(v.value).toString('base64'));
      } else {
        row(item.key, 'data', v.type, String(v.value));
      }
    }
  }
  return `${lines.join('\n')}\n`;
}
