/**
 * The test's transcript: per step the command sent, the lines that came back and how long it took. It goes
 * into the ledger record, so it is bounded (a board printing garbage cannot bloat the ledger) and plain text.
 */
import type { TestStep } from './plan.ts';

export type StepResult = 'ok' | 'fail' | 'timeout' | 'error';

export interface TranscriptEntry {
  step: TestStep;
  /** The command sent; absent for `ready`, which only listens. */
  command?: string;
  /** What came back (the final OK/ERROR included), at most MAX_LINES lines of MAX_LINE_CHARS. */
  lines: string[];
  ms: number;
  /** ok; fail (an answer, but the wrong one); timeout (no final line in time); error (ERROR/FAIL). */
  result: StepResult;
}

export const MAX_LINES = 40;
export const MAX_LINE_CHARS = 200;

/** Lines as stored: at most MAX_LINES (the first ones, then a count of the rest), each cut to MAX_LINE_CHARS. */
export function boundedLines(lines: readonly string[]): string[] {
  const cut = (l: string): string => (l.length > MAX_LINE_CHARS ? `${l.slice(0, MAX_LINE_CHARS - 1)}…` : l);
  if (lines.length <= MAX_LINES) return lines.map(cut);
  return [...lines.slice(0, MAX_LINES - 1).map(cut), `… ${lines.length - MAX_LINES + 1} more lines`];
}

export function entry(
  step: TestStep,
  command: string | undefined,
  lines: readonly string[],
  ms: number,
  result: StepResult,
): TranscriptEntry {
  return {
    step,
    ...(command !== undefined && { command }),
    lines: boundedLines(lines),
    ms: Math.max(0, Math.round(ms)),
    result,
  };
}
