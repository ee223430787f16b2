/**
 * One direction of a UART: bytes leave in order and arrive after their wire time. A single pump timer per
 * direction (not one per chunk) keeps the order exact and the host CPU cost low with many boards. Times are
 * absolute (performance.now()): a late timer delays a delivery, never the schedule of the bytes after it.
 */
export class WireQueue {
  private readonly items: { at: number; fn: (at: number) => void }[] = [];
  private freeAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;

  constructor(private readonly realistic: () => boolean) {}

  /**
   * Queue `fn` to run once `ms` of wire time (after everything already queued) has passed; it gets the time the
   * last byte arrived. `from` is when the sender began to send (default now): a chip dates its replies by its
   * own clock (chip-clock.ts), which may be behind the host's by the lateness of the timer that woke it.
   */
  push(ms: number, fn: (at: number) => void, from = performance.now()): void {
    const start = Math.max(from, this.freeAt);
    this.freeAt = start + ms;
    this.items.push({ at: this.freeAt, fn });
    this.schedule();
  }

  /** Drop everything not yet delivered (the link is gone). */
  clear(): void {
    this.items.length = 0;
    if (this.timer) clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    this.timer = this.immediate = undefined;
  }

  private schedule(): void {
    if (this.timer || this.immediate || this.items.length === 0) return;
    const wait = this.items[0].at - performance.now();
    if (!this.realistic() || wait <= 0) {
      this.immediate = setImmediate(() => this.pump());
    } else {
      this.timer = setTimeout(() => this.pump(), Math.ceil(wait));
    }
  }

  private pump(): void {
    this.timer = this.immediate = undefined;
    const now = performance.now();
    // In fast mode everything due is delivered in order; in realistic mode only what has finished on the wire.
    while (this.items.length > 0 && (!this.realistic() || this.items[0].at <= now + 0.5)) {
      const item = this.items.shift()!;
      item.fn(item.at);
    }
    this.schedule();
  }
}
