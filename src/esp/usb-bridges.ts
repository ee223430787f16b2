/**
 * USB-UART bridges found on ESP32 boards (node-platform.md §7), with the highest baud each family holds by its
 * datasheet. One PID can cover several parts (10c4:ea60 is CP2102, CP2102N and CP2104): the table names the
 * family's best part, and an older part that cannot hold it fails at the switch and steps down the ladder.
 * The chip's own USB (Serial/JTAG, OTG CDC) has no UART in between: its baud is nominal, so no top.
 */
import { ESPRESSIF_USB_JTAG, ESPRESSIF_USB_VID } from './usb-ids.ts';

export interface UsbBridge {
  vid: number;
  pid: number;
  /** What the bridge is, for logs and docs. */
  name: string;
  /** The highest UART baud the family holds; undefined: no UART (the chip's own USB). */
  topBaud?: number;
}

export const USB_BRIDGES: readonly UsbBridge[] = Object.freeze([
  { vid: 0x10c4, pid: 0xea60, name: 'CP210x (CP2102/CP2102N/CP2104)', topBaud: 3_000_000 },
  { vid: 0x10c4, pid: 0xea70, name: 'CP2105', topBaud: 2_000_000 },
  { vid: 0x10c4, pid: 0xea71, name: 'CP2108', topBaud: 2_000_000 },
  { vid: 0x1a86, pid: 0x7523, name: 'CH340', topBaud: 2_000_000 },
  { vid: 0x1a86, pid: 0x5523, name: 'CH341', topBaud: 2_000_000 },
  { vid: 0x1a86, pid: 0x55d2, name: 'CH342 (dual: download + AT port)', topBaud: 6_000_000 },
  { vid: 0x1a86, pid: 0x7522, name: 'CH340K', topBaud: 2_000_000 },
  { vid: 0x1a86, pid: 0x55d3, name: 'CH343', topBaud: 6_000_000 },
  { vid: 0x1a86, pid: 0x55d4, name: 'CH9102', topBaud: 4_000_000 },
  { vid: 0x0403, pid: 0x6001, name: 'FTDI FT232R', topBaud: 3_000_000 },
  { vid: 0x0403, pid: 0x6010, name: 'FTDI FT2232', topBaud: 12_000_000 },
  { vid: 0x0403, pid: 0x6011, name: 'FTDI FT4232', topBaud: 12_000_000 },
  { vid: 0x0403, pid: 0x6014, name: 'FTDI FT232H', topBaud: 12_000_000 },
  { vid: 0x0403, pid: 0x6015, name: 'FTDI FT231X', topBaud: 3_000_000 },
  { ...ESPRESSIF_USB_JTAG, name: 'Espressif USB-Serial/JTAG' },
  { vid: ESPRESSIF_USB_VID, pid: 0x0002, name: 'Espressif USB-OTG (S2/S3 ROM CDC)' },
  { vid: ESPRESSIF_USB_VID, pid: 0x0009, name: 'Espressif USB-OTG (S3 ROM CDC)' },
]);

export function usbBridge(vid: number, pid: number): UsbBridge | undefined {
  return USB_BRIDGES.find((b) => b.vid === vid && b.pid === pid);
}

/**
 * The ladder a board behind this bridge gets: configured rates above the bridge's top give way to the top itself
 * (once), the rates it holds stay, fastest first. Unknown bridges and the chip's own USB keep the ladder as
 * configured.
 */
export function ladderForBridge(ladder: readonly number[], vid: number, pid: number): readonly number[] {
  const top = usbBridge(vid, pid)?.topBaud;
  if (top === undefined || ladder.every((b) => b <= top)) return ladder;
  const held = ladder.filter((b) => b <= top);
  return held.includes(top) ? held : [top, ...held];
}
