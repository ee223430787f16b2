/**
 * Bad NVS input (a CSV row, a value that does not fit its type, a partition too small). This room sits on
 * the lowest floor, so it carries its own problem list; the CLI turns it into the usual file:line report.
 */
export interface NvsProblem {
  /** The CSV or binary the problem is in, when there is one. */
  file?: string;
  /** 1-based line of a CSV row. */
  line?: number;
  /** What is wrong and what to change. */
  message: string;
}

export class NvsInputError extends Error {
  readonly problems: NvsProblem[];
  constructor(problems: NvsProblem[] | NvsProblem) {
    const list = Array.isArray(problems) ? problems : [problems];
    super(list.map(formatNvsProblem).join('\n'));
    this.name = 'NvsInputError';
    this.problems = list;
  }
}

export function formatNvsProblem(p: NvsProblem): string {
  const where = [p.file, p.line].filter((x) => x !== undefined).join(':');
  return where ? `${where}: ${p.message}` : p.message;
}
