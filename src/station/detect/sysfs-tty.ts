/**
 * Finds USB serial ttys through sysfs, without udevadm or native code (node-platform.md §2.6):
 * /sys/class/tty/<name>/device → realpath → walk up to the interface dir (`1-1.4:1.0`) and the USB device dir
 * (`1-1.4`, the one with `busnum`). Works the same on a fake tree, so the sysfs root is a parameter.
 */
import { readdir, readFile, readlink, realpath, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { AtInterfaceRule } from './at-pairing.ts';
import type { BridgeDevice } from './bridge-device.ts';

export interface UsbTty {
  /** tty name, e.g. ttyUSB0 */
  name: string;
  /** /dev/<name> */
  devNode: string;
  portPath: string;
  busnum: number;
  /** Port chain, e.g. [1, 4, 2] for 1-1.4.2 */
  ports: number[];
  interfaceNumber: number;
  vid: string;
  pid: string;
  driver?: string;
  usbSerial?: string;
  manufacturer?: string;
  product?: string;
}

const USB_DEVICE_DIR = /^\d+-\d+(\.\d+)*$/;
const USB_INTERFACE_DIR = /^\d+-\d+(\.\d+)*:\d+\.\d+$/;

/**
 * The UART interface of multi-interface bridges, as data. Dual-channel FTDI (ESP-Prog, WROVER-KIT): interface 0 is
 * JTAG, interface 1 the UART. Everything else: the lowest-numbered tty interface.
 */
const UART_INTERFACE: Readonly<Record<string, number>> = { '0403:6010': 1 };

async function readAttr(dir: string, attr: string): Promise<string | undefined> {
  try {
    return (await readFile(join(dir, attr), 'utf8')).trim();
  } catch {
    return undefined;
  }
}

async function isFile(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isFile();
  } catch {
    return false;
  }
}

/** Resolve one tty to its USB device; undefined when it is not a USB tty (ttyS0, pts, console). */
export async function describeTty(sysRoot: string, name: string): Promise<UsbTty | undefined> {
  let dir: string;
  try {
    dir = await realpath(join(sysRoot, 'class', 'tty', name, 'device'));
  } catch {
    return undefined; // virtual tty: no device link
  }
  let interfaceDir: string | undefined;
  // Walk up at most a dozen levels: usb-serial ttys sit one level below the interface dir, cdc_acm at it.
  for (let i = 0; i < 12 && dir !== dirname(dir); i++, dir = dirname(dir)) {
    const base = basename(dir);
    if (USB_INTERFACE_DIR.test(base)) interfaceDir = dir;
    else if (USB_DEVICE_DIR.test(base) && (await isFile(join(dir, 'busnum')))) {
      const [busnumS, devpath, vid, pid] = await Promise.all(
        ['busnum', 'devpath', 'idVendor', 'idProduct'].map((a) => readAttr(dir, a)),
      );
      if (!busnumS || !vid || !pid) return undefined;
      const busnum = Number.parseInt(busnumS, 10);
      const ports = (devpath ?? base.split('-')[1]).split('.').map((p) => Number.parseInt(p, 10));
      const ifNum = interfaceDir ? await readAttr(interfaceDir, 'bInterfaceNumber') : undefined;
      let driver: string | undefined;
      if (interfaceDir) {
        try {
          driver = basename(await readlink(join(interfaceDir, 'driver')));
        } catch {
          driver = undefined;
        }
      }
      const [usbSerial, manufacturer, product] = await Promise.all(
        ['serial', 'manufacturer', 'product'].map((a) => readAttr(dir, a)),
      );
      return {
        name,
        devNode: `/dev/${name}`,
        portPath: `${busnum}-${ports.join('.')}`,
        busnum,
        ports,
        interfaceNumber: ifNum ? Number.parseInt(ifNum, 16) : 0,
        vid: vid.toLowerCase(),
        pid: pid.toLowerCase(),
        driver,
        usbSerial: usbSerial || undefined,
        manufacturer: manufacturer || undefined,
        product: product || undefined,
      };
    }
  }
  return undefined;
}

/** Every USB tty under sysRoot/class/tty. */
export async function listUsbTtys(sysRoot: string): Promise<UsbTty[]> {
  let names: string[];
  try {
    names = await readdir(join(sysRoot, 'class', 'tty'));
  } catch {
    return [];
  }
  const found = await Promise.all(names.map((n) => describeTty(sysRoot, n)));
  return found.filter((t): t is UsbTty => t !== undefined);
}

/**
 * The tty to flash through for one USB device, given all its ttys (see UART_INTERFACE). `atInterface` is the AT
 * port's interface (at-pairing.ts): never the one to flash through, and where a dual FTDI's UART would
 * usually be, the fixture has put the download channel on another one.
 */
export function pickUartTty(ttys: readonly UsbTty[], atInterface?: number): UsbTty | undefined {
  if (atInterface !== undefined) ttys = ttys.filter((t) => t.interfaceNumber !== atInterface);
  if (ttys.length === 0) return undefined;
  const wanted = UART_INTERFACE[`${ttys[0].vid}:${ttys[0].pid}`];
  if (wanted !== undefined && wanted !== atInterface) {
    // Until the wanted interface's tty exists, report nothing: flashing through JTAG's channel would fail.
    return ttys.find((t) => t.interfaceNumber === wanted);
  }
  return [...ttys].sort((a, b) => a.interfaceNumber - b.interfaceNumber || a.name.localeCompare(b.name))[0];
}

/** Splits one USB device's ttys into the one to flash through and the AT port at interface `atInterface`. */
export function pairTtys(
  ttys: readonly UsbTty[],
  atInterface: number | undefined,
): { download?: UsbTty; at?: UsbTty } {
  if (atInterface === undefined) return { download: pickUartTty(ttys) };
  const at = ttys.find((t) => t.interfaceNumber === atInterface);
  return { download: pickUartTty(ttys, atInterface), ...(at && { at }) };
}

/** Ttys by USB device (port path). */
export function ttysByDevice(ttys: readonly UsbTty[]): Map<string, UsbTty[]> {
  const byPort = new Map<string, UsbTty[]>();
  for (const t of ttys) byPort.set(t.portPath, [...(byPort.get(t.portPath) ?? []), t]);
  return byPort;
}

/**
 * Group ttys by USB device and pick each device's UART: one BridgeDevice per physical port; with `atInterface`,
 * the AT port paired from the same device (at-pairing.ts).
 */
export function bridgesFromTtys(ttys: readonly UsbTty[], atInterface?: AtInterfaceRule): BridgeDevice[] {
  const out: BridgeDevice[] = [];
  for (const [portPath, group] of ttysByDevice(ttys)) {
    const { download, at } = pairTtys(group, atInterface?.(portPath));
    if (download) out.push(toBridgeDevice(download, at));
  }
  return out.sort((a, b) => a.portPath.localeCompare(b.portPath));
}

export function toBridgeDevice(t: UsbTty, at?: UsbTty): BridgeDevice {
  return {
    portPath: t.portPath,
    tty: t.devNode,
    ...(at && { atTty: at.devNode }),
    vid: t.vid,
    pid: t.pid,
    ...(t.usbSerial !== undefined && { usbSerial: t.usbSerial }),
    ...(t.manufacturer !== undefined && { manufacturer: t.manufacturer }),
    ...(t.product !== undefined && { product: t.product }),
  };
}
