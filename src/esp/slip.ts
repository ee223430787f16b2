/**
 * Streaming SLIP framing (§1.1). The chip's UART carries both SLIP frames and plain text (ROM boot log,
 * application output), so the decoder keeps the text between frames as lines for diagnostics.
 */
export const SLIP_END = 0xc0;
export const SLIP_ESC = 0xdb;
export const SLIP_ESC_END = 0xdc;
export const SLIP_ESC_ESC = 0xdd;

/** Wraps `payload` in END bytes, escaping ESC before END so inserted escapes are never re-escaped. */
export function slipEncode(payload: Uint8Array): Buffer {
  let extra = 0;
  for (const b of payload) if (b === SLIP_END || b === SLIP_ESC) extra++;
  const out = Buffer.allocUnsafe(payload.length + extra + 2);
  let i = 0;
  out[i++] = SLIP_END;
  for (const b of payload) {
    if (b === SLIP_ESC) {
      out[i++] = SLIP_ESC;
      out[i++] = SLIP_ESC_ESC;
    } else if (b === SLIP_END) {
      out[i++] = SLIP_ESC;
      out[i++] = SLIP_ESC_END;
    } else {
      out[i++] = b;
    }
  }
  out[i] = SLIP_END;
  return out;
}

export interface SlipHandlers {
  onFrame(frame: Buffer): void;
  /** A line of text seen outside frames (without the line ending). */
  onText?(line: string): void;
  /** A frame was dropped (bad escape, oversize). Decoding continues with the next frame. */
  onError?(error: Error): void;
}

type State = 'idle' | 'frame' | 'escape' | 'discard';

/** Largest frame we accept: a 0x4000 data block + headers, escaped worst case, with margin. */
const DEFAULT_MAX_FRAME = 0x10000;

export class SlipDecoder {
  private state: State = 'idle';
  private frame: Buffer;
  private length = 0;
  private text: number[] = [];
  private readonly handlers: SlipHandlers;
  private readonly maxFrame: number;

  constructor(handlers: SlipHandlers, maxFrame = DEFAULT_MAX_FRAME) {
    this.handlers = handlers;
    this.maxFrame = maxFrame;
    this.frame = Buffer.allocUnsafe(maxFrame);
  }

  /** Drops any partial frame and pending text (used after a flush of the port's input). */
  reset(): void {
    this.dropFrame();
    this.text = [];
  }

  /** Drops a partial frame only; text on its way to a line ending is kept (a boot log is still arriving). */
  dropFrame(): void {
    this.state = 'idle';
    this.length = 0;
  }

  /** Text seen since the last complete line, e.g. a prompt without a newline. */
  pendingText(): string {
    return Buffer.from(this.text).toString('latin1');
  }

  push(chunk: Uint8Array): void {
    for (const b of chunk) {
      switch (this.state) {
        case 'idle':
          if (b === SLIP_END) {
            this.flushText();
            this.state = 'frame';
            this.length = 0;
          } else {
            this.addText(b);
          }
          break;
        case 'frame':
          if (b === SLIP_END) {
            // An END right after a start is a back-to-back delimiter: keep waiting for content.
            if (this.length > 0) {
              this.emitFrame();
              this.state = 'idle';
            }
          } else if (b === SLIP_ESC) {
            this.state = 'escape';
          } else {
            this.addByte(b);
          }
          break;
        case 'escape':
          if (b === SLIP_ESC_END) {
            this.state = 'frame';
            this.addByte(SLIP_END);
          } else if (b === SLIP_ESC_ESC) {
            this.state = 'frame';
            this.addByte(SLIP_ESC);
          } else {
            this.fail(
              new Error(`Invalid SLIP escape 0xdb 0x${b.toString(16).padStart(2, '0')}`),
              b === SLIP_END,
            );
          }
          break;
        case 'discard':
          if (b === SLIP_END) this.state = 'idle';
          break;
      }
    }
  }

  private addByte(b: number): void {
    if (this.state !== 'frame') return;
    if (this.length >= this.maxFrame) {
      this.fail(new Error(`SLIP frame longer than ${this.maxFrame} bytes`), false);
      return;
    }
    this.frame[this.length++] = b;
  }

  private fail(error: Error, atEnd: boolean): void {
    this.length = 0;
    this.state = atEnd ? 'idle' : 'discard';
    this.handlers.onError?.(error);
  }

  private emitFrame(): void {
    const frame = Buffer.from(this.frame.subarray(0, this.length));
    this.length = 0;
    this.handlers.onFrame(frame);
  }

  private addText(b: number): void {
    if (b === 0x0a) {
      this.flushText();
    } else if (b !== 0x0d) {
      // Bound the buffer: junk at a wrong baud rate has no newlines.
      if (this.text.length < 4096) this.text.push(b);
    }
  }

  private flushText(): void {
    if (this.text.length === 0) return;
    const line = Buffer.from(this.text).toString('latin1');
    this.text = [];
    this.handlers.onText?.(line);
  }
}
