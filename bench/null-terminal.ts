/**
 * A terminal for UI benchmarks: it looks like a TTY (so Ink renders exactly as for an operator) but throws the
 * frames away, counting them; and a keyboard that never types (a pipe: no raw mode).
 */
import { EventEmitter } from 'node:events';

export class NullTerminal extends EventEmitter {
  isTTY = true;
  writes = 0;
  bytes = 0;
  constructor(
    public columns = 160,
    public rows = 48,
  ) {
    super();
  }
  write(s: string): boolean {
    this.writes++;
    this.bytes += s.length;
    return true;
  }
}

export class SilentStdin extends EventEmitter {
  isTTY = undefined;
  read(): null {
    return null;
  }
  setEncoding(): void {}
  ref(): void {}
  unref(): void {}
  resume(): void {}
  pause(): void {}
}
