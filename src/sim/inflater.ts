import { constants, createInflate, type Inflate } from 'node:zlib';

/**
 * Incremental zlib inflate for FLASH_DEFL_DATA: each block is one piece of a single zlib stream (§2.2).
 * Uses Node's native zlib stream with a sync flush per block, so a 1.4 MB app costs one pass, not one per block.
 */
export class BlockInflater {
  private readonly z: Inflate = createInflate();
  private chunks: Buffer[] = [];
  private failure: Error | undefined;
  private onFail: ((e: Error) => void) | undefined;

  constructor() {
    this.z.on('data', (c: Buffer) => this.chunks.push(c));
    this.z.on('error', (e: Error) => {
      this.failure = e;
      this.onFail?.(e);
    });
  }

  /** Feed one compressed block; resolves with the bytes it inflated to. Rejects on bad zlib data. */
  push(block: Uint8Array): Promise<Buffer> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.onFail = reject;
      this.z.write(block);
      this.z.flush(constants.Z_SYNC_FLUSH, () => {
        this.onFail = undefined;
        if (this.failure) return reject(this.failure);
        const out = Buffer.concat(this.chunks);
        this.chunks = [];
        resolve(out);
      });
    });
  }

  close(): void {
    this.z.removeAllListeners('data');
    this.z.on('error', () => {});
    this.z.destroy();
  }
}
