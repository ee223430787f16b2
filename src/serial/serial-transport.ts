import { SerialPortStream } from '@serialport/stream';
import type { BindingInterface } from '@serialport/bindings-interface' with { 'resolution-mode': 'require' };
import {
  DEFAULT_BAUD,
  DisconnectedError,
  type OpenTransportOptions,
  type Transport,
  type UsbVidPid,
} from './transport.ts';

/** The native binding is loaded only for real ports: importing it loads a native addon. */
async function nativeBinding(): Promise<BindingInterface> {
  const mod = await import('@serialport/bindings-cpp');
  return mod.autoDetect() as unknown as BindingInterface;
}

function abortError(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new Error('aborted');
}

class SerialTransport implements Transport {
  readonly path: string;
  readonly supportsControlLines = true;
  readonly usbVidPid?: UsbVidPid;
  readonly closed: Promise<Error | undefined>;
  private readonly port: SerialPortStream;
  private baud: number;
  private ended: Error | undefined | null = null;
  private resolveClosed!: (e: Error | undefined) => void;
  /** Rejecters of writes in flight: a vanished link must end them at once. */
  private readonly pendingWrites = new Set<(e: Error) => void>();
  /** Always reading (flowing mode), so a vanished device is noticed even when nobody listens. */
  private readonly listeners = new Set<(chunk: Buffer) => void>();

  constructor(path: string, port: SerialPortStream, baud: number, usbVidPid?: UsbVidPid) {
    this.path = path;
    this.port = port;
    this.baud = baud;
    this.usbVidPid = usbVidPid;
    this.closed = new Promise((resolve) => (this.resolveClosed = resolve));
    port.on('data', (chunk: Buffer) => {
      for (const cb of this.listeners) cb(chunk);
    });
    port.on('close', (err?: Error & { disconnected?: boolean }) => {
      this.finish(err ? new DisconnectedError(`${path}: ${err.message}`, { cause: err }) : undefined);
    });
    // Errors without a close (e.g. a failed write) are surfaced by the operation that caused them.
    port.on('error', () => {});
  }

  get baudRate(): number {
    return this.baud;
  }

  private finish(err: Error | undefined): void {
    if (this.ended !== null) return;
    this.ended = err;
    this.resolveClosed(err);
    for (const reject of this.pendingWrites) reject(this.deadError());
    this.pendingWrites.clear();
  }

  private deadError(): Error {
    return this.ended ?? new DisconnectedError(`${this.path} is closed`);
  }

  write(data: Uint8Array, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(abortError(signal));
    if (this.ended !== null || !this.port.isOpen) return Promise.reject(this.deadError());
    return new Promise((resolve, reject) => {
      const onAbort = () => reject(abortError(signal!));
      signal?.addEventListener('abort', onAbort, { once: true });
      this.pendingWrites.add(reject);
      this.port.write(Buffer.from(data.buffer, data.byteOffset, data.byteLength), (err) => {
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

  setSignals(s: { dtr: boolean; rts: boolean }): Promise<void> {
    if (this.ended !== null) return Promise.reject(this.deadError());
    // Always both lines: SerialPortStream fills missing ones with defaults (dtr/rts true).
    return new Promise((resolve, reject) =>
      this.port.set({ dtr: s.dtr, rts: s.rts }, (err) => (err ? reject(err) : resolve())),
    );
  }

  setBaudRate(baud: number): Promise<void> {
    if (this.ended !== null) return Promise.reject(this.deadError());
    return new Promise((resolve, reject) =>
      this.port.update({ baudRate: baud }, (err) => {
        if (err) return reject(err);
        this.baud = baud;
        resolve();
      }),
    );
  }

  flushInput(): void {
    // Flowing mode delivers bytes as they are read, so nothing waits host-side; the reader
    // (EspLoader) drops what it has buffered itself.
  }

  async close(): Promise<void> {
    if (this.ended !== null) return;
    if (this.port.isOpen) {
      await new Promise<void>((resolve) => this.port.close(() => resolve()));
    }
    this.finish(undefined);
  }
}

export async function openSerialTransport(path: string, opts: OpenTransportOptions): Promise<Transport> {
  const binding = opts.binding ?? (await nativeBinding());
  const baudRate = opts.baudRate ?? DEFAULT_BAUD;
  const port = new SerialPortStream({ binding, path, baudRate, autoOpen: false });
  await new Promise<void>((resolve, reject) => {
    const onAbort = () => reject(abortError(opts.signal!));
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    port.open((err) => {
      opts.signal?.removeEventListener('abort', onAbort);
      if (err) reject(err);
      else resolve();
    });
  }).catch((err: unknown) => {
    if (port.isOpen) port.close();
    if (opts.signal?.aborted) throw err;
    throw new DisconnectedError(`cannot open ${path}: ${(err as Error).message}`, { cause: err });
  });
  return new SerialTransport(path, port, baudRate, opts.usbVidPid);
}
