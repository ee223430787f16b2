import { EventEmitter } from 'node:events';
import type { PortInfo } from '@serialport/bindings-interface' with { 'resolution-mode': 'require' };
import { SimBinding } from './binding.ts';
import type { SimBoard } from './board.ts';

/** What a hotplug detector learns about a USB serial device (the shape the station's detection consumes). */
export interface UsbDeviceInfo {
  /** Physical port path as sysfs names it: `<bus>-<port>.<port>…`, e.g. '1-1.4.2'. */
  portPath: string;
  busnum: number;
  ports: number[];
  vid: number;
  pid: number;
  /** USB serial string; CH340 bridges have none. */
  usbSerial?: string;
  /** Device node the kernel gave it, e.g. /dev/ttyUSB3 or /dev/ttyACM0 (a dual bridge: interface 0's). */
  tty: string;
  /**
   * Every tty of the device by USB interface number. A dual bridge (CP2105, FT2232H, FT4232H, CH342) has one per
   * channel: interface 0 wired to the board's UART0 (download), interface 1 to ESP-AT's AT port.
   */
  interfaces: { interfaceNumber: number; tty: string }[];
  manufacturer: string;
  product: string;
}

export interface UsbBusEvents {
  attach: [device: UsbDeviceInfo];
  detach: [device: UsbDeviceInfo];
}

export interface PlugOptions {
  /** 'vvvv:pppp' hex, default 10c4:ea60 (CP2102N). */
  vidPid?: string;
  usbSerial?: string;
  /** Force a tty name; by default the lowest free /dev/ttyUSBn (or ttyACMn for CDC-ACM devices). */
  tty?: string;
  /** A multi-channel bridge's channel 1 reaches the AT port (default); false: it is left unwired. */
  atChannel?: boolean;
  manufacturer?: string;
  product?: string;
}

/** The channel (USB interface) of a simulated multi-channel bridge wired to the board's AT port. */
export const AT_CHANNEL = 1;

/** USB strings of common ESP32 board bridges (node-platform.md §7); CDC-ACM ones become ttyACM. */
const KNOWN: Record<
  string,
  { manufacturer: string; product: string; acm: boolean; serial: boolean; channels?: number }
> = {
  // Multi-channel bridges: one tty per channel, channel 0 to UART0, channel 1 to the AT port.
  '10c4:ea70': {
    manufacturer: 'Silicon Labs',
    product: 'CP2105 Dual USB to UART Bridge Controller',
    acm: false,
    serial: true,
    channels: 2,
  },
  '0403:6010': { manufacturer: 'FTDI', product: 'Dual RS232-HS', acm: false, serial: true, channels: 2 },
  '0403:6011': { manufacturer: 'FTDI', product: 'Quad RS232-HS', acm: false, serial: true, channels: 4 },
  '1a86:55d2': { manufacturer: 'WCH.CN', product: 'USB Dual Serial', acm: true, serial: true, channels: 2 },
  '10c4:ea60': {
    manufacturer: 'Silicon Labs',
    product: 'CP2102N USB to UART Bridge Controller',
    acm: false,
    serial: true,
  },
  '1a86:7523': { manufacturer: 'QinHeng Electronics', product: 'USB Serial', acm: false, serial: false },
  '1a86:55d4': { manufacturer: 'WCH.CN', product: 'USB Single Serial', acm: true, serial: true },
  '0403:6001': { manufacturer: 'FTDI', product: 'FT232R USB UART', acm: false, serial: true },
  '0403:6015': { manufacturer: 'FTDI', product: 'FT231X USB UART', acm: false, serial: true },
  '303a:1001': { manufacturer: 'Espressif', product: 'USB JTAG/serial debug unit', acm: true, serial: true },
};

function parseVidPid(text: string): { vid: number; pid: number } {
  const m = /^([0-9a-f]{4}):([0-9a-f]{4})$/i.exec(text);
  if (!m) throw new Error(`'${text}' is not a VID:PID such as 10c4:ea60`);
  return { vid: parseInt(m[1], 16), pid: parseInt(m[2], 16) };
}

function parsePortPath(path: string): { busnum: number; ports: number[] } {
  const m = /^(\d+)-(\d+(?:\.\d+)*)$/.exec(path);
  if (!m) throw new Error(`'${path}' is not a USB port path such as 1-1.4.2`);
  return { busnum: Number(m[1]), ports: m[2].split('.').map(Number) };
}

/**
 * A virtual USB bus standing in for the real hotplug detector: `plugBoard` registers the board's tty on a
 * SimBinding and emits `attach`; `unplug` (or the board's link dropping) emits `detach`. A re-plug gets the
 * lowest tty number nobody holds, so a tty still open from before makes the board come back renumbered. A
 * native-USB board that re-enumerates (its chip reset) is a `detach` and, moments later, an `attach`.
 */
export class VirtualUsbBus extends EventEmitter<UsbBusEvents> {
  private readonly devices = new Map<
    string,
    { info: UsbDeviceInfo; board: SimBoard; onLost: () => void; away: boolean; atOnly?: boolean }
  >();

  constructor(readonly binding: SimBinding = new SimBinding()) {
    super();
    binding.on('usb-gone', (tty) => {
      const dev = this.deviceOnTty(tty);
      if (!dev || dev.away) return;
      dev.away = true;
      this.emit('detach', { ...dev.info });
    });
    binding.on('usb-back', (oldTty, tty) => {
      const dev = this.deviceOnTty(oldTty);
      if (!dev?.away) return;
      dev.away = false;
      dev.info = {
        ...dev.info,
        tty,
        interfaces: dev.info.interfaces.map((i) => (i.tty === oldTty ? { ...i, tty } : i)),
      };
      this.emit('attach', { ...dev.info });
    });
  }

  private deviceOnTty(tty: string) {
    return [...this.devices.values()].find((d) => d.info.tty === tty);
  }

  plugBoard(portPath: string, board: SimBoard, opts: PlugOptions = {}): UsbDeviceInfo {
    if (this.devices.has(portPath)) throw new Error(`USB port ${portPath} already has a device`);
    const vidPid = (opts.vidPid ?? '10c4:ea60').toLowerCase();
    const { vid, pid } = parseVidPid(vidPid);
    const { busnum, ports } = parsePortPath(portPath);
    const known = KNOWN[vidPid];
    const acm = known?.acm ?? false;
    const prefix = acm ? '/dev/ttyACM' : '/dev/ttyUSB';
    const tty = opts.tty ?? this.freeTty(prefix);
    const usbSerial =
      opts.usbSerial ?? (known && !known.serial ? undefined : board.mac.replace(/:/g, '').toUpperCase());
    const channels = known?.channels ?? 1;
    const ttys = [tty];
    for (let i = 1; i < channels; i++) ttys.push(this.freeTty(prefix, ttys));
    const info: UsbDeviceInfo = {
      portPath,
      busnum,
      ports,
      vid,
      pid,
      ...(usbSerial !== undefined ? { usbSerial } : {}),
      tty,
      interfaces: ttys.map((t, i) => ({ interfaceNumber: i, tty: t })),
      manufacturer: opts.manufacturer ?? known?.manufacturer ?? 'Unknown',
      product: opts.product ?? known?.product ?? 'USB Serial',
    };
    this.plugTtys(info, board, vidPid, opts.atChannel ?? channels > 1);
    const onLost = () => this.unplug(portPath);
    board.on('link-lost', onLost);
    this.devices.set(portPath, { info, board, onLost, away: false });
    this.emit('attach', { ...info });
    return { ...info };
  }

  /**
   * A second, single-channel bridge at `portPath` wired to the board's AT port only (a fixture with one bridge
   * per UART). The board stays powered by its download bridge.
   */
  plugAtBridge(portPath: string, board: SimBoard, opts: PlugOptions = {}): UsbDeviceInfo {
    if (this.devices.has(portPath)) throw new Error(`USB port ${portPath} already has a device`);
    const vidPid = (opts.vidPid ?? '10c4:ea60').toLowerCase();
    const { vid, pid } = parseVidPid(vidPid);
    const { busnum, ports } = parsePortPath(portPath);
    const known = KNOWN[vidPid];
    const tty = opts.tty ?? this.freeTty(known?.acm ? '/dev/ttyACM' : '/dev/ttyUSB');
    const info: UsbDeviceInfo = {
      portPath,
      busnum,
      ports,
      vid,
      pid,
      ...(opts.usbSerial !== undefined ? { usbSerial: opts.usbSerial } : {}),
      tty,
      interfaces: [{ interfaceNumber: 0, tty }],
      manufacturer: opts.manufacturer ?? known?.manufacturer ?? 'Unknown',
      product: opts.product ?? known?.product ?? 'USB Serial',
    };
    this.binding.plug(tty, board, this.portInfo(info, vidPid, 0), 'at');
    this.devices.set(portPath, { info, board, onLost: () => undefined, away: false, atOnly: true });
    this.emit('attach', { ...info });
    return { ...info };
  }

  private portInfo(info: UsbDeviceInfo, vidPid: string, itf: number): Partial<PortInfo> {
    const serial = info.usbSerial;
    return {
      manufacturer: info.manufacturer,
      serialNumber: serial,
      vendorId: vidPid.slice(0, 4),
      productId: vidPid.slice(5),
      pnpId: `usb-${info.manufacturer.replace(/\s+/g, '_')}_${info.product.replace(/\s+/g, '_')}${serial ? `_${serial}` : ''}-if${String(itf).padStart(2, '0')}-port0`,
    };
  }

  /** Channel 0 reaches UART0 (it powers the board); channel AT_CHANNEL the AT port; further channels nothing. */
  private plugTtys(info: UsbDeviceInfo, board: SimBoard, vidPid: string, atChannel: boolean): void {
    for (const { interfaceNumber, tty } of info.interfaces) {
      const channel = interfaceNumber === 0 ? 'download' : 'at';
      if ((channel === 'at' && interfaceNumber !== AT_CHANNEL) || (channel === 'at' && !atChannel)) continue;
      this.binding.plug(tty, board, this.portInfo(info, vidPid, interfaceNumber), channel);
    }
  }

  /** Pull the device at `portPath`; returns its board (flash intact) so a test can plug it in again. */
  unplug(portPath: string): SimBoard | undefined {
    const dev = this.devices.get(portPath);
    if (!dev) return undefined;
    this.devices.delete(portPath);
    dev.board.off('link-lost', dev.onLost);
    // Channel 0 last: it powers the board.
    for (const { tty } of [...dev.info.interfaces].reverse()) this.binding.unplug(tty);
    if (!dev.away) this.emit('detach', { ...dev.info });
    return dev.board;
  }

  list(): UsbDeviceInfo[] {
    return [...this.devices.values()].filter((d) => !d.away).map((d) => ({ ...d.info }));
  }

  boardAt(portPath: string): SimBoard | undefined {
    return this.devices.get(portPath)?.board;
  }

  private freeTty(prefix: string, taken: readonly string[] = []): string {
    for (let n = 0; ; n++) {
      const path = `${prefix}${n}`;
      const listed = [...this.devices.values()].some((d) => d.info.interfaces.some((i) => i.tty === path));
      if (!this.binding.isPathInUse(path) && !taken.includes(path) && !listed) return path;
    }
  }
}
