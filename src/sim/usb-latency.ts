/**
 * The chip → host leg of a USB serial link: the bridge (or the chip's own USB-Serial/JTAG) collects the bytes it
 * receives and hands them to the host one USB packet at a time — when a packet is full, or when its latency timer
 * runs out (FTDI parts: 16 ms by default). A short reply therefore waits for the timer; a long stream does not.
 * Off (`latencyMs` 0) the bytes pass straight through. Benchmarks turn it on; tests leave it off.
 */
export const USB_PACKET_BYTES = 64;

export class UsbLatencyBuffer {
  private held: Buffer[] = [];
  private heldBytes = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly latencyMs: number,
    private readonly deliver: (bytes: Buffer) => void,
  ) {}

  /** `at`: when the bytes reached the bridge (the end of their wire time; the pump that brings them may be late). */
  push(bytes: Buffer, at = performance.now()): void {
    if (this.latencyMs <= 0) {
      this.deliver(bytes);
      return;
    }
    this.held.push(bytes);
    this.heldBytes += bytes.length;
    if (this.heldBytes >= USB_PACKET_BYTES) {
      // Full packets leave at once; the rest waits for the next packet or the timer.
      const all = Buffer.concat(this.held);
      const full = all.length - (all.length % USB_PACKET_BYTES);
      this.held = full < all.length ? [all.subarray(full)] : [];
      this.heldBytes = all.length - full;
      if (this.heldBytes === 0) this.stopTimer();
      this.deliver(all.subarray(0, full));
      if (this.heldBytes === 0) return;
    }
    // The timer runs from the first byte held, by the wire's schedule, not from when the pump got round to it.
    this.timer ??= setTimeout(
      () => this.flush(),
      Math.max(0, Math.ceil(at + this.latencyMs - performance.now())),
    );
  }

  private stopTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** The host end went away: what the bridge held is lost with it. */
  clear(): void {
    this.stopTimer();
    this.held = [];
    this.heldBytes = 0;
  }

  private flush(): void {
    this.stopTimer();
    if (this.heldBytes === 0) return;
    const bytes = this.held.length === 1 ? this.held[0] : Buffer.concat(this.held);
    this.held = [];
    this.heldBytes = 0;
    this.deliver(bytes);
  }
}
