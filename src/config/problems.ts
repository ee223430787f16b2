/**
 * A problem with an input (config, profile, image set, command line). Bad input is never a stack trace:
 * it is a list of problems, each with a location and a sentence saying what to change; the CLI exits 2.
 */
import { terminalSafe } from '../text/terminal-safe.ts';

export interface Problem {
  /** File the problem is in (as given by the user, or resolved), or '<command line>'. */
  file: string;
  /** 1-based line and column where the input has lines. */
  line?: number;
  column?: number;
  /** Dotted key path inside the file, e.g. `slots.2.usbPath`, or a region like `0x8000`. */
  key?: string;
  /** What is wrong and what to do, e.g. "offset 0x8100 is not 4 KB aligned; use a multiple of 0x1000". */
  message: string;
}

export class InputError extends Error {
  readonly problems: Problem[];
  /** Printed after the problems as it is, e.g. the command's usage. */
  readonly footer?: string;
  constructor(problems: Problem[] | Problem, footer?: string) {
    const list = Array.isArray(problems) ? problems : [problems];
    super(list.map(formatProblem).join('\n'));
    this.name = 'InputError';
    this.problems = list;
    if (footer !== undefined) this.footer = footer;
  }
}

export function formatProblem(p: Problem): string {
  const where = [p.file, p.line, p.line !== undefined ? p.column : undefined]
    .filter((x) => x !== undefined)
    .join(':');
  // File names, keys and quoted values come from the input: printed, a problem stays one plain line.
  return terminalSafe(`${where}: ${p.key ? `${p.key}: ` : ''}${p.message}`);
}

export function formatProblems(problems: Problem[]): string {
  const n = problems.length;
  return [`${n} problem${n === 1 ? '' : 's'} found:`, ...problems.map((p) => `  ${formatProblem(p)}`)].join(
    '\n',
  );
}
