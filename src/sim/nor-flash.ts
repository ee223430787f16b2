import { createHash } from 'node:crypto';

const PAGE = 0x1000;

/**
 * Sparse SPI NOR flash: 4 KB pages are allocated on first program, erased bytes read 0xFF, programming can
 * only clear bits (new = old AND data), only erase sets them back. 32 boards with 16 MB each cost only
 * what was written.
 */
export class NorFlash {
  private readonly pages = new Map<number, Buffer>();

  constructor(readonly size: number) {
    if (!Number.isInteger(size) || size <= 0 || size % 0x10000 !== 0) {
      throw new RangeError(`flash size ${size} must be a positive multiple of 64 KB`);
    }
  }

  /** Bytes of host memory held by programmed pages. */
  get allocatedBytes(): number {
    return this.pages.size * PAGE;
  }

  read(offset: number, length: number): Buffer {
    this.check(offset, length);
    const out = Buffer.alloc(length, 0xff);
    let pos = 0;
    while (pos < length) {
      const addr = offset + pos;
      const pageNo = Math.floor(addr / PAGE);
      const inPage = addr % PAGE;
      const n = Math.min(PAGE - inPage, length - pos);
      const page = this.pages.get(pageNo);
      if (page) page.copy(out, pos, inPage, inPage + n);
      pos += n;
    }
    return out;
  }

  /** NOR program: each byte becomes old AND new. Writing without erasing first corrupts data, as on a chip. */
  program(offset: number, data: Uint8Array): void {
    this.check(offset, data.length);
    let pos = 0;
    while (pos < data.length) {
      const addr = offset + pos;
      const pageNo = Math.floor(addr / PAGE);
      const inPage = addr % PAGE;
      const n = Math.min(PAGE - inPage, data.length - pos);
      let page = this.pages.get(pageNo);
      if (!page) {
        // An all-0xFF program leaves an erased page erased: no need to allocate it.
        let allOnes = true;
        for (let i = 0; i < n; i++) {
          if (data[pos + i] !== 0xff) {
            allOnes = false;
            break;
          }
        }
        if (allOnes) {
          pos += n;
          continue;
        }
        // A fresh page is all ones: AND is a plain copy.
        page = Buffer.alloc(PAGE, 0xff);
        this.pages.set(pageNo, page);
        page.set(data.subarray(pos, pos + n), inPage);
        pos += n;
        continue;
      }
      for (let i = 0; i < n; i++) page[inPage + i] &= data[pos + i];
      pos += n;
    }
  }

  /** Erase the 4 KB sector containing `offset`. */
  eraseSector(offset: number): void {
    this.check(offset, 1);
    this.pages.delete(Math.floor(offset / PAGE));
  }

  /** Erase the 64 KB block containing `offset`. */
  eraseBlock(offset: number): void {
    this.check(offset, 1);
    const first = Math.floor(offset / 0x10000) * 16;
    for (let i = 0; i < 16; i++) this.pages.delete(first + i);
  }

  eraseChip(): void {
    this.pages.clear();
  }

  /** True when the sector containing `offset` reads all 0xFF. */
  isSectorErased(offset: number): boolean {
    const page = this.pages.get(Math.floor(offset / PAGE));
    return !page || page.every((b) => b === 0xff);
  }

  md5(offset: number, length: number): Buffer {
    this.check(offset, length);
    const hash = createHash('md5');
    for (let pos = 0; pos < length; pos += 0x10000) {
      hash.update(this.read(offset + pos, Math.min(0x10000, length - pos)));
    }
    return hash.digest();
  }

  private check(offset: number, length: number): void {
    if (!Number.isInteger(offset) || !Number.isInteger(length) || offset < 0 || length < 0) {
      throw new RangeError(`bad flash range ${offset}+${length}`);
    }
    if (offset + length > this.size) {
      throw new RangeError(
        `flash range 0x${offset.toString(16)}+0x${length.toString(16)} is beyond the end (0x${this.size.toString(16)})`,
      );
    }
  }
}
