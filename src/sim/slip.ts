/**
 * The device's own SLIP framer (§1.1). It is deliberately separate from src/esp: a chip has its own firmware,
 * and a shared framer would hide bugs that exist on one side only.
 */
const END = 0xc0;
const ESC = 0xdb;
const ESC_END = 0xdc;
const ESC_ESC = 0xdd;

/** Streaming decoder: bytes outside frames are ignored, a frame with a bad escape is dropped (as the ROM does). */
export class SlipDecoder {
  private buf: number[] = [];
  private inFrame = false;
  private escaping = false;
  private broken = false;

  constructor(private readonly onFrame: (frame: Buffer) => void) {}

  push(bytes: Uint8Array): void {
    for (const b of bytes) {
      if (b === END) {
        // END with an empty buffer (re)starts a frame: this also resynchronises after a lost delimiter.
        if (this.inFrame && this.buf.length > 0 && !this.broken) {
          const frame = Buffer.from(this.buf);
          this.reset(false);
          this.onFrame(frame);
        } else {
          this.reset(true);
        }
        continue;
      }
      if (!this.inFrame || this.broken) continue;
      if (this.escaping) {
        this.escaping = false;
        if (b === ESC_END) this.buf.push(END);
        else if (b === ESC_ESC) this.buf.push(ESC);
        else this.broken = true;
      } else if (b === ESC) {
        this.escaping = true;
      } else {
        this.buf.push(b);
      }
    }
  }

  /** Forget a half-received frame (the chip reset). */
  clear(): void {
    this.reset(false);
  }

  private reset(inFrame: boolean): void {
    this.buf = [];
    this.inFrame = inFrame;
    this.escaping = false;
    this.broken = false;
  }
}

/** Encode one frame: END, payload with 0xDB escaped before 0xC0, END. */
export function slipEncode(payload: Uint8Array): Buffer {
  let extra = 0;
  for (const b of payload) if (b === END || b === ESC) extra++;
  const out = Buffer.allocUnsafe(payload.length + extra + 2);
  let j = 0;
  out[j++] = END;
  for (const b of payload) {
    if (b === ESC) {
      out[j++] = ESC;
      out[j++] = ESC_ESC;
    } else if (b === END) {
      out[j++] = ESC;
      out[j++] = ESC_END;
    } else {
      out[j++] = b;
    }
  }
  out[j] = END;
  return out;
}
