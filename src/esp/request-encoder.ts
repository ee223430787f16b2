/**
 * Builds SLIP-framed requests into one reused buffer, so writing a region allocates nothing per block
 * (design.md "a worker allocates nothing per block that it can reuse"). The returned view is valid until
 * the next encode; callers await the transport write before encoding again.
 */
import { SLIP_END, SLIP_ESC, SLIP_ESC_END, SLIP_ESC_ESC } from './slip.ts';

export class RequestEncoder {
  private buf: Buffer;
  private readonly header = Buffer.alloc(8);
  /** MEM_DATA / FLASH_DATA / FLASH_DEFL_DATA sub-header: data_len, seq, 0, 0. */
  private readonly dataHeader = Buffer.alloc(16);

  constructor(initialBytes = 2 * (8 + 16 + 0x4000) + 2) {
    this.buf = Buffer.allocUnsafe(initialBytes);
  }

  /** The 16-byte sub-header for a data block, as the first part of a data command. */
  dataBlockHeader(dataLength: number, seq: number): Buffer {
    this.dataHeader.writeUInt32LE(dataLength, 0);
    this.dataHeader.writeUInt32LE(seq >>> 0, 4);
    return this.dataHeader;
  }

  encode(op: number, parts: readonly Uint8Array[], check = 0): Buffer {
    let size = 0;
    for (const p of parts) size += p.length;
    if (size > 0xffff) throw new RangeError(`payload of ${size} bytes is too long`);
    const worst = 2 + 2 * (8 + size);
    if (this.buf.length < worst) this.buf = Buffer.allocUnsafe(worst);
    this.header[0] = 0x00;
    this.header[1] = op;
    this.header.writeUInt16LE(size, 2);
    this.header.writeUInt32LE(check >>> 0, 4);
    const out = this.buf;
    let i = 0;
    out[i++] = SLIP_END;
    for (const part of [this.header, ...parts]) {
      for (let k = 0; k < part.length; k++) {
        const b = part[k];
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
    }
    out[i++] = SLIP_END;
    return out.subarray(0, i);
  }
}
