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
import type { AtInterfaceRule } from '../station/detect/at-pairing.ts';

export function bridgeFromSim(d: UsbDeviceInfo, atInterface?: AtInterfaceRule): BridgeDevice {
  const atIf = atInterface?.(d.portPath);
  const at = atIf === undefined ? undefined : d.interfaces.find((i) => i.interfaceNumber === atIf);
  const download = d.interfaces.find((i) => i.interfaceNumber !== atIf) ?? { tty: d.tty };
  return {
    portPath: d.portPath,
    tty: download.tty,
    ...(at && { atTty: at.tty }),
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
    const b = bridgeFromSim(d, this.atInterface);
    if (this.filter?.matches(b.vid, b.pid) ?? true) this.listener?.attach(b);
  };
  private readonly onDetach = (d: UsbDeviceInfo): void => this.listener?.detach(d.portPath);

  constructor(
    readonly bus: VirtualUsbBus,
    private readonly filter?: VidPidFilter,
    /** The AT port's interface per device, as config.yaml's atPort rule says (the same pairing as on sysfs). */
    private readonly atInterface?: AtInterfaceRule,
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
