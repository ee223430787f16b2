/**
 * A one-board command's `--port` as the slot the station would see for it: a local tty is looked up in sysfs
 * for its USB port path and VID:PID (so a native USB-Serial/JTAG board gets its own reset, exactly as in the
 * station); a socket:// URL is its own place and has no USB identity.
 */
import { realpath } from 'node:fs/promises';
import path from 'node:path';
import { describeTty } from '../station/detect/sysfs-tty.ts';
import type { SlotInfo } from '../station/events.ts';

export async function slotForPort(port: string, sysRoot = '/sys'): Promise<SlotInfo> {
  if (port.startsWith('socket://')) return { portPath: port, name: port, tty: port, vid: '', pid: '' };
  // /dev/serial/by-id/… and other links name the same tty.
  const device = await realpath(port).catch(() => port);
  const usb = device.startsWith('/dev/') ? await describeTty(sysRoot, path.basename(device)) : undefined;
  return {
    portPath: usb?.portPath ?? port,
    name: port,
    tty: port,
    vid: usb?.vid ?? '',
    pid: usb?.pid ?? '',
    ...(usb?.usbSerial !== undefined && { usbSerial: usb.usbSerial }),
  };
}
