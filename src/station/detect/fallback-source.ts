/**
 * Hotplug first, polling when hotplug cannot start (the `usb` native module missing, netlink refused, ...):
 * a station must come up and flash boards even where udev events do not reach it.
 */
import type {
  DetectionMode,
  DeviceListener,
  DeviceSource,
  DeviceSourceStartOptions,
} from './bridge-device.ts';

export class FallbackDeviceSource implements DeviceSource {
  private active: DeviceSource;
  /** Why the active mode was chosen; read after start(). */
  note: string;

  constructor(
    private readonly primary: DeviceSource,
    private readonly fallback: DeviceSource,
    note: string,
    private readonly fallbackNote: (err: Error) => string,
  ) {
    this.active = primary;
    this.note = note;
  }

  get mode(): DetectionMode {
    return this.active.mode;
  }

  async start(listener: DeviceListener, opts: DeviceSourceStartOptions): Promise<void> {
    try {
      await this.primary.start(listener, opts);
      this.active = this.primary;
    } catch (err) {
      await this.primary.stop().catch(() => undefined);
      this.active = this.fallback;
      this.note = this.fallbackNote(err as Error);
      listener.warn?.(this.note);
      await this.fallback.start(listener, opts);
    }
  }

  stop(): Promise<void> {
    return this.active.stop();
  }
}
