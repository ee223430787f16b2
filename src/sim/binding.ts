import type {
  BindingInterface,
  BindingPortInterface,
  OpenOptions,
  PortInfo,
  PortStatus,
  SetOptions,
  UpdateOptions,
} from '@serialport/bindings-interface' with { 'resolution-mode': 'require' };
import { EventEmitter } from 'node:events';
import type { HostLink, SimBoard } from './board.ts';

function canceled(message: string): Error {
  return Object.assign(new Error(message), { canceled: true });
}

/** Which of the board's UARTs a tty reaches: the download port (UART0) or ESP-AT's command port. */
export type SimChannel = 'download' | 'at';

interface Plugged {
  board: SimBoard;
  channel: SimChannel;
  info: PortInfo;
  port: SimPortBinding | undefined;
  onLinkLost: () => void;
  onUsbGone: () => void;
  onUsbBack: () => void;
}

export interface SimBindingEvents {
  /** A native-USB board left the bus while re-enumerating (its tty is gone; the board is still powered). */
  'usb-gone': [path: string];
  /** It is back, at `path` — a new tty number when the old one was still held open. */
  'usb-back': [oldPath: string, path: string];
}

/**
 * A serialport binding whose ports are simulated boards: `new SerialPortStream({ binding, path, baudRate })`
 * talks to the board at `path` exactly as it would to a real /dev/ttyUSBx (node-platform.md §1.2–§1.3).
 */
export class SimBinding
  extends EventEmitter<SimBindingEvents>
  implements BindingInterface<SimPortBinding, OpenOptions, PortInfo>
{
  private readonly ports = new Map<string, Plugged>();
  /** Boards off the bus while they re-enumerate, by the path they had. */
  private readonly away = new Map<string, Plugged>();
  /** Paths whose board is gone but whose port a process still holds open (a stale fd keeps the tty number). */
  private readonly stale = new Set<string>();

  /**
   * Plug a board in at `path` (e.g. /dev/ttyUSB3): its download channel powers it up and it boots. An `at`
   * channel (the second interface of a dual bridge, or a second bridge) reaches its AT port and powers nothing.
   */
  plug(
    path: string,
    board: SimBoard,
    portInfo: Partial<PortInfo> = {},
    channel: SimChannel = 'download',
  ): void {
    if (this.isPathInUse(path)) throw new Error(`${path} is already in use`);
    const entry: Plugged = {
      board,
      channel,
      info: {
        path,
        manufacturer: undefined,
        serialNumber: undefined,
        pnpId: undefined,
        locationId: undefined,
        productId: undefined,
        vendorId: undefined,
        ...portInfo,
      },
      port: undefined,
      // The disconnect fault: the device vanishes exactly like an unplug.
      onLinkLost: () => this.unplug(entry.info.path),
      onUsbGone: () => this.leaveBus(entry),
      onUsbBack: () => this.returnToBus(entry),
    };
    board.on('link-lost', entry.onLinkLost);
    // Only the chip's own USB re-enumerates; a second bridge for the AT port stays on the bus.
    if (channel === 'download') {
      board.on('usb-gone', entry.onUsbGone);
      board.on('usb-back', entry.onUsbBack);
    }
    this.ports.set(path, entry);
    if (channel === 'download') board.powerOn();
  }

  /** The tty goes away as on an unplug, but the board keeps its power. */
  private leaveBus(entry: Plugged): void {
    const path = entry.info.path;
    if (this.ports.get(path) !== entry) return;
    this.ports.delete(path);
    this.away.set(path, entry);
    this.loseOpenPort(path, entry, 'EIO: device disconnected (USB re-enumeration)');
    this.emit('usb-gone', path);
  }

  /** The kernel gives the lowest free number: the old one only if nobody holds it open any more. */
  private returnToBus(entry: Plugged): void {
    const old = entry.info.path;
    if (this.away.get(old) !== entry) return;
    this.away.delete(old);
    const path = this.isPathInUse(old) ? this.lowestFree(old.replace(/\d+$/, '')) : old;
    entry.info = { ...entry.info, path };
    entry.port = undefined;
    this.ports.set(path, entry);
    this.emit('usb-back', old, path);
  }

  /** The lowest `${prefix}N` nobody uses (how ttyUSB/ttyACM numbers are handed out). */
  lowestFree(prefix: string): string {
    for (let n = 0; ; n++) {
      const path = `${prefix}${n}`;
      if (!this.isPathInUse(path)) return path;
    }
  }

  private loseOpenPort(path: string, entry: Plugged, message: string): void {
    if (!entry.port?.isOpen) return;
    this.stale.add(path);
    const port = entry.port;
    port.onClosed = () => this.stale.delete(path);
    port.lose(new Error(message));
  }

  /** Pull the board out: an open port sees a disconnect, the board loses power. */
  unplug(path: string): SimBoard | undefined {
    const entry = this.ports.get(path) ?? this.away.get(path);
    if (!entry) return undefined;
    this.ports.delete(path);
    this.away.delete(path);
    entry.board.off('link-lost', entry.onLinkLost);
    entry.board.off('usb-gone', entry.onUsbGone);
    entry.board.off('usb-back', entry.onUsbBack);
    this.loseOpenPort(path, entry, 'EIO: device disconnected');
    if (entry.channel === 'download') entry.board.powerOff();
    return entry.board;
  }

  /**
   * True while `path` is plugged, re-enumerating, or still held open after it went away (the kernel cannot reuse
   * its number).
   */
  isPathInUse(path: string): boolean {
    return this.ports.has(path) || this.stale.has(path);
  }

  boardAt(path: string): SimBoard | undefined {
    return this.ports.get(path)?.board;
  }

  async list(): Promise<PortInfo[]> {
    return [...this.ports.values()].map((p) => ({ ...p.info }));
  }

  async open(options: OpenOptions): Promise<SimPortBinding> {
    const entry = this.ports.get(options.path);
    if (!entry) throw new Error(`Error: No such file or directory, cannot open ${options.path}`);
    if (entry.port?.isOpen && (options.lock ?? true)) {
      throw new Error('Error Resource temporarily unavailable Cannot lock port');
    }
    const port = new SimPortBinding(entry.board, entry.channel, {
      dataBits: 8,
      lock: true,
      stopBits: 1,
      parity: 'none',
      rtscts: false,
      xon: false,
      xoff: false,
      xany: false,
      hupcl: true,
      ...options,
    } as Required<OpenOptions>);
    port.onClosed = () => {
      if (entry.port === port) entry.port = undefined;
    };
    entry.port = port;
    return port;
  }
}

/** One open simulated port. */
export class SimPortBinding implements BindingPortInterface {
  isOpen = true;
  onClosed: (() => void) | undefined;
  private readonly link: HostLink;
  private rx: Buffer[] = [];
  private reader: { resolve: () => void; reject: (e: Error) => void } | undefined;
  private lost: Error | undefined;
  private lastWrite: Promise<void> = Promise.resolve();
  private baudRate: number;

  constructor(
    board: SimBoard,
    channel: SimChannel,
    readonly openOptions: Required<OpenOptions>,
  ) {
    this.baudRate = openOptions.baudRate;
    const attach = channel === 'at' ? board.attachAtHost.bind(board) : board.attachHost.bind(board);
    this.link = attach(
      {
        onData: (bytes) => {
          this.rx.push(bytes);
          this.wake();
        },
        onLost: (err) => this.lose(err),
      },
      { baud: openOptions.baudRate },
    );
    // Linux raises DTR and RTS on open; on the two-transistor circuit "both asserted" does not reset.
    this.link.setLines({ dtr: true, rts: true });
  }

  /** The device went away: reads and writes fail as a disconnect, `isOpen` stays true until close(). */
  lose(err: Error): void {
    if (this.lost) return;
    this.lost = err;
    const r = this.reader;
    this.reader = undefined;
    r?.reject(err);
  }

  private wake(): void {
    const r = this.reader;
    this.reader = undefined;
    r?.resolve();
  }

  async read(buffer: Buffer, offset: number, length: number): Promise<{ buffer: Buffer; bytesRead: number }> {
    while (this.rx.length === 0) {
      if (!this.isOpen) throw canceled('Read canceled');
      if (this.lost) throw this.lost;
      await new Promise<void>((resolve, reject) => {
        this.reader = { resolve, reject };
      });
    }
    let n = 0;
    while (n < length && this.rx.length > 0) {
      const head = this.rx[0];
      const take = Math.min(head.length, length - n);
      head.copy(buffer, offset + n, 0, take);
      n += take;
      if (take === head.length) this.rx.shift();
      else this.rx[0] = head.subarray(take);
    }
    return { buffer, bytesRead: n };
  }

  async write(buffer: Buffer): Promise<void> {
    if (!this.isOpen) throw canceled('Write canceled');
    if (this.lost) throw this.lost;
    this.lastWrite = this.link.write(Buffer.from(buffer), { transfer: true });
    await this.lastWrite;
  }

  async update(options: UpdateOptions): Promise<void> {
    if (!Number.isInteger(options.baudRate) || options.baudRate <= 0) throw new Error('Invalid baud rate');
    this.baudRate = options.baudRate;
    this.link.setBaud(options.baudRate);
  }

  async set(options: SetOptions): Promise<void> {
    if (this.lost) throw this.lost;
    // SerialPortStream always passes every flag; the real binding applies them in one TIOCMSET.
    this.link.setLines({ dtr: !!options.dtr, rts: !!options.rts });
  }

  async get(): Promise<PortStatus> {
    return { cts: false, dsr: false, dcd: false };
  }

  async getBaudRate(): Promise<{ baudRate: number }> {
    return { baudRate: this.baudRate };
  }

  async flush(): Promise<void> {
    this.rx = [];
  }

  async drain(): Promise<void> {
    await this.lastWrite;
  }

  async close(): Promise<void> {
    if (!this.isOpen) return;
    this.isOpen = false;
    // hupcl: Linux drops DTR and RTS when the last user closes the tty.
    if (this.openOptions.hupcl && !this.lost) this.link.setLines({ dtr: false, rts: false });
    this.link.close();
    const r = this.reader;
    this.reader = undefined;
    r?.reject(canceled('Port closed'));
    this.onClosed?.();
  }
}
