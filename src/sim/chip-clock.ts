/**
 * The simulated chip's own time. Node's timers fire in whole milliseconds and late (the event loop wakes after
 * the due time), so a chip that dated what it does from the moment its timer actually ran would fall behind a
 * real one at every step: a received frame handled ~1 ms late, its reply's wire time started from there and
 * delivered ~1 ms late again. A real UART and CPU have no such jitter. Instead the chip's time moves to what has
 * happened to it — a frame's last byte arriving (the end of its wire time), a delay it waited ending (when it was
 * due) — and what it does next is dated from there. Every time the clock is moved to has already passed on the
 * host's clock, so the chip is never ahead of a real one; it only stops accumulating the host's timer lateness.
 */
export class ChipClock {
  private at = performance.now();

  /** The chip's time: the latest event it has reached (never later than the host's clock). */
  now(): number {
    return this.at;
  }

  /** Something happened to the chip at `at` (already past): its time is at least that. */
  reached(at: number): void {
    if (at > this.at) this.at = at;
  }

  /** The chip starts afresh (power-up, reset): its time is the host's time. */
  restart(): void {
    this.at = Math.max(this.at, performance.now());
  }

  /**
   * The chip is busy for `ms` from `from` (its time when the work began; default now): resolves once that time
   * has passed, with the clock at the work's end. Rejects when `signal` aborts (the chip reset).
   */
  delay(ms: number, signal: AbortSignal, from = this.at): Promise<void> {
    if (signal.aborted) return Promise.reject(signal.reason as Error);
    if (ms <= 0) return Promise.resolve();
    const due = from + ms;
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const onAbort = () => {
        if (timer) clearTimeout(timer);
        reject(signal.reason as Error);
      };
      // Timers only, never a busy loop. One can fire a fraction of a millisecond early (the loop's cached
      // time): then it waits again, so the work never ends before its time.
      const check = () => {
        timer = undefined;
        const wait = due - performance.now();
        if (wait > 0) timer = setTimeout(check, Math.ceil(wait));
        else {
          signal.removeEventListener('abort', onAbort);
          this.reached(due);
          resolve();
        }
      };
      signal.addEventListener('abort', onAbort, { once: true });
      check();
    });
  }
}
