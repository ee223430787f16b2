/**
 * Detection through the `usb` package (v3, WebUSB-style, node-platform.md §2): `connect`/`disconnect` events
 * from udev's netlink broadcast, each USB device matched to its tty through sysfs.
 *
 * Gotchas handled here: without /sys/bus/usb the package rejects a promise nobody catches (that would crash
 * Node), and its string getters (serialNumber, ...) throw when sysfs lacks the attribute and usbfs is closed.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type {
  BridgeDevice,
  DeviceListener,
  DeviceSource,
  DeviceSourceStartOptions,
} from './bridge-device.ts';
import { hex4 } from './bridge-device.ts';
import { hasInterface, type AtInterfaceRule } from './at-pairing.ts';
import { withFtdiLatency } from './ftdi-latency.ts';
import { listUsbTtys, pairTtys, toBridgeDevice } from './sysfs-tty.ts';
import type { VidPidFilter } from './vid-pid-filter.ts';

/** The part of a `usb` v3 UsbDevice this source reads. */
export interface HotplugUsbDevice {
  vendorId: number;
  productId: number;
  /** Zero-padded bus number on Linux, e.g. "001". */
  bus: string;
  ports: number[];
  readonly handle: string;
  readonly serialNumber: string | null;
  readonly manufacturerName: string | null;
  readonly productName: string | null;
}

export interface HotplugUsbEvent {
  device: HotplugUsbDevice;
}

/** The part of `usb`'s WebUSB object this source uses (the real one, or a recorded-data fake in tests). */
export interface HotplugUsbApi {
  addEventListener(type: 'connect' | 'disconnect', listener: (ev: HotplugUsbEvent) => void): void;
  removeEventListener(type: 'connect' | 'disconnect', listener: (ev: HotplugUsbEvent) => void): void;
  getDevices(): Promise<HotplugUsbDevice[]>;
}

export interface HotplugSourceOptions {
  filter: VidPidFilter;
  sysRoot?: string;
  /** How long to wait for the driver to create the tty after the USB device appears. */
  ttyWaitMs?: number;
  ttyPollMs?: number;
  /** Injected for tests; default: the `usb` package's `usb` object, loaded lazily. */
  api?: HotplugUsbApi;
  /** The AT port's interface per USB device (config.yaml `atPort: { interface: N }`). */
  atInterface?: AtInterfaceRule;
}

/** `${busnum}-${ports}` as the kernel names the device dir; bus is "001" on Linux. */
export function portPathOf(device: Pick<HotplugUsbDevice, 'bus' | 'ports'>): string {
  return `${Number.parseInt(device.bus, 10)}-${device.ports.join('.')}`;
}

/** Read a string getter that may throw (sysfs attribute missing and usbfs not readable). */
export function safeString(read: () => string | null | undefined): string | undefined {
  try {
    const v = read();
    return v ? v : undefined;
  } catch {
    return undefined;
  }
}

/** True when this machine (or the given sysfs root) has what hotplug needs. */
export function hotplugAvailable(sysRoot = '/sys'): boolean {
  return existsSync(join(sysRoot, 'bus', 'usb', 'devices'));
}

let rejectionGuardInstalled = false;
/**
 * `usb` v3 starts `nativeGetDevices()` without a catch when the first listener is added; if sysfs vanishes that
 * rejection is unhandled and Node 20 exits. Swallow exactly that one and rethrow everything else.
 */
function installRejectionGuard(): void {
  if (rejectionGuardInstalled) return;
  rejectionGuardInstalled = true;
  process.on('unhandledRejection', (reason) => {
    const msg = reason instanceof Error ? reason.message : String(reason);
    if (/getDevices error|\/sys\/bus\/usb/.test(msg)) {
      process.emitWarning(`usb hotplug: ${msg}`);
      return;
    }
    throw reason;
  });
}

export async function loadUsbApi(): Promise<HotplugUsbApi> {
  const mod = (await import('usb')) as unknown as { usb: HotplugUsbApi };
  return mod.usb;
}

export class HotplugDeviceSource implements DeviceSource {
  readonly mode = 'hotplug' as const;
  private readonly sysRoot: string;
  private api: HotplugUsbApi | undefined;
  /** portPath → device, and which portPaths are still waiting for their tty. */
  private readonly present = new Map<string, BridgeDevice>();
  private readonly pending = new Map<string, AbortController>();
  private listener: DeviceListener | undefined;
  private readonly onConnect = (ev: HotplugUsbEvent): void => {
    void this.connected(ev.device);
  };
  private readonly onDisconnect = (ev: HotplugUsbEvent): void => this.disconnected(ev.device);

  constructor(private readonly opts: HotplugSourceOptions) {
    this.sysRoot = opts.sysRoot ?? '/sys';
  }

  async start(listener: DeviceListener, opts: DeviceSourceStartOptions): Promise<void> {
    if (!this.opts.api && !hotplugAvailable(this.sysRoot)) {
      throw new Error(`USB hotplug unavailable: ${join(this.sysRoot, 'bus/usb/devices')} does not exist`);
    }
    installRejectionGuard();
    this.listener = withFtdiLatency(listener, this.sysRoot);
    this.api = this.opts.api ?? (await loadUsbApi());
    this.api.addEventListener('connect', this.onConnect);
    this.api.addEventListener('disconnect', this.onDisconnect);
    if (opts.offerPresent) {
      let devices: HotplugUsbDevice[] = [];
      try {
        devices = await this.api.getDevices();
      } catch (err) {
        listener.warn?.(`listing USB devices failed: ${(err as Error).message}`);
      }
      await Promise.all(devices.map((d) => this.connected(d)));
    }
  }

  private connected(device: HotplugUsbDevice): Promise<void> {
    const vid = hex4(device.vendorId);
    const pid = hex4(device.productId);
    if (!this.opts.filter.matches(vid, pid) || device.ports.length === 0) return Promise.resolve();
    const portPath = portPathOf(device);
    if (this.present.has(portPath) || this.pending.has(portPath)) return Promise.resolve();
    const ac = new AbortController();
    this.pending.set(portPath, ac);
    return this.waitForTty(portPath, device, ac.signal).finally(() => {
      if (this.pending.get(portPath) === ac) this.pending.delete(portPath);
    });
  }

  /** The tty shows up a little after the USB device (driver bind); poll sysfs until it does. */
  private async waitForTty(portPath: string, device: HotplugUsbDevice, signal: AbortSignal): Promise<void> {
    const waitMs = this.opts.ttyWaitMs ?? 5000;
    const pollMs = this.opts.ttyPollMs ?? 100;
    const deadline = Date.now() + waitMs;
    while (!signal.aborted) {
      const ttys = (await listUsbTtys(this.sysRoot)).filter((t) => t.portPath === portPath);
      const atIf = this.opts.atInterface?.(portPath);
      const { download: uart, at } = pairTtys(ttys, atIf);
      // A dual bridge's second tty may come a moment after the first: report the pair, not half of it.
      const atComing =
        atIf !== undefined &&
        !at &&
        Date.now() < deadline &&
        (await hasInterface(this.sysRoot, portPath, atIf));
      if (uart && !atComing) {
        if (signal.aborted) return;
        const d: BridgeDevice = {
          ...toBridgeDevice(uart, at),
          // Strings from the usb package when sysfs walk lacked them (e.g. fake trees); getters may throw.
          usbSerial: uart.usbSerial ?? safeString(() => device.serialNumber),
          manufacturer: uart.manufacturer ?? safeString(() => device.manufacturerName),
          product: uart.product ?? safeString(() => device.productName),
        };
        for (const k of ['usbSerial', 'manufacturer', 'product'] as const)
          if (d[k] === undefined) delete d[k];
        this.present.set(portPath, d);
        this.listener?.attach(d);
        return;
      }
      if (Date.now() >= deadline) {
        this.listener?.warn?.(
          `USB device ${hex4(device.vendorId)}:${hex4(device.productId)} at ${portPath} has no tty after ${waitMs} ms; is its driver loaded?`,
        );
        return;
      }
      await sleep(pollMs, undefined, { signal }).catch(() => undefined);
    }
  }

  private disconnected(device: HotplugUsbDevice): void {
    if (device.ports.length === 0) return;
    const portPath = portPathOf(device);
    this.pending.get(portPath)?.abort();
    this.pending.delete(portPath);
    if (this.present.delete(portPath)) this.listener?.detach(portPath);
  }

  async stop(): Promise<void> {
    for (const ac of this.pending.values()) ac.abort();
    this.pending.clear();
    if (this.api) {
      this.api.removeEventListener('connect', this.onConnect);
      this.api.removeEventListener('disconnect', this.onDisconnect);
    }
    this.listener = undefined;
  }
}
