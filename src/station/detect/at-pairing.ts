/**
 * Which tty of a USB device is a slot's AT port (ESP-AT's UART1), when config.yaml says "interface N of the same
 * device": the second channel of a dual bridge (CP2105, FT2232H/FT4232H, CH342, CH347 in mode 0) wired to the
 * module's UART1 while the first flashes through UART0. Sysfs names both after the device: `1-1.4:1.0` and
 * `1-1.4:1.1`. The download tty is then picked among the other interfaces (sysfs-tty.ts pairTtys).
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';

/** The AT port's interface number for the USB device at `portPath`, or undefined for none. */
export type AtInterfaceRule = (portPath: string) => number | undefined;

/**
 * True when the device has interface `n` (its interface dir exists), whether or not the driver has made its tty
 * yet: then the AT tty is worth waiting for; on a single-channel bridge it never comes.
 */
export async function hasInterface(sysRoot: string, portPath: string, n: number): Promise<boolean> {
  let names: string[];
  try {
    // The device dir holds its interface dirs (`1-1.4:1.0`, `1-1.4:1.1`) as soon as it is configured.
    names = await readdir(join(sysRoot, 'bus', 'usb', 'devices', portPath));
  } catch {
    return false;
  }
  return names.some(
    (d) => d.startsWith(`${portPath}:`) && Number.parseInt(d.split('.').pop() ?? '', 10) === n,
  );
}

/** A slot's AT port as config.yaml says it (config's station-config-schema AtPortRule). */
export type AtPortRule = { interface: number } | { usbPath: string } | { url: string } | 'none';

/** What the station needs of config.yaml to find each slot's AT port. */
export interface AtPortConfig {
  slots: readonly { usbPath: string; atPort?: AtPortRule }[];
  /** Station-wide: interface N of each board's own USB device. */
  atPort?: { interface: number };
}

/** The rule for the slot at `portPath`: its own, else the station-wide one; undefined when it has none. */
export function atPortRuleFor(
  config: AtPortConfig,
  portPath: string,
): Exclude<AtPortRule, 'none'> | undefined {
  const own = config.slots.find((s) => s.usbPath === portPath)?.atPort;
  const rule = own ?? config.atPort;
  return rule === 'none' ? undefined : rule;
}

/** For detection: the interface to pair as AT port on each USB device. */
export function atInterfaceRule(config: AtPortConfig): AtInterfaceRule {
  return (portPath) => {
    const rule = atPortRuleFor(config, portPath);
    return rule !== undefined && 'interface' in rule ? rule.interface : undefined;
  };
}

/** USB ports whose bridge is some slot's AT port: never a slot of their own. */
export function atBridgePaths(config: AtPortConfig): Map<string, string> {
  const out = new Map<string, string>();
  for (const s of config.slots) {
    if (s.atPort !== undefined && s.atPort !== 'none' && 'usbPath' in s.atPort)
      out.set(s.atPort.usbPath, s.usbPath);
  }
  return out;
}
