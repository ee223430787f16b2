/**
 * What detection reports: one USB-UART bridge (or native USB-serial chip) with the tty the OS gave it.
 * The physical port path is the key; the tty is only where it lives right now.
 */
export interface BridgeDevice {
  /** Kernel name of the USB device: `${busnum}-${ports.join('.')}`, e.g. `1-1.4.2`; `sim-3` for simulated. */
  portPath: string;
  /** Device node or URL the flasher opens, e.g. /dev/ttyUSB3. */
  tty: string;
  /** The AT port from the same USB device (another interface, by config.yaml's rule), e.g. /dev/ttyUSB4. */
  atTty?: string;
  /** 4 lower-case hex digits. */
  vid: string;
  pid: string;
  usbSerial?: string;
  manufacturer?: string;
  product?: string;
}

/** 'static': fixed remote ports (socket://), attached once (static-ports.ts). */
export type DetectionMode = 'hotplug' | 'polling' | 'simulated' | 'static';

export interface DeviceListener {
  attach(device: BridgeDevice): void;
  detach(portPath: string): void;
  /** Something the operator should know (a tty that never appeared, a sysfs read error). */
  warn?(message: string): void;
}

export interface DeviceSourceStartOptions {
  /** Report devices already plugged in when detection starts (otherwise they wait for a re-plug). */
  offerPresent: boolean;
}

/** Emits attach/detach of bridges. One implementation per detection mode. */
export interface DeviceSource {
  readonly mode: DetectionMode;
  start(listener: DeviceListener, opts: DeviceSourceStartOptions): Promise<void>;
  stop(): Promise<void>;
}

/** Format a numeric USB id as 4 lower-case hex digits. */
export function hex4(n: number): string {
  return n.toString(16).padStart(4, '0');
}
