import { SerialPortStream } from '@serialport/stream';
import type { SimBinding } from '../../src/sim/binding.ts';

/**
 * A Node stand-in for the Web Serial `SerialPort` that esptool-js's `Transport` expects (open, readable,
 * writable, setSignals, getInfo, setBaudRate, close), on top of a real `SerialPortStream` over SimBinding, so
 * esptool-js exercises the same serialport path the station uses.
 */
export class EsptoolJsPort {
  readable: ReadableStream<Uint8Array> | null = null;
  writable: WritableStream<Uint8Array> | null = null;
  private port: SerialPortStream | undefined;
  /** Web Serial keeps signal state; setSignals changes only the flags it is given. */
  private signals = { dtr: false, rts: false };

  constructor(
    private readonly binding: SimBinding,
    private readonly path: string,
    private readonly info: { usbVendorId?: number; usbProductId?: number } = {
      usbVendorId: 0x10c4,
      usbProductId: 0xea60,
    },
  ) {}

  getInfo(): { usbVendorId?: number; usbProductId?: number } {
    return this.info;
  }

  async open(options: { baudRate: number }): Promise<void> {
    const port = new SerialPortStream({
      binding: this.binding,
      path: this.path,
      baudRate: options.baudRate,
      autoOpen: false,
    });
    await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
    this.port = port;
    // The binding raised DTR/RTS on open, like Linux does.
    this.signals = { dtr: true, rts: true };
    let closed = false;
    this.readable = new ReadableStream<Uint8Array>({
      start(controller) {
        port.on('data', (chunk: Buffer) => {
          if (!closed) controller.enqueue(new Uint8Array(chunk));
        });
        port.on('close', () => {
          if (!closed) {
            closed = true;
            controller.close();
          }
        });
      },
      cancel() {
        closed = true;
      },
    });
    this.writable = new WritableStream<Uint8Array>({
      write(chunk) {
        return new Promise<void>((resolve, reject) =>
          port.write(Buffer.from(chunk), (err) => (err ? reject(err) : resolve())),
        );
      },
    });
  }

  async setSignals(s: {
    dataTerminalReady?: boolean;
    requestToSend?: boolean;
    break?: boolean;
  }): Promise<void> {
    if (s.dataTerminalReady !== undefined) this.signals.dtr = s.dataTerminalReady;
    if (s.requestToSend !== undefined) this.signals.rts = s.requestToSend;
    const port = this.port;
    if (!port) throw new Error('port is not open');
    // Always both flags: SerialPortStream.set() fills missing ones with defaults (dtr/rts = true).
    await new Promise<void>((resolve, reject) =>
      port.set({ dtr: this.signals.dtr, rts: this.signals.rts }, (err) => (err ? reject(err) : resolve())),
    );
  }

  /** esptool-js Transport.changeBaudrate uses this when present instead of reopening the port. */
  async setBaudRate(baudRate: number): Promise<void> {
    const port = this.port;
    if (!port) throw new Error('port is not open');
    await new Promise<void>((resolve, reject) =>
      port.update({ baudRate }, (err) => (err ? reject(err) : resolve())),
    );
  }

  async close(): Promise<void> {
    const port = this.port;
    this.port = undefined;
    this.readable = null;
    this.writable = null;
    if (port?.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
  }
}
