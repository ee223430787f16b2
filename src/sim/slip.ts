/**
 * The device's own SLIP framer (§1.1). It is deliberately separate from src/esp: a chip has its own firmware,
 * and a shared framer would hide bugs that exist on one side only.
 */
const END = 0xc0;
const ESC = 0xdb;
const ESC_END = 0xdc;
const ESC_ESC = 0xdd;
const LITERAL_END = Buffer.from([END]);
const LITERAL_ESC = Buffer.from([ESC]);

/**
 * Streaming decoder: bytes outside frames are ignored, a frame with a bad escape is dropped (as the ROM does).
 * Runs between special bytes are found with indexOf and kept as slices, so a 16 KB block costs a few copies,
 * not 16 K array pushes (32 boards at 921600 must stay cheap).
 */
export class SlipDecoder {
  private parts: Uint8Array[] = [];
  private length = 0;
  private inFrame = false;
  private escaping = false;
  private broken = false;

  /**
   * `accept`, asked at the first byte of each frame: false drops the whole frame (the receiver had no buffer
   * armed when it began), and the decoder resynchronises on the next END, as esp-flasher-stub's ISR does.
   */
  constructor(
    private readonly onFrame: (frame: Buffer) => void,
    private readonly accept?: () => boolean,
  ) {}

  push(bytes: Uint8Array): void {
    const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    let i = 0;
    const n = buf.length;
    // Next END / ESC at or after i, re-searched only once passed: each byte is scanned about once.
    let nextEnd = -2;
    let nextEsc = -2;
    while (i < n) {
      if (!this.inFrame || this.broken) {
        const j = buf.indexOf(END, i);
        if (j < 0) return;
        this.reset(true);
        i = j + 1;
        continue;
      }
      if (this.escaping) {
        this.escaping = false;
        const b = buf[i++];
        if (b === ESC_END) this.add(LITERAL_END);
        else if (b === ESC_ESC) this.add(LITERAL_ESC);
        else this.broken = true;
        continue;
      }
      if (nextEnd !== -1 && nextEnd < i) nextEnd = buf.indexOf(END, i);
      if (nextEsc !== -1 && nextEsc < i) nextEsc = buf.indexOf(ESC, i);
      const e = nextEnd;
      const x = nextEsc;
      const stop = e < 0 ? x : x < 0 ? e : Math.min(e, x);
      if (stop < 0) {
        this.add(buf.subarray(i));
        return;
      }
      if (stop > i) this.add(buf.subarray(i, stop));
      i = stop + 1;
      if (stop === x) {
        this.escaping = true;
        continue;
      }
      // END: an empty frame (re)starts one, which also resynchronises after a lost delimiter.
      if (this.length > 0) {
        const frame = Buffer.concat(this.parts, this.length);
        this.reset(false);
        this.onFrame(frame);
      } else {
        this.reset(true);
      }
    }
  }

  /** Forget a half-received frame (the chip reset). */
  clear(): void {
    this.reset(false);
  }

  private add(part: Uint8Array): void {
    if (this.length === 0 && this.accept && !this.accept()) {
      this.broken = true;
      return;
    }
    this.parts.push(part);
    this.length += part.length;
  }

  private reset(inFrame: boolean): void {
    this.parts = [];
    this.length = 0;
    this.inFrame = inFrame;
    this.escaping = false;
    this.broken = false;
  }
}

/** Encode one frame: END, payload with 0xDB escaped before 0xC0, END. */
export function slipEncode(payload: Uint8Array): Buffer {
  const src = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
  const parts: Uint8Array[] = [LITERAL_END];
  let i = 0;
  let e = -2;
  let x = -2;
  while (i < src.length) {
    if (e !== -1 && e < i) e = src.indexOf(END, i);
    if (x !== -1 && x < i) x = src.indexOf(ESC, i);
    const stop = e < 0 ? x : x < 0 ? e : Math.min(e, x);
    if (stop < 0) {
      parts.push(src.subarray(i));
      break;
    }
    if (stop > i) parts.push(src.subarray(i, stop));
    parts.push(src[stop] === ESC ? ESCAPED_ESC : ESCAPED_END);
    i = stop + 1;
  }
  parts.push(LITERAL_END);
  return Buffer.concat(parts);
}

const ESCAPED_ESC = Buffer.from([ESC, ESC_ESC]);
const ESCAPED_END = Buffer.from([ESC, ESC_END]);
