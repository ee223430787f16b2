/**
 * FTDI bridges hold what the chip sends until a USB packet is full or their latency timer runs out (16 ms by
 * default): every short reply — each block's acknowledgement — waits for it. Setting the tty's
 * `latency_timer` to 1 ms at attach (ftdi_sio's sysfs attribute, as `setserial ... low_latency` would) takes
 * that wait off every block. Other bridges have no such timer; they are left alone.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { BridgeDevice, DeviceListener } from './bridge-device.ts';

const FTDI_VID = '0403';
export const FTDI_LATENCY_MS = 1;

/** Lowers one FTDI tty's latency timer; resolves to a sentence for the operator when it cannot. */
export async function lowerFtdiLatency(sysRoot: string, device: BridgeDevice): Promise<string | undefined> {
  if (device.vid !== FTDI_VID || !device.tty.startsWith('/dev/')) return undefined;
  const file = join(sysRoot, 'class', 'tty', basename(device.tty), 'device', 'latency_timer');
  try {
    if (Number((await readFile(file, 'utf8')).trim()) <= FTDI_LATENCY_MS) return undefined;
    await writeFile(file, `${FTDI_LATENCY_MS}\n`);
    return undefined;
  } catch (err) {
    return (
      `${device.tty} (FTDI): could not set ${file} to ${FTDI_LATENCY_MS} ms (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); ` +
      `each block then waits up to 16 ms for the bridge — run the station with write access to sysfs, or add a udev ` +
      `rule: SUBSYSTEM=="usb-serial", DRIVER=="ftdi_sio", ATTR{latency_timer}="1"`
    );
  }
}

/** The listener a sysfs-based source reports to: FTDI ttys get their latency timer lowered as they attach. */
export function withFtdiLatency(listener: DeviceListener, sysRoot: string): DeviceListener {
  return {
    ...listener,
    attach(device) {
      listener.attach(device);
      void lowerFtdiLatency(sysRoot, device).then((problem) => {
        if (problem) listener.warn?.(problem);
      });
    },
  };
}
