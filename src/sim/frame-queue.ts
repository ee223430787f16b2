/**
 * Frames the chip has received and not yet handled; the loader pulls them one at a time. `capacity` is how many
 * complete frames the receiver can hold while the loader is busy (unbounded unless a loader says otherwise); a
 * frame that begins when they are all taken is lost (see `accepting`, asked by the SLIP decoder).
 */
export class FrameQueue {
  private readonly frames: Buffer[] = [];
  private waiter: ((f: Buffer) => void) | undefined;
  private capacity = Number.POSITIVE_INFINITY;
  /** Frames lost because no receive buffer was free when they began (over the board's life). */
  dropped = 0;

  /** The loader now running buffers at most `frames` complete frames while it works. */
  limit(frames: number): void {
    this.capacity = frames;
  }

  /** Whether a frame beginning now has a buffer to land in; counts it as dropped when not. */
  accepting(): boolean {
    if (this.waiter || this.frames.length < this.capacity) return true;
    this.dropped++;
    return false;
  }

  push(frame: Buffer): void {
    const w = this.waiter;
    if (w) {
      this.waiter = undefined;
      w(frame);
    } else {
      this.frames.push(frame);
    }
  }

  /** Next frame; rejects when `signal` aborts (the chip reset). */
  next(signal: AbortSignal): Promise<Buffer> {
    const f = this.frames.shift();
    if (f) return Promise.resolve(f);
    if (signal.aborted) return Promise.reject(signal.reason as Error);
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        this.waiter = undefined;
        reject(signal.reason as Error);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiter = (frame) => {
        signal.removeEventListener('abort', onAbort);
        resolve(frame);
      };
    });
  }

  /** The chip reset: frames held are gone and the ROM's receiver (unbounded here) takes over. */
  clear(): void {
    this.frames.length = 0;
    this.waiter = undefined;
    this.capacity = Number.POSITIVE_INFINITY;
  }
}
