/**
 * The host end of a simulated UART (a serial port or a TCP connection), as the board and its second UART
 * (at-uart.ts) both take it.
 */
export interface HostHandlers {
  onData(bytes: Buffer): void;
  /** The link dropped (USB gone): pending reads must fail as a disconnect. */
  onLost(err: Error): void;
}

export interface HostLink {
  /**
   * Host → chip; resolves once the bytes are on the wire (after their wire time). The bytes are copied unless
   * `transfer` says the caller hands the buffer over and will not touch it again.
   */
  write(data: Uint8Array, opts?: { transfer?: boolean }): Promise<void>;
  /** Host UART rate; undefined = always matches the chip (TCP: no baud on the wire). */
  setBaud(baud: number | undefined): void;
  setLines(lines: { dtr: boolean; rts: boolean }): void;
  close(): void;
}
