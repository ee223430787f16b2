import { DisconnectedError } from './link-errors.ts';
import type { Transport, UsbVidPid } from './transport-types.ts';

export function abortError(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new Error('aborted');
}

/**
 * What every byte-stream transport shares: one `closed` promise, writes that end at once when the link is lost,
 * abortable writes, and always-on reading (flowing mode) so a vanished device is noticed even when nobody
 * listens. Subclasses feed `deliver()` and `finish()` from their stream's events.
 */
export abstract class StreamTransport implements Transport {
  readonly path: string;
  abstract readonly supportsControlLines: boolean;
  readonly usbVidPid?: UsbVidPid;
  protected baud: number;
  private closedPromise: Promise<Error | undefined>;
  /** null while open; then the reason it ended (undefined = closed by us). */
  protected ended: Error | undefined | null = null;
  private resolveClosed!: (e: Error | undefined) => void;
  private readonly pendingWrites = new Set<(e: Error) => void>();
  private readonly listeners = new Set<(chunk: Buffer) => void>();

  protected constructor(path: string, baud: number, usbVidPid?: UsbVidPid) {
    this.path = path;
    this.baud = baud;
    this.usbVidPid = usbVidPid;
    this.closedPromise = new Promise((resolve) => (this.resolveClosed = resolve));
  }

  get closed(): Promise<Error | undefined> {
    return this.closedPromise;
  }

  get baudRate(): number {
    return this.baud;
  }

  /** A new handle is open on the same link: the transport is alive again, with a fresh `closed`. */
  protected revive(): void {
    this.ended = null;
    this.closedPromise = new Promise((resolve) => (this.resolveClosed = resolve));
  }

  /** Hands `data` to the stream; `done` is called once it has been passed on (or failed). */
  protected abstract writeToStream(data: Uint8Array, done: (err: Error | null | undefined) => void): void;
  protected abstract streamIsOpen(): boolean;
  abstract setSignals(s: { dtr: boolean; rts: boolean }): Promise<void>;
  abstract setBaudRate(baud: number): Promise<void>;
  abstract close(): Promise<void>;

  protected deliver(chunk: Buffer): void {
    for (const cb of this.listeners) cb(chunk);
  }

  protected finish(err: Error | undefined): void {
    if (this.ended !== null) return;
    this.ended = err;
    this.resolveClosed(err);
    for (const reject of this.pendingWrites) reject(this.deadError());
    this.pendingWrites.clear();
  }

  protected deadError(): Error {
    return this.ended ?? new DisconnectedError(`${this.path} is closed`);
  }

  write(data: Uint8Array, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(abortError(signal));
    if (this.ended !== null || !this.streamIsOpen()) return Promise.reject(this.deadError());
    return new Promise((resolve, reject) => {
      const onAbort = () => reject(abortError(signal!));
      signal?.addEventListener('abort', onAbort, { once: true });
      this.pendingWrites.add(reject);
      this.writeToStream(data, (err) => {
        signal?.removeEventListener('abort', onAbort);
        this.pendingWrites.delete(reject);
        if (err) reject(new DisconnectedError(`${this.path}: write failed: ${err.message}`, { cause: err }));
        else resolve();
      });
    });
  }

  onData(cb: (chunk: Buffer) => void): () => void {
    this.listeners.add(cb);
    return () => this.listeners.delete(cb);
  }

  flushInput(): void {
    // Bytes are delivered as they arrive, so nothing waits host-side; the reader (EspLoader) drops its own buffer.
  }
}
