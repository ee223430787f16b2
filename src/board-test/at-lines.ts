/**
 * ESP-AT's line framing: every response line ends in CR LF; a bare LF is accepted too (some bridges and
 * ser2net setups translate line ends). Bytes are cut into lines as they arrive; a line is text without its
 * line end. Blank lines carry no information (ESP-AT frames `ready` and `OK` with them) and are dropped.
 */

/** Longest line kept; a board spewing garbage without line ends must not grow memory without bound. */
const MAX_LINE_BYTES = 4096;

export class AtLineSplitter {
  private pending: Buffer = Buffer.alloc(0);

  constructor(private readonly onLine: (line: string) => void) {}

  push(chunk: Buffer): void {
    let data = this.pending.length > 0 ? Buffer.concat([this.pending, chunk]) : chunk;
    let nl: number;
    while ((nl = data.indexOf(0x0a)) >= 0) {
      this.emit(data.subarray(0, nl));
      data = data.subarray(nl + 1);
    }
    if (data.length > MAX_LINE_BYTES) {
      this.emit(data);
      data = Buffer.alloc(0);
    }
    this.pending = Buffer.from(data);
  }

  /** Text received after the last line end (e.g. the `>` prompt of a send command). */
  get partial(): string {
    return decodeLine(this.pending);
  }

  private emit(bytes: Buffer): void {
    const line = decodeLine(bytes);
    if (line !== '') this.onLine(line);
  }
}

/**
 * Bytes of one line as text: UTF-8 (SSIDs may use it), control characters (the CR, line noise, a NUL at
 * power-up) dropped, surrounding whitespace removed.
 */
export function decodeLine(bytes: Buffer): string {
  return (
    bytes
      .toString('utf8')
      // eslint-disable-next-line no-control-regex
      .replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, '')
      .trim()
  );
}
