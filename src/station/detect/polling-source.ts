/**
 * Detection without hotplug: scan /sys/class/tty every 500 ms and diff by physical port path.
 * Needs neither udevd nor native code, so it works in containers and on minimal images.
 */
import type {
  BridgeDevice,
  DeviceListener,
  DeviceSource,
  DeviceSourceStartOptions,
} from './bridge-device.ts';
import { bridgesFromTtys, listUsbTtys } from './sysfs-tty.ts';
import type { VidPidFilter } from './vid-pid-filter.ts';

export interface PollingSourceOptions {
  sysRoot?: string;
  filter: VidPidFilter;
  intervalMs?: number;
}

export class PollingDeviceSource implements DeviceSource {
  readonly mode = 'polling' as const;
  private readonly sysRoot: string;
  private readonly intervalMs: number;
  private present = new Map<string, BridgeDevice>();
  private timer: NodeJS.Timeout | undefined;
  private scanning: Promise<void> | undefined;
  private stopped = false;

  constructor(private readonly opts: PollingSourceOptions) {
    this.sysRoot = opts.sysRoot ?? '/sys';
    this.intervalMs = opts.intervalMs ?? 500;
  }

  async start(listener: DeviceListener, opts: DeviceSourceStartOptions): Promise<void> {
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
    const ttys = await listUsbTtys(this.sysRoot);
    return bridgesFromTtys(ttys).filter((d) => this.opts.filter.matches(d.vid, d.pid));
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
      if (before && before.tty === d.tty && before.vid === d.vid && before.pid === d.pid) continue;
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
