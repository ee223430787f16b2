/**
 * One small interface over a byte link to a board: a local serial port (serialport, real or simulated
 * binding) or a raw TCP socket (`socket://host:port`, e.g. ser2net or the simulator's server).
 * Knows nothing about ESP commands.
 */
import type { OpenTransportOptions, Transport } from './transport-types.ts';

export type { OpenTransportOptions, Transport, UsbVidPid } from './transport-types.ts';

export async function openTransport(pathOrUrl: string, opts: OpenTransportOptions = {}): Promise<Transport> {
  opts.signal?.throwIfAborted();
  if (pathOrUrl.startsWith('socket://')) {
    const { openSocketTransport } = await import('./socket-transport.ts');
    return openSocketTransport(pathOrUrl, opts);
  }
  const { openSerialTransport } = await import('./serial-transport.ts');
  return openSerialTransport(pathOrUrl, opts);
}
