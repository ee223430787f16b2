/**
 * Opening a board link and connecting the loader, for `info`
 * and anyone else who needs "port string → synced loader".
 */
import { openTransport, type Transport, type UsbVidPid } from '../serial/transport.ts';
import { EspLoader, type ConnectOptions } from './loader.ts';

export interface OpenLoaderOptions extends ConnectOptions {
  baudRate?: number;
  /** The bridge's USB ids: a native USB-Serial/JTAG board (303a:1001) gets its own reset sequence. */
  usbVidPid?: UsbVidPid;
}

/** Opens `port` (tty path or socket://host:port) and connects; closes the port again on failure. */
export async function openLoader(
  port: string,
  opts: OpenLoaderOptions = {},
): Promise<{ transport: Transport; loader: EspLoader }> {
  const transport = await openTransport(port, {
    baudRate: opts.baudRate,
    signal: opts.signal,
    ...(opts.usbVidPid && { usbVidPid: opts.usbVidPid }),
  });
  try {
    const loader = await EspLoader.connect(transport, opts);
    return { transport, loader };
  } catch (e) {
    await transport.close().catch(() => {});
    throw e;
  }
}
