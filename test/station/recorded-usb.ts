/** Test doubles for the `usb` package: device shapes as v3 reports them on Linux, and connect/disconnect events. */
import type {
  HotplugUsbApi,
  HotplugUsbDevice,
  HotplugUsbEvent,
} from '../../src/station/detect/hotplug-source.ts';

/** A stand-in for `usb`'s WebUSB object that replays device shapes as v3 reports them on Linux. */
export class RecordedUsb implements HotplugUsbApi {
  private readonly listeners = new Map<string, Set<(ev: HotplugUsbEvent) => void>>();
  devices: HotplugUsbDevice[] = [];
  addEventListener(type: string, l: (ev: HotplugUsbEvent) => void): void {
    if (!this.listeners.has(type)) this.listeners.set(type, new Set());
    this.listeners.get(type)!.add(l);
  }
  removeEventListener(type: string, l: (ev: HotplugUsbEvent) => void): void {
    this.listeners.get(type)?.delete(l);
  }
  async getDevices(): Promise<HotplugUsbDevice[]> {
    return this.devices;
  }
  emit(type: 'connect' | 'disconnect', device: HotplugUsbDevice): void {
    for (const l of this.listeners.get(type) ?? []) l({ device });
  }
  listenerCount(): number {
    return [...this.listeners.values()].reduce((n, s) => n + s.size, 0);
  }
}

/** Shape of `usb` v3's UsbDevice: bus "001", ports from devpath, a handle string, getters that may throw. */
export function usbDevice(
  vid: number,
  pid: number,
  ports: number[],
  addr: number,
  serial?: string,
): HotplugUsbDevice {
  return {
    vendorId: vid,
    productId: pid,
    bus: '001',
    ports,
    get handle() {
      return `DeviceId(DeviceId { bus: 1, addr: ${addr} })`;
    },
    get serialNumber(): string | null {
      if (serial === undefined) throw new Error('open error: device not found (errno 2)');
      return serial;
    },
    get manufacturerName(): string | null {
      throw new Error('open error: device not found (errno 2)');
    },
    get productName(): string | null {
      return null;
    },
  };
}
