import { SerialPortStream } from '@serialport/stream';
import type { BindingInterface } from '@serialport/bindings-interface' with { 'resolution-mode': 'require' };
import { setTimeout as delay } from 'node:timers/promises';
import { abortError, StreamTransport } from './stream-transport.ts';
import { DEFAULT_BAUD, DisconnectedError } from './link-errors.ts';
import type { OpenTransportOptions, Transport, UsbVidPid } from './transport-types.ts';

/** The native binding is loaded only for real ports: importing it loads a native addon. */
async function nativeBinding(): Promise<BindingInterface> {
  const mod = await import('@serialport/bindings-cpp');
  return mod.autoDetect() as unknown as BindingInterface;
}

/** A local serial port through serialport's stream (the native binding, or the simulator's). */
class SerialTransport extends StreamTransport {
  readonly supportsControlLines = true;
  private port: SerialPortStream;

  constructor(
    path: string,
    port: SerialPortStream,
    baud: number,
    private readonly binding: BindingInterface,
    usbVidPid?: UsbVidPid,
  ) {
    super(path, baud, usbVidPid);
    this.port = port;
    this.listen(port);
  }

  private listen(port: SerialPortStream): void {
    port.on('data', (chunk: Buffer) => {
      if (this.port === port) this.deliver(chunk);
    });
    port.on('close', (err?: Error & { disconnected?: boolean }) => {
      if (this.port !== port) return;
      this.finish(err ? new DisconnectedError(`${this.path}: ${err.message}`, { cause: err }) : undefined);
    });
    // Errors without a close (e.g. a failed write) are surfaced by the operation that caused them.
    port.on('error', () => {});
  }

  async reopen(opts: { delayMs: number; signal?: AbortSignal }): Promise<void> {
    const old = this.port;
    // Let go of the dead handle first: the kernel gives a re-enumerated device its old tty number only if free.
    if (old.isOpen) await new Promise<void>((resolve) => old.close(() => resolve()));
    await delay(opts.delayMs, undefined, { signal: opts.signal });
    const port = await openPort(this.path, this.binding, this.baud, opts.signal);
    this.port = port;
    this.listen(port);
    this.revive();
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
      this.port.set({ dtr: s.dtr, rts: s.rts }, (err) =>
        err
          ? reject(
              new DisconnectedError(`${this.path}: setting DTR/RTS failed: ${err.message}`, { cause: err }),
            )
          : resolve(),
      ),
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

async function openPort(
  path: string,
  binding: BindingInterface,
  baudRate: number,
  signal?: AbortSignal,
): Promise<SerialPortStream> {
  const port = new SerialPortStream({ binding, path, baudRate, autoOpen: false });
  await new Promise<void>((resolve, reject) => {
    const onAbort = () => reject(abortError(signal!));
    signal?.addEventListener('abort', onAbort, { once: true });
    port.open((err) => {
      signal?.removeEventListener('abort', onAbort);
      if (err) reject(err);
      else resolve();
    });
  }).catch((err: unknown) => {
    if (port.isOpen) port.close();
    if (signal?.aborted) throw err;
    throw new DisconnectedError(`cannot open ${path}: ${(err as Error).message}`, { cause: err });
  });
  return port;
}

export async function openSerialTransport(path: string, opts: OpenTransportOptions): Promise<Transport> {
  const binding = opts.binding ?? (await nativeBinding());
  const baudRate = opts.baudRate ?? DEFAULT_BAUD;
  const port = await openPort(path, binding, baudRate, opts.signal);
  return new SerialTransport(path, port, baudRate, binding, opts.usbVidPid);
}
