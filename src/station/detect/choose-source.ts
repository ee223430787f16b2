/**
 * Picks the detection mode: hotplug when the machine can deliver it (sysfs USB tree and a running udevd,
 * whose netlink broadcast the `usb` package listens to), otherwise polling the tty list.
 */
import { existsSync } from 'node:fs';
import type { AtInterfaceRule } from './at-pairing.ts';
import type { DeviceSource } from './bridge-device.ts';
import { FallbackDeviceSource } from './fallback-source.ts';
import { HotplugDeviceSource, hotplugAvailable } from './hotplug-source.ts';
import { PollingDeviceSource } from './polling-source.ts';
import type { VidPidFilter } from './vid-pid-filter.ts';

export interface ChooseSourceOptions {
  mode: 'auto' | 'hotplug' | 'polling';
  filter: VidPidFilter;
  sysRoot?: string;
  /** Where udevd keeps its control socket; its presence means udev events will be broadcast. */
  udevRunDir?: string;
  /** The AT port's interface per USB device, paired by either source. */
  atInterface?: AtInterfaceRule;
}

export interface ChosenSource {
  source: DeviceSource;
  /** Why this mode, for the 'station' event and the log. */
  reason: string;
}

export function chooseDeviceSource(opts: ChooseSourceOptions): ChosenSource {
  const sysRoot = opts.sysRoot ?? '/sys';
  const pairing = opts.atInterface && { atInterface: opts.atInterface };
  const hotplug = (): DeviceSource => new HotplugDeviceSource({ filter: opts.filter, sysRoot, ...pairing });
  const polling = (): DeviceSource => new PollingDeviceSource({ filter: opts.filter, sysRoot, ...pairing });
  if (opts.mode === 'hotplug') return { source: hotplug(), reason: 'hotplug (configured)' };
  if (opts.mode === 'polling')
    return { source: polling(), reason: 'polling /sys/class/tty every 500 ms (configured)' };
  if (!hotplugAvailable(sysRoot)) {
    return {
      source: polling(),
      reason: `polling /sys/class/tty every 500 ms: ${sysRoot}/bus/usb/devices is missing`,
    };
  }
  if (!existsSync(opts.udevRunDir ?? '/run/udev')) {
    return {
      source: polling(),
      reason: 'polling /sys/class/tty every 500 ms: udevd is not running (no /run/udev)',
    };
  }
  const reason = 'hotplug via udev (usb package)';
  const source = new FallbackDeviceSource(
    hotplug(),
    polling(),
    reason,
    (err) => `polling /sys/class/tty every 500 ms: hotplug did not start (${err.message})`,
  );
  return { source, reason };
}
