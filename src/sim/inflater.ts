import { createHash } from 'node:crypto';
import { constants, createInflate, type Inflate } from 'node:zlib';

/**
 * Inflated output of stream prefixes already seen in this process, keyed by a hash chained over every
 * compressed block of the stream so far. A station flashes the same firmware into every board, so the
 * 2nd..32nd board get each block's output from here instead of inflating it again (the biggest host-CPU
 * item of a streaming sim board). Bounded; oldest entries go first.
 */
interface Entry {
  /** Pending while the first board inflates it: boards at the same block wait for that one result. */
  out: Promise<Buffer>;
  bytes: number;
}
const cache = new Map<string, Entry>();
let cachedBytes = 0;
const CACHE_LIMIT = 64 * 1024 * 1024;

function remember(key: string, out: Promise<Buffer>): void {
  const entry: Entry = { out, bytes: 0 };
  cache.set(key, entry);
  out.then(
    (buf) => {
      if (cache.get(key) !== entry) return;
      entry.bytes = buf.length;
      cachedBytes += buf.length;
      for (const [k, v] of cache) {
        if (cachedBytes <= CACHE_LIMIT) break;
        cache.delete(k);
        cachedBytes -= v.bytes;
      }
    },
    () => {
      if (cache.get(key) === entry) cache.delete(key);
    },
  );
}

/**
 * Incremental zlib inflate for FLASH_DEFL_DATA: each block is one piece of a single zlib stream (§2.2).
 * Uses Node's native zlib stream with a sync flush per block, so a 1.4 MB app costs one pass, not one per block;
 * identical streams on other boards come from the cache above.
 */
export class BlockInflater {
  private z: Inflate | undefined;
  private chunks: Buffer[] = [];
  private failure: Error | undefined;
  private onFail: ((e: Error) => void) | undefined;
  private key = 'zlib';
  /** Blocks answered from the cache and not yet fed to this board's own zlib stream. */
  private unfed: Uint8Array[] = [];

  /** Feed one compressed block; resolves with the bytes it inflated to. Rejects on bad zlib data. */
  async push(block: Uint8Array): Promise<Buffer> {
    if (this.failure) throw this.failure;
    const key = createHash('sha1').update(this.key).update(block).digest('base64');
    const hit = cache.get(key);
    this.key = key;
    if (hit) {
      this.unfed.push(block);
      return hit.out;
    }
    const out = this.catchUpAndInflate(block);
    remember(key, out);
    return out;
  }

  private async catchUpAndInflate(block: Uint8Array): Promise<Buffer> {
    // A stream that leaves the cached path: bring our own zlib state up to date first.
    const behind = this.unfed;
    this.unfed = [];
    for (const old of behind) await this.inflate(old);
    return this.inflate(block);
  }

  private inflate(block: Uint8Array): Promise<Buffer> {
    const z = this.stream();
    return new Promise((resolve, reject) => {
      this.onFail = reject;
      z.write(block);
      z.flush(constants.Z_SYNC_FLUSH, () => {
        this.onFail = undefined;
        if (this.failure) return reject(this.failure);
        const out = Buffer.concat(this.chunks);
        this.chunks = [];
        resolve(out);
      });
    });
  }

  private stream(): Inflate {
    if (this.z) return this.z;
    const z = createInflate();
    z.on('data', (c: Buffer) => this.chunks.push(c));
    z.on('error', (e: Error) => {
      this.failure = e;
      this.onFail?.(e);
    });
    this.z = z;
    return z;
  }

  close(): void {
    this.unfed = [];
    // An inflate still in flight (the board lost power or its link mid-block) must not settle with a truncated
    // output: other boards share it through the cache. Rejecting drops the cache entry; waiters retry.
    if (this.onFail) {
      this.failure ??= new Error('inflate stopped: the chip reset or lost its link');
      this.onFail(this.failure);
      this.onFail = undefined;
    }
    const z = this.z;
    if (!z) return;
    z.removeAllListeners('data');
    z.on('error', () => {});
    z.destroy();
  }
}
