/**
 * Detection without hotplug: scan /sys/class/tty every 500 ms and diff by physical port path.
 * Needs neither udevd nor native code, so it works in containers and on minimal images.
 */
import { withFtdiLatency } from './ftdi-latency.ts';
import type {
  BridgeDevice,
  DeviceListener,
  DeviceSource,
  DeviceSourceStartOptions,
} from './bridge-device.ts';
import { hasInterface, type AtInterfaceRule } from './at-pairing.ts';
import { listUsbTtys, pairTtys, toBridgeDevice, ttysByDevice } from './sysfs-tty.ts';
import type { VidPidFilter } from './vid-pid-filter.ts';

export interface PollingSourceOptions {
  sysRoot?: string;
  filter: VidPidFilter;
  intervalMs?: number;
  /** The AT port's interface per USB device (config.yaml `atPort: { interface: N }`). */
  atInterface?: AtInterfaceRule;
  /** How long a device is held back while its AT port's tty is still being made (default 5 s). */
  atTtyWaitMs?: number;
}

export class PollingDeviceSource implements DeviceSource {
  readonly mode = 'polling' as const;
  private readonly sysRoot: string;
  private readonly intervalMs: number;
  private present = new Map<string, BridgeDevice>();
  /** Devices whose AT interface exists but has no tty yet, since when. */
  private readonly holding = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private scanning: Promise<void> | undefined;
  private stopped = false;

  constructor(private readonly opts: PollingSourceOptions) {
    this.sysRoot = opts.sysRoot ?? '/sys';
    this.intervalMs = opts.intervalMs ?? 500;
  }

  async start(reportTo: DeviceListener, opts: DeviceSourceStartOptions): Promise<void> {
    const listener = withFtdiLatency(reportTo, this.sysRoot);
    this.stopped = false;
    const first = await this.scan();
    for (const d of first) {
      this.present.set(d.portPath, d);
      if (opts.offerPresent) listener.attach(d);
    }
    const tick = (): void => {
      if (this.stopped) return;
      this.scanning = this.poll(listener).finally(() => {
        this.scanning = undefined;
        if (!this.stopped) this.timer = setTimeout(tick, this.intervalMs);
      });
    };
    this.timer = setTimeout(tick, this.intervalMs);
  }

  private async scan(): Promise<BridgeDevice[]> {
    const out: BridgeDevice[] = [];
    const now = Date.now();
    for (const [portPath, group] of ttysByDevice(await listUsbTtys(this.sysRoot))) {
      const atIf = this.opts.atInterface?.(portPath);
      const { download, at } = pairTtys(group, atIf);
      if (!download || !this.opts.filter.matches(download.vid, download.pid)) continue;
      if (atIf !== undefined && !at && (await hasInterface(this.sysRoot, portPath, atIf))) {
        // The driver makes one tty per channel; report the pair, not half of it (a board would go untested).
        const since = this.holding.get(portPath) ?? now;
        this.holding.set(portPath, since);
        if (now - since < (this.opts.atTtyWaitMs ?? 5000)) continue;
      }
      this.holding.delete(portPath);
      out.push(toBridgeDevice(download, at));
    }
    return out.sort((a, b) => a.portPath.localeCompare(b.portPath));
  }

  private async poll(listener: DeviceListener): Promise<void> {
    let now: BridgeDevice[];
    try {
      now = await this.scan();
    } catch (err) {
      listener.warn?.(`tty scan failed: ${(err as Error).message}`);
      return;
    }
    if (this.stopped) return;
    const seen = new Set<string>();
    for (const d of now) {
      seen.add(d.portPath);
      const before = this.present.get(d.portPath);
      if (before && before.tty === d.tty && before.vid === d.vid && before.pid === d.pid) {
        if (before.atTty !== d.atTty) {
          // Only the AT port changed (its tty came late or went): the same board, told again.
          this.present.set(d.portPath, d);
          listener.attach(d);
        }
        continue;
      }
      // A different tty or bridge on the same port between two scans is a re-plug we only half saw.
      if (before) listener.detach(d.portPath);
      this.present.set(d.portPath, d);
      listener.attach(d);
    }
    for (const portPath of [...this.present.keys()]) {
      if (!seen.has(portPath)) {
        this.present.delete(portPath);
        listener.detach(portPath);
      }
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.scanning;
  }
}
