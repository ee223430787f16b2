/**
 * Tolerant streaming reader: walks a ledger file or a directory of rotated files chunk by chunk (never the
 * whole file in memory), yields validated records, and counts torn or corrupt lines with file:line instead
 * of failing — a crash may leave a torn last line, and one bad line must never hide the boards after it.
 */
import { createReadStream } from 'node:fs';
import { listLedgerFiles } from './files.ts';
import { isCertainlyLedgerRecord } from './record-check.ts';
import { parseSkippingRegions } from './skip-regions.ts';
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
  /**
   * Return records with `regions: []` (regions are still validated; a record with a retried region keeps them). For reports:
   * it spares most of the parsing. Lines in an unusual form are parsed in full as usual.
   */
  skipRegions?: boolean;
  /**
   * Read only bytes [start, end) of a single ledger file; both must be line starts (or the file size).
   * Line numbers are then counted from the range's first line (the caller knows how many lines precede it).
   */
  range?: { start: number; end: number };
  /** Problems beyond this many are counted but not kept, so a garbage file cannot exhaust memory. */
  maxProblemsKept?: number;
}

const CHUNK_BYTES = 1 << 20;
/** A record is a few KB; a longer "line" is garbage and is skipped rather than buffered without bound. */
const MAX_LINE_BYTES = 4 << 20;

export class LedgerReader {
  readonly path: string;
  /** Files read so far, in order. */
  readonly files: string[] = [];
  records = 0;
  /** Lines read (records, blank and unreadable lines). */
  lines = 0;
  problemCount = 0;
  readonly problems: LedgerProblem[] = [];
  private readonly options: LedgerReaderOptions;

  constructor(path: string, options: LedgerReaderOptions = {}) {
    this.path = path;
    this.options = options;
  }

  /**
   * Validated records a chunk (about 1 MB) at a time. Batches keep the per-record cost of async iteration
   * out of the hot path; entries() and the async iterator are the per-record views of the same walk.
   */
  async *entryBatches(): AsyncGenerator<LedgerEntry[]> {
    const files = await listLedgerFiles(this.path);
    if (this.options.range && (files.length !== 1 || files[0] !== this.path)) {
      throw new TypeError('LedgerReader: a byte range needs a single ledger file');
    }
    for (const file of files) {
      this.options.signal?.throwIfAborted();
      this.files.push(file);
      for await (const chunk of readLineChunks(file, this.options.signal, this.options.range)) {
        this.lines += chunk.texts.length;
        const batch: LedgerEntry[] = [];
        chunk.texts.forEach((text, k) => {
          const line = chunk.firstLine + k;
          if (text === undefined) {
            this.report({
              file,
              line,
              kind: 'corrupt',
              message: `line longer than ${MAX_LINE_BYTES} bytes`,
            });
            return;
          }
          const terminated = k < chunk.texts.length - 1 || chunk.terminated;
          const record = this.parse(text, file, line, terminated);
          if (record) batch.push({ record, file, line });
        });
        this.records += batch.length;
        if (batch.length > 0) yield batch;
      }
    }
  }

  async *recordBatches(): AsyncGenerator<LedgerRecord[]> {
    for await (const batch of this.entryBatches()) yield batch.map((e) => e.record);
  }

  async *entries(): AsyncGenerator<LedgerEntry> {
    for await (const batch of this.entryBatches()) yield* batch;
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<LedgerRecord> {
    for await (const batch of this.entryBatches()) for (const e of batch) yield e.record;
  }

  private parse(text: string, file: string, line: number, terminated: boolean): LedgerRecord | undefined {
    if (this.options.skipRegions) {
      const quick = parseSkippingRegions(text);
      if (quick) return quick;
    }
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
    if (isCertainlyLedgerRecord(value)) return value;
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

interface LineChunk {
  /** Lines in order; `undefined` stands for an over-long line that was skipped. */
  texts: Array<string | undefined>;
  /** 1-based number of texts[0]. */
  firstLine: number;
  /** Whether the last of these lines ended with a newline (only a file's last line can lack one). */
  terminated: boolean;
}

/**
 * The lines of a file, one stream chunk at a time. Splits chunks itself rather than using readline, which
 * cannot say whether the last line was terminated, and costs an async step per line.
 */
async function* readLineChunks(
  file: string,
  signal?: AbortSignal,
  range?: { start: number; end: number },
): AsyncGenerator<LineChunk> {
  if (range && range.end <= range.start) return;
  // createReadStream's end is inclusive.
  const stream = createReadStream(file, {
    highWaterMark: CHUNK_BYTES,
    signal,
    ...(range ? { start: range.start, end: range.end - 1 } : {}),
  });
  // Newlines are found in the bytes and each line decoded on its own: about three times cheaper than decoding
  // whole chunks and splitting strings (a UTF-8 newline byte never occurs inside a multi-byte character).
  let rest: Buffer | undefined;
  let oversized = false;
  let line = 1;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    const buf = rest ? Buffer.concat([rest, chunk]) : chunk;
    const texts: Array<string | undefined> = [];
    let from = 0;
    for (let nl = buf.indexOf(0x0a, from); nl !== -1; nl = buf.indexOf(0x0a, from)) {
      texts.push(oversized ? undefined : buf.toString('utf8', from, nl));
      oversized = false;
      from = nl + 1;
    }
    rest = from < buf.length ? buf.subarray(from) : undefined;
    if (rest && rest.length > MAX_LINE_BYTES) {
      oversized = true;
      rest = undefined;
    }
    if (texts.length > 0) yield { texts, firstLine: line, terminated: true };
    line += texts.length;
  }
  if (oversized) yield { texts: [undefined], firstLine: line, terminated: false };
  else if (rest) yield { texts: [rest.toString('utf8')], firstLine: line, terminated: false };
}
