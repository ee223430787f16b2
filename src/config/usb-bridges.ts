/**
 * USB-UART bridges found on ESP32 boards (node-platform.md §7). The default port filter: a port whose
 * VID:PID is not in this list is not offered to the station unless config.yaml lists it.
 */
import { ESPRESSIF_USB_JTAG, ESPRESSIF_USB_VID } from '../esp/usb-ids.ts';

export interface PortFilter {
  vid: number;
  pid: number;
  /** What the bridge is, for logs and docs. */
  name?: string;
}

export const DEFAULT_PORT_FILTERS: readonly PortFilter[] = Object.freeze([
  { vid: 0x10c4, pid: 0xea60, name: 'CP210x (CP2102/CP2104)' },
  { vid: 0x10c4, pid: 0xea70, name: 'CP2105' },
  { vid: 0x10c4, pid: 0xea71, name: 'CP2108' },
  { vid: 0x1a86, pid: 0x7523, name: 'CH340' },
  { vid: 0x1a86, pid: 0x5523, name: 'CH341' },
  { vid: 0x1a86, pid: 0x55d2, name: 'CH342 (dual: download + AT port)' },
  { vid: 0x1a86, pid: 0x7522, name: 'CH340K' },
  { vid: 0x1a86, pid: 0x55d3, name: 'CH343' },
  { vid: 0x1a86, pid: 0x55d4, name: 'CH9102' },
  { vid: 0x0403, pid: 0x6001, name: 'FTDI FT232R' },
  { vid: 0x0403, pid: 0x6010, name: 'FTDI FT2232' },
  { vid: 0x0403, pid: 0x6011, name: 'FTDI FT4232' },
  { vid: 0x0403, pid: 0x6014, name: 'FTDI FT232H' },
  { vid: 0x0403, pid: 0x6015, name: 'FTDI FT231X' },
  { ...ESPRESSIF_USB_JTAG, name: 'Espressif USB-Serial/JTAG' },
  { vid: ESPRESSIF_USB_VID, pid: 0x0002, name: 'Espressif USB-OTG (S2/S3 ROM CDC)' },
  { vid: ESPRESSIF_USB_VID, pid: 0x0009, name: 'Espressif USB-OTG (S3 ROM CDC)' },
]);

export function matchesPortFilter(filters: readonly PortFilter[], vid: number, pid: number): boolean {
  return filters.some((f) => f.vid === vid && f.pid === pid);
}
