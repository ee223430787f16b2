/** Frames the chip has received and not yet handled; the loader pulls them one at a time. */
export class FrameQueue {
  private readonly frames: Buffer[] = [];
  private waiter: ((f: Buffer) => void) | undefined;

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

  clear(): void {
    this.frames.length = 0;
    this.waiter = undefined;
  }
}

/** A timer-based delay (never a busy loop); 0 ms resolves at once. Rejects when `signal` aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason as Error);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
