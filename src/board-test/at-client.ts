/**
 * A client for ESP-AT's command port over any Transport: lines in, one command at a time out, each command
 * answered by its response lines and one final line (`OK`, `ERROR`, `FAIL`) or by nothing within its time.
 * It listens from the moment it is made, so a `ready` printed while the caller was busy (resetting the
 * board, watching UART0) is still there to be read. Timeouts are answers, not errors; an abort is an error.
 */
import type { Transport } from '../serial/transport.ts';
import { AtLineSplitter } from './at-lines.ts';

export type AtFinal = 'OK' | 'ERROR' | 'FAIL';

const FINALS: ReadonlySet<string> = new Set<AtFinal>(['OK', 'ERROR', 'FAIL']);

/** ESP-AT's answer when a command arrives while it is still processing the previous one; it is dropped. */
export const AT_BUSY = 'busy p...';

export interface AtReply {
  command: string;
  /** The final line; undefined when none arrived in time. */
  final?: AtFinal;
  /** Lines between the command and its final line (the echo left out). */
  lines: string[];
  /** The board echoed the command (echo on, ATE1). */
  echoed: boolean;
  /** Lines that arrived before the command was sent and nobody read (unsolicited messages). */
  unsolicited: string[];
  /** From the first byte sent to the final line (or the time-out). */
  ms: number;
}

export interface LineWait {
  /** The line that matched; undefined on time-out. */
  line?: string;
  /** Every line read while waiting, the match included. */
  seen: string[];
  ms: number;
}

export interface AtClientOptions {
  /** Milliseconds clock (tests); default performance.now. */
  now?: () => number;
  /** How often a command answered `busy p...` is sent again (after busyDelayMs). */
  busyRetries?: number;
  busyDelayMs?: number;
}

export class AtClient {
  private readonly inbox: string[] = [];
  private wake: (() => void) | undefined;
  private readonly splitter = new AtLineSplitter((line) => {
    this.inbox.push(line);
    const w = this.wake;
    this.wake = undefined;
    w?.();
  });
  private readonly unsubscribe: () => void;
  private readonly now: () => number;
  private busy = false;

  constructor(
    private readonly transport: Transport,
    private readonly opts: AtClientOptions = {},
  ) {
    this.now = opts.now ?? (() => performance.now());
    this.unsubscribe = transport.onData((chunk) => this.splitter.push(chunk));
  }

  /** Where the client talks (tty or URL) and at which rate. */
  get port(): { path: string; baud: number } {
    return { path: this.transport.path, baud: this.transport.baudRate };
  }

  /** Reads lines (those already received first) until one matches or `timeoutMs` passes. */
  async waitForLine(
    match: (line: string) => boolean,
    timeoutMs: number,
    signal: AbortSignal,
  ): Promise<LineWait> {
    const start = this.now();
    const deadline = start + timeoutMs;
    const seen: string[] = [];
    while (true) {
      const line = await this.nextLine(deadline, signal);
      if (line === undefined) return { seen, ms: this.now() - start };
      seen.push(line);
      if (match(line)) return { line, seen, ms: this.now() - start };
    }
  }

  /**
   * Sends `command` (CR LF appended) and reads its answer. One command at a time: ESP-AT drops a command that
   * arrives while it is busy, so overlapping calls are a caller's bug and throw.
   */
  async command(command: string, timeoutMs: number, signal: AbortSignal): Promise<AtReply> {
    if (this.busy) throw new Error(`AT command '${command}' sent while another is waiting for its answer`);
    this.busy = true;
    try {
      const unsolicited = this.inbox.splice(0);
      const start = this.now();
      const deadline = start + timeoutMs;
      const retries = this.opts.busyRetries ?? 2;
      const lines: string[] = [];
      let echoed = false;
      for (let attempt = 0; ; attempt++) {
        await this.transport.write(Buffer.from(`${command}\r\n`, 'latin1'), signal);
        // Read up to the final line, or up to a busy answer (the command was dropped: send it again).
        while (true) {
          const line = await this.nextLine(deadline, signal);
          const ms = this.now() - start;
          if (line === undefined) return { command, lines, echoed, unsolicited, ms };
          if (line === command) echoed = true;
          else if (FINALS.has(line))
            return { command, final: line as AtFinal, lines, echoed, unsolicited, ms };
          else lines.push(line);
          if (line === AT_BUSY && attempt < retries) break;
        }
        await sleep(this.opts.busyDelayMs ?? 100, signal);
      }
    } finally {
      this.busy = false;
    }
  }

  /** Stops listening; the transport stays open (its owner closes it). */
  dispose(): void {
    this.unsubscribe();
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  private async nextLine(deadline: number, signal: AbortSignal): Promise<string | undefined> {
    while (this.inbox.length === 0) {
      signal.throwIfAborted();
      const left = deadline - this.now();
      if (left <= 0) return undefined;
      await new Promise<void>((resolve, reject) => {
        const done = (): void => {
          clearTimeout(timer);
          signal.removeEventListener('abort', onAbort);
          this.wake = undefined;
        };
        const timer = setTimeout(() => {
          done();
          resolve();
        }, left);
        const onAbort = (): void => {
          done();
          reject(signal.reason);
        };
        signal.addEventListener('abort', onAbort, { once: true });
        this.wake = () => {
          done();
          resolve();
        };
      });
    }
    return this.inbox.shift();
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    signal.throwIfAborted();
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(t);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
