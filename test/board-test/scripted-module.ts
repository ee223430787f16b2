/**
 * A Transport whose far end is a scripted AT module: each command line written gets the answer the script
 * gives (as raw text, CR LF line ends), optionally echoed and cut into small chunks, as a UART delivers it.
 * For the board-test room's own tests; the simulator's AT app (src/sim) is the real counterpart.
 */
import type { Transport } from '../../src/serial/transport.ts';

export type Answer = string | undefined | ((command: string) => string | undefined);

export class ScriptedModule implements Transport {
  readonly path = 'scripted://at';
  readonly baudRate = 115200;
  readonly supportsControlLines = false;
  readonly closed: Promise<Error | undefined> = new Promise(() => undefined);
  readonly sent: string[] = [];
  echo = true;
  /** Cut every answer into chunks of this many bytes (a UART's FIFO-sized pieces). */
  chunk = 3;
  private readonly listeners = new Set<(b: Buffer) => void>();
  private input = '';

  constructor(readonly answers: Record<string, Answer> = {}) {}

  /** The module prints `text` on its own (e.g. `\r\nready\r\n`). */
  print(text: string): void {
    const bytes = Buffer.from(text, 'utf8');
    for (let i = 0; i < bytes.length; i += this.chunk) {
      const piece = bytes.subarray(i, i + this.chunk);
      setImmediate(() => {
        for (const l of this.listeners) l(piece);
      });
    }
  }

  async write(data: Uint8Array): Promise<void> {
    this.input += Buffer.from(data).toString('latin1');
    let nl: number;
    while ((nl = this.input.indexOf('\r\n')) >= 0) {
      const command = this.input.slice(0, nl);
      this.input = this.input.slice(nl + 2);
      this.sent.push(command);
      if (this.echo) this.print(`${command}\r\n`);
      if (command === 'ATE0') this.echo = false;
      const a = this.answers[command] ?? this.answers['*'];
      const text = typeof a === 'function' ? a(command) : a;
      if (text !== undefined) this.print(text);
    }
  }

  onData(cb: (chunk: Buffer) => void): () => void {
    this.listeners.add(cb);
    return () => this.listeners.delete(cb);
  }

  async setSignals(): Promise<void> {}
  async setBaudRate(): Promise<void> {}
  flushInput(): void {}
  async close(): Promise<void> {}
}

export const OK = '\r\nOK\r\n';

/** What ESP-AT v3.4.0.0 for ESP32-WROOM-32 prints for AT+GMR (the Bin version from the release's sdkconfig). */
export const GMR_V3400 =
  'AT version:3.4.0.0(s-4c6eb5e - ESP32 - May 20 2024 03:12:58)\r\n' +
  'SDK version:v5.0.6-dirty\r\n' +
  'compile time(70ff5889):Jun  7 2024 04:46:00\r\n' +
  'Bin version:v3.4.0.0(WROOM-32)\r\n' +
  OK;
