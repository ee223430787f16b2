/**
 * The CSV dialect of mfg_nvs.csv as Python's csv module reads it: comma-separated, double quotes around a
 * field that holds commas, quotes ("" inside) or line breaks; lines starting with '#' are comments; blank
 * lines are skipped. Small enough to keep here, and it keeps each record's line number for error messages.
 */
import { NvsInputError } from './errors.ts';

export interface CsvRecord {
  /** 1-based line the record starts on. */
  line: number;
  fields: string[];
}

export function parseCsvRecords(text: string, file?: string): CsvRecord[] {
  const records: CsvRecord[] = [];
  const s = text.startsWith('\uFEFF') ? text.slice(1) : text; // a spreadsheet's byte-order mark
  let i = 0;
  let line = 1;
  while (i < s.length) {
    const start = line;
    if (s[i] === '#') {
      while (i < s.length && s[i] !== '\n') i++;
      i++;
      line++;
      continue;
    }
    const fields: string[] = [];
    let field = '';
    let quoted = false;
    let atFieldStart = true;
    while (i < s.length) {
      const c = s[i];
      if (quoted) {
        if (c === '"' && s[i + 1] === '"') {
          field += '"';
          i += 2;
        } else if (c === '"') {
          quoted = false;
          i++;
        } else {
          if (c === '\n') line++;
          field += c;
          i++;
        }
        continue;
      }
      if (c === '"' && atFieldStart) {
        quoted = true;
        atFieldStart = false;
        i++;
      } else if (c === ',') {
        fields.push(field);
        field = '';
        atFieldStart = true;
        i++;
      } else if (c === '\n' || c === '\r') {
        i += c === '\r' && s[i + 1] === '\n' ? 2 : 1;
        line++;
        break;
      } else {
        field += c;
        atFieldStart = false;
        i++;
      }
    }
    if (quoted) {
      throw new NvsInputError({
        file,
        line: start,
        message: 'a quoted value is never closed; end it with " (write "" for a quote inside a value)',
      });
    }
    fields.push(field);
    if (fields.length === 1 && fields[0] === '') continue; // blank line
    records.push({ line: start, fields });
  }
  return records;
}

/** One CSV field, quoted only when it must be (and when it would read as a comment at a line's start). */
export function csvField(value: string, first = false): string {
  if (/[",\r\n]/.test(value) || (first && value.startsWith('#'))) return `"${value.replace(/"/g, '""')}"`;
  return value;
}
