import { SerialPortStream } from '@serialport/stream';
import type { BindingInterface } from '@serialport/bindings-interface' with { 'resolution-mode': 'require' };
import { abortError, StreamTransport } from './stream-transport.ts';
import { DEFAULT_BAUD, DisconnectedError } from './link-errors.ts';
import type { OpenTransportOptions, Transport, UsbVidPid } from './transport.ts';

/** The native binding is loaded only for real ports: importing it loads a native addon. */
async function nativeBinding(): Promise<BindingInterface> {
  const mod = await import('@serialport/bindings-cpp');
  return mod.autoDetect() as unknown as BindingInterface;
}

/** A local serial port through serialport's stream (the native binding, or the simulator's). */
class SerialTransport extends StreamTransport {
  readonly supportsControlLines = true;
  private readonly port: SerialPortStream;

  constructor(path: string, port: SerialPortStream, baud: number, usbVidPid?: UsbVidPid) {
    super(path, baud, usbVidPid);
    this.port = port;
    port.on('data', (chunk: Buffer) => this.deliver(chunk));
    port.on('close', (err?: Error & { disconnected?: boolean }) => {
      this.finish(err ? new DisconnectedError(`${path}: ${err.message}`, { cause: err }) : undefined);
    });
    // Errors without a close (e.g. a failed write) are surfaced by the operation that caused them.
    port.on('error', () => {});
  }

  protected streamIsOpen(): boolean {
    return this.port.isOpen;
  }

  protected writeToStream(data: Uint8Array, done: (err: Error | null | undefined) => void): void {
    this.port.write(Buffer.from(data.buffer, data.byteOffset, data.byteLength), done);
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
