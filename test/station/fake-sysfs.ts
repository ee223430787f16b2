/**
 * A fake sysfs tree laid out like the kernel's (node-platform.md §2.6): USB device dirs under a PCI controller,
 * interface dirs with their driver link, usb-serial ttys one level below the interface (ttyUSBn) and cdc_acm
 * ttys at it (ttyACMn), /sys/class/tty and /sys/bus/usb/devices symlinks. Attribute values are those real
 * bridges report (see RECORDED_BRIDGES). Good enough for our walker and for nusb (the `usb` package) alike.
 */
import { mkdirSync, rmSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { join, relative, dirname } from 'node:path';

export interface FakeInterface {
  number: number;
  /** tty name, e.g. ttyUSB0 / ttyACM0; omit for an interface without a tty (JTAG, vendor). */
  tty?: string;
  class?: number;
}

export interface FakeUsbDevice {
  /** e.g. 1-1.4.2 */
  portPath: string;
  devnum: number;
  vid: string;
  pid: string;
  driver: string;
  manufacturer?: string;
  product?: string;
  serial?: string;
  interfaces: FakeInterface[];
  deviceClass?: number;
}

/** Attribute values as real bridges report them in sysfs (and udev copies into ID_* properties). */
export const RECORDED_BRIDGES = {
  cp2102: {
    vid: '10c4',
    pid: 'ea60',
    driver: 'cp210x',
    manufacturer: 'Silicon Labs',
    product: 'CP2102 USB to UART Bridge Controller',
    serial: '0001',
  },
  ch340: { vid: '1a86', pid: '7523', driver: 'ch341', product: 'USB Serial' }, // no serial, often no manufacturer
  ft2232h: { vid: '0403', pid: '6010', driver: 'ftdi_sio', manufacturer: 'FTDI', product: 'Dual RS232-HS' },
  esp32s3UsbJtag: {
    vid: '303a',
    pid: '1001',
    driver: 'cdc_acm',
    manufacturer: 'Espressif',
    product: 'USB JTAG/serial debug unit',
    serial: 'F4:12:FA:5B:3C:10',
  },
  usbKeyboard: {
    vid: '046d',
    pid: 'c31c',
    driver: 'usbhid',
    manufacturer: 'Logitech',
    product: 'USB Keyboard',
  },
} as const;

const PCI = 'devices/pci0000:00/0000:00:14.0';

export class FakeSysfs {
  constructor(readonly root: string) {
    mkdirSync(join(root, 'class', 'tty'), { recursive: true });
    mkdirSync(join(root, 'bus', 'usb', 'devices'), { recursive: true });
    for (const d of ['cp210x', 'ch341', 'ftdi_sio'])
      mkdirSync(join(root, 'bus/usb-serial/drivers', d), { recursive: true });
    for (const d of ['cdc_acm', 'usbhid', 'hub'])
      mkdirSync(join(root, 'bus/usb/drivers', d), { recursive: true });
    // A root hub and a 4-port hub at 1-1, as on a station with a hub per tray.
    this.writeDeviceDir(`${PCI}/usb1`, {
      busnum: 1,
      devnum: 1,
      devpath: '0',
      vid: '1d6b',
      pid: '0002',
      cls: 9,
    });
    this.linkBusDevice('usb1', `${PCI}/usb1`);
    this.writeDeviceDir(`${PCI}/usb1/1-1`, {
      busnum: 1,
      devnum: 2,
      devpath: '1',
      vid: '05e3',
      pid: '0610',
      cls: 9,
    });
    this.linkBusDevice('1-1', `${PCI}/usb1/1-1`);
    // A built-in UART: a tty with a device link that leads to no USB device.
    mkdirSync(join(root, 'devices/platform/serial8250/tty/ttyS0'), { recursive: true });
    symlinkSync('../../', join(root, 'devices/platform/serial8250/tty/ttyS0/device'));
    symlinkSync('../../devices/platform/serial8250/tty/ttyS0', join(root, 'class/tty/ttyS0'));
    // A pseudo-terminal-like entry without a device link.
    mkdirSync(join(root, 'devices/virtual/tty/ptmx'), { recursive: true });
    symlinkSync('../../devices/virtual/tty/ptmx', join(root, 'class/tty/ptmx'));
  }

  /** Path of a USB device dir relative to the root, e.g. devices/pci.../usb1/1-1/1-1.4/1-1.4.2 */
  devicePath(portPath: string): string {
    const [bus, chain] = portPath.split('-');
    const ports = chain.split('.');
    let p = `${PCI}/usb${bus}`;
    for (let i = 1; i <= ports.length; i++) p += `/${bus}-${ports.slice(0, i).join('.')}`;
    return p;
  }

  private writeDeviceDir(
    rel: string,
    a: {
      busnum: number;
      devnum: number;
      devpath: string;
      vid: string;
      pid: string;
      cls?: number;
      strings?: Record<string, string>;
    },
  ): void {
    const dir = join(this.root, rel);
    mkdirSync(dir, { recursive: true });
    const attrs: Record<string, string> = {
      busnum: String(a.busnum),
      devnum: String(a.devnum),
      devpath: a.devpath,
      idVendor: a.vid,
      idProduct: a.pid,
      bcdDevice: '0100',
      version: ' 2.00',
      bDeviceClass: (a.cls ?? 0).toString(16).padStart(2, '0'),
      bDeviceSubClass: '00',
      bDeviceProtocol: '00',
      bMaxPacketSize0: '64',
      bNumConfigurations: '1',
      bConfigurationValue: '1',
      speed: '12',
      ...a.strings,
    };
    for (const [k, v] of Object.entries(attrs)) writeFileSync(join(dir, k), `${v}\n`);
  }

  private linkBusDevice(name: string, rel: string): void {
    const link = join(this.root, 'bus/usb/devices', name);
    symlinkSync(relative(dirname(link), join(this.root, rel)), link);
  }

  /** Create the USB device (and hub dirs above it); ttys are separate so tests can add them later. */
  addUsbDevice(d: FakeUsbDevice): string {
    const rel = this.devicePath(d.portPath);
    const [bus, chain] = d.portPath.split('-');
    const strings: Record<string, string> = {};
    if (d.manufacturer) strings.manufacturer = d.manufacturer;
    if (d.product) strings.product = d.product;
    if (d.serial) strings.serial = d.serial;
    this.writeDeviceDir(rel, {
      busnum: Number(bus),
      devnum: d.devnum,
      devpath: chain,
      vid: d.vid,
      pid: d.pid,
      cls: d.deviceClass,
      strings,
    });
    for (const itf of d.interfaces) {
      const idir = join(this.root, rel, `${d.portPath}:1.${itf.number}`);
      mkdirSync(idir, { recursive: true });
      writeFileSync(join(idir, 'bInterfaceNumber'), `${itf.number.toString(16).padStart(2, '0')}\n`);
      writeFileSync(join(idir, 'bInterfaceClass'), `${(itf.class ?? 0xff).toString(16).padStart(2, '0')}\n`);
      writeFileSync(join(idir, 'bInterfaceSubClass'), '00\n');
      writeFileSync(join(idir, 'bInterfaceProtocol'), '00\n');
      const drvDir =
        d.driver === 'cdc_acm' || d.driver === 'usbhid' ? 'bus/usb/drivers' : 'bus/usb-serial/drivers';
      symlinkSync(relative(idir, join(this.root, drvDir, d.driver)), join(idir, 'driver'));
    }
    this.linkBusDevice(d.portPath, rel);
    return `/${rel}`;
  }

  /** The driver binds and the tty appears (usb-serial: below the interface; cdc_acm: at it). */
  addTty(d: FakeUsbDevice, itf: FakeInterface): void {
    if (!itf.tty) return;
    const idir = join(this.root, this.devicePath(d.portPath), `${d.portPath}:1.${itf.number}`);
    let ttyClassDir: string;
    if (itf.tty.startsWith('ttyACM')) {
      ttyClassDir = join(idir, 'tty', itf.tty);
      mkdirSync(ttyClassDir, { recursive: true });
      symlinkSync('../../', join(ttyClassDir, 'device')); // → the interface dir
    } else {
      const portDir = join(idir, itf.tty);
      ttyClassDir = join(portDir, 'tty', itf.tty);
      mkdirSync(ttyClassDir, { recursive: true });
      symlinkSync('../../', join(ttyClassDir, 'device')); // → the usb-serial port dir
      // ftdi_sio's per-port attribute, at the driver's default.
      if (d.driver === 'ftdi_sio') writeFileSync(join(portDir, 'latency_timer'), '16\n');
    }
    writeFileSync(join(ttyClassDir, 'dev'), '188:0\n');
    symlinkSync(relative(join(this.root, 'class/tty'), ttyClassDir), join(this.root, 'class/tty', itf.tty));
  }

  plug(d: FakeUsbDevice): string {
    const devpath = this.addUsbDevice(d);
    for (const itf of d.interfaces) this.addTty(d, itf);
    return devpath;
  }

  unplug(d: FakeUsbDevice): void {
    for (const itf of d.interfaces)
      if (itf.tty) rmSync(join(this.root, 'class/tty', itf.tty), { force: true });
    rmSync(join(this.root, 'bus/usb/devices', d.portPath), { force: true });
    rmSync(join(this.root, this.devicePath(d.portPath)), { recursive: true, force: true });
  }

  has(portPath: string): boolean {
    return existsSync(join(this.root, 'bus/usb/devices', portPath));
  }
}

/** A station tray: a CP2102 board, a CH340 board, an ESP-Prog style FT2232H and an ESP32-S3 on native USB. */
export function trayDevices(): FakeUsbDevice[] {
  return [
    { portPath: '1-1.1', devnum: 5, ...RECORDED_BRIDGES.cp2102, interfaces: [{ number: 0, tty: 'ttyUSB0' }] },
    { portPath: '1-1.2', devnum: 6, ...RECORDED_BRIDGES.ch340, interfaces: [{ number: 0, tty: 'ttyUSB1' }] },
    {
      portPath: '1-1.3',
      devnum: 7,
      ...RECORDED_BRIDGES.ft2232h,
      interfaces: [
        { number: 0, tty: 'ttyUSB2' },
        { number: 1, tty: 'ttyUSB3' },
      ],
    },
    {
      portPath: '1-1.4',
      devnum: 8,
      ...RECORDED_BRIDGES.esp32s3UsbJtag,
      deviceClass: 0xef,
      interfaces: [{ number: 0, tty: 'ttyACM0', class: 2 }, { number: 1, class: 0x0a }, { number: 2 }],
    },
  ];
}
