/**
 * How many bytes each compressed block of a zlib stream inflates to, block by block as they are sent — what
 * esptool's write_flash learns from its own decompressobj to size every block's timeout (16 KB of zeros can be
 * megabytes of erase and program work on the chip).
 */
import { constants, createInflate, type Inflate } from 'node:zlib';

export class BlockInflater {
  private readonly inflate: Inflate;
  private produced = 0;
  private failed: Error | undefined;

  constructor() {
    this.inflate = createInflate();
    this.inflate.on('data', (chunk: Buffer) => {
      this.produced += chunk.length;
    });
    this.inflate.on('error', (err) => {
      this.failed = err;
    });
  }

  /**
   * Feeds the next compressed block; resolves with the bytes it inflated to, or undefined once the stream proved
   * not to be zlib (the chip will refuse it; the caller sizes the wait some other way).
   */
  async next(block: Uint8Array): Promise<number | undefined> {
    if (this.failed) return undefined;
    const before = this.produced;
    await new Promise<void>((resolve) => {
      const onError = (): void => resolve();
      this.inflate.once('error', onError);
      this.inflate.write(block);
      this.inflate.flush(constants.Z_SYNC_FLUSH, () => {
        this.inflate.off('error', onError);
        resolve();
      });
    });
    return this.failed ? undefined : this.produced - before;
  }

  close(): void {
    this.inflate.destroy();
  }
}
