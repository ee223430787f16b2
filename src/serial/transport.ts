/**
 * One small interface over a byte link to a board: a local serial port (serialport, real or simulated
 * binding) or a raw TCP socket (`socket://host:port`, e.g. ser2net or the simulator's server).
 * Knows nothing about ESP commands.
 */
import type { BindingInterface } from '@serialport/bindings-interface' with { 'resolution-mode': 'require' };

export interface UsbVidPid {
  vid: number;
  pid: number;
}

export interface Transport {
  readonly path: string;
  readonly baudRate: number;
  /** False for TCP links: DTR/RTS do not reach the board, so no reset sequence is possible. */
  readonly supportsControlLines: boolean;
  readonly usbVidPid?: UsbVidPid;
  write(data: Uint8Array, signal?: AbortSignal): Promise<void>;
  /** Subscribes to received bytes; returns the unsubscribe function. */
  onData(cb: (chunk: Buffer) => void): () => void;
  setSignals(s: { dtr: boolean; rts: boolean }): Promise<void>;
  setBaudRate(baud: number): Promise<void>;
  /** Forget received-but-undelivered input (nothing is buffered host-side: data is delivered as it arrives). */
  flushInput(): void;
  close(): Promise<void>;
  /**
   * Resolves when the link ends: undefined after close(), a DisconnectedError when it vanished. After a
   * successful reopen() this is a new promise for the new handle.
   */
  readonly closed: Promise<Error | undefined>;
  /**
   * Local serial ports only: drop the handle at once, wait `delayMs`, and open the same path again (a native-USB
   * device that re-enumerated around a reset). Baud, USB ids and data listeners carry over. Rejects with a
   * DisconnectedError when the path cannot be opened.
   */
  reopen?(opts: { delayMs: number; signal?: AbortSignal }): Promise<void>;
}

export interface OpenTransportOptions {
  baudRate?: number;
  /** serialport binding to use instead of the native one (the simulator provides one). */
  binding?: BindingInterface;
  usbVidPid?: UsbVidPid;
  signal?: AbortSignal;
}

export async function openTransport(pathOrUrl: string, opts: OpenTransportOptions = {}): Promise<Transport> {
  opts.signal?.throwIfAborted();
  if (pathOrUrl.startsWith('socket://')) {
    const { openSocketTransport } = await import('./socket-transport.ts');
    return openSocketTransport(pathOrUrl, opts);
  }
  const { openSerialTransport } = await import('./serial-transport.ts');
  return openSerialTransport(pathOrUrl, opts);
}
