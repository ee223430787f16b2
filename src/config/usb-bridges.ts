/**
 * The default port filter: a port whose VID:PID is not a known USB-UART bridge (esp/usb-bridges.ts) is not
 * offered to the station unless config.yaml lists it.
 */
import { USB_BRIDGES } from '../esp/usb-bridges.ts';

export interface PortFilter {
  vid: number;
  pid: number;
  /** What the bridge is, for logs and docs. */
  name?: string;
}

export const DEFAULT_PORT_FILTERS: readonly PortFilter[] = Object.freeze(
  USB_BRIDGES.map(({ vid, pid, name }) => ({ vid, pid, name })),
);

export function matchesPortFilter(filters: readonly PortFilter[], vid: number, pid: number): boolean {
  return filters.some((f) => f.vid === vid && f.pid === pid);
}
