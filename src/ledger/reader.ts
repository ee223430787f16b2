/**
 * Tolerant streaming reader: walks a ledger file or a directory of rotated files chunk by chunk (never the
 * whole file in memory), yields validated records, and counts torn or corrupt lines with file:line instead
 * of failing — a crash may leave a torn last line, and one bad line must never hide the boards after it.
 */
import { createReadStream } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { listLedgerFiles } from './files.ts';
import { LedgerRecordSchema } from './record.ts';
import type { LedgerRecord } from './record.ts';

export type LedgerProblemKind =
  /** A record cut short: the station stopped (crash, power loss) while writing it. */
  | 'torn'
  /** Not JSON at all. */
  | 'corrupt'
  /** JSON, but not a ledger record of this schema version. */
  | 'invalid';

export interface LedgerProblem {
  file: string;
  line: number; // 1-based
  kind: LedgerProblemKind;
  message: string;
}

export interface LedgerEntry {
  record: LedgerRecord;
  file: string;
  line: number;
}

export interface LedgerReaderOptions {
  signal?: AbortSignal;
  /** Problems beyond this many are counted but not kept, so a garbage file cannot exhaust memory. */
  maxProblemsKept?: number;
}

const CHUNK_BYTES = 1 << 20;
/** A record is a few KB; a longer "line" is garbage and is skipped rather than buffered without bound. */
const MAX_LINE_CHARS = 4 << 20;

export class LedgerReader {
  readonly path: string;
  /** Files read so far, in order. */
  readonly files: string[] = [];
  records = 0;
  problemCount = 0;
  readonly problems: LedgerProblem[] = [];
  private readonly options: LedgerReaderOptions;

  constructor(path: string, options: LedgerReaderOptions = {}) {
    this.path = path;
    this.options = options;
  }

  async *entries(): AsyncGenerator<LedgerEntry> {
    for (const file of await listLedgerFiles(this.path)) {
      this.options.signal?.throwIfAborted();
      this.files.push(file);
      for await (const [text, line, terminated] of readLines(file, this.options.signal)) {
        if (text === undefined) {
          this.report({
            file,
            line,
            kind: 'corrupt',
            message: `line longer than ${MAX_LINE_CHARS} characters`,
          });
          continue;
        }
        const record = this.parse(text, file, line, terminated);
        if (record) {
          this.records++;
          yield { record, file, line };
        }
      }
    }
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<LedgerRecord> {
    for await (const entry of this.entries()) yield entry.record;
  }

  private parse(text: string, file: string, line: number, terminated: boolean): LedgerRecord | undefined {
    if (text.trim().length === 0) return undefined;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      // A record is one JSON object on one line; an object that never closes was cut off mid-write.
      const cut = text.trimStart().startsWith('{') && !text.trimEnd().endsWith('}');
      this.report({
        file,
        line,
        kind: cut || !terminated ? 'torn' : 'corrupt',
        message: cut
          ? `incomplete record (${text.length} characters): the station stopped while writing it`
          : `not JSON: ${preview(text)}`,
      });
      return undefined;
    }
    const parsed = LedgerRecordSchema.safeParse(value);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
      this.report({ file, line, kind: 'invalid', message: `not a ledger record: ${where}${issue.message}` });
      return undefined;
    }
    return parsed.data;
  }

  private report(problem: LedgerProblem): void {
    this.problemCount++;
    if (this.problems.length < (this.options.maxProblemsKept ?? 1000)) this.problems.push(problem);
  }
}

export function formatLedgerProblem(p: LedgerProblem): string {
  return `${p.file}:${p.line}: ${p.kind} line: ${p.message}`;
}

function preview(text: string): string {
  const t = text.length > 60 ? `${text.slice(0, 60)}…` : text;
  return JSON.stringify(t);
}

/**
 * Lines of a file with their 1-based number and whether a newline ended them (only a last line can lack one);
 * `undefined` text stands for an over-long line that was skipped. Splits stream chunks itself rather than using
 * readline, which cannot say whether the last line was terminated.
 */
async function* readLines(
  file: string,
  signal?: AbortSignal,
): AsyncGenerator<[string | undefined, number, boolean]> {
  const stream = createReadStream(file, { highWaterMark: CHUNK_BYTES, signal });
  const decoder = new StringDecoder('utf8');
  let rest = '';
  let oversized = false;
  let line = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    const text = rest + decoder.write(chunk);
    let from = 0;
    for (let nl = text.indexOf('\n', from); nl !== -1; nl = text.indexOf('\n', from)) {
      yield [oversized ? undefined : text.slice(from, nl), ++line, true];
      oversized = false;
      from = nl + 1;
    }
    rest = text.slice(from);
    if (rest.length > MAX_LINE_CHARS) {
      oversized = true;
      rest = '';
    }
  }
  rest += decoder.end();
  if (oversized) yield [undefined, line + 1, false];
  else if (rest.length > 0) yield [rest, line + 1, false];
}
