/**
 * Detection from the simulator's VirtualUsbBus: the same attach/detach the hotplug source produces, for
 * `esp-station run --simulate` and the end-to-end tests.
 */
import type { UsbDeviceInfo, VirtualUsbBus } from '../sim/usb-bus.ts';
import type {
  BridgeDevice,
  DeviceListener,
  DeviceSource,
  DeviceSourceStartOptions,
} from '../station/detect/bridge-device.ts';
import { hex4 } from '../station/detect/bridge-device.ts';
import type { VidPidFilter } from '../station/detect/vid-pid-filter.ts';

export function bridgeFromSim(d: UsbDeviceInfo): BridgeDevice {
  return {
    portPath: d.portPath,
    tty: d.tty,
    vid: hex4(d.vid),
    pid: hex4(d.pid),
    ...(d.usbSerial !== undefined && { usbSerial: d.usbSerial }),
    manufacturer: d.manufacturer,
    product: d.product,
  };
}

export class SimDeviceSource implements DeviceSource {
  readonly mode = 'simulated' as const;
  private listener: DeviceListener | undefined;
  private readonly onAttach = (d: UsbDeviceInfo): void => {
    const b = bridgeFromSim(d);
    if (this.filter?.matches(b.vid, b.pid) ?? true) this.listener?.attach(b);
  };
  private readonly onDetach = (d: UsbDeviceInfo): void => this.listener?.detach(d.portPath);

  constructor(
    readonly bus: VirtualUsbBus,
    private readonly filter?: VidPidFilter,
  ) {}

  async start(listener: DeviceListener, opts: DeviceSourceStartOptions): Promise<void> {
    this.listener = listener;
    this.bus.on('attach', this.onAttach);
    this.bus.on('detach', this.onDetach);
    if (opts.offerPresent) for (const d of this.bus.list()) this.onAttach(d);
  }

  async stop(): Promise<void> {
    this.bus.off('attach', this.onAttach);
    this.bus.off('detach', this.onDetach);
    this.listener = undefined;
  }
}
