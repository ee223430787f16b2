/**
 * The byte link's interface, apart from the factory that opens one (transport.ts): the implementations import
 * these types from here, so the factory's lazy imports of them form no loop.
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
