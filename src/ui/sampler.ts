/**
 * Samples the mutable store into React. Events can arrive thousands of times a second; React re-renders at most
 * `maxHz` times a second, only when something changed (or the clock's second ticked), and less often when frames
 * are expensive: Ink redraws the whole live region on every frame, so the sampler measures what each frame cost
 * (CPU time) and spaces frames so that drawing stays within `cpuBudget` of one core (32 busy slots on a big terminal: about
 * 3 frames a second; a few slots: 10). Key presses call flush() and are drawn at once.
 * Shape fits useSyncExternalStore: subscribe + getSnapshot returning the same object until the next sample.
 */
import type { StationUiStore, UiSnapshot } from './store.ts';

export interface StoreSampler {
  subscribe(onChange: () => void): () => void;
  getSnapshot(): UiSnapshot;
  /** Take a snapshot now and notify (used after key presses, so the screen answers at once). */
  flush(): void;
  close(): void;
  /** Current spacing between frames, ms (for the bench and tests). */
  readonly intervalMs: number;
}

export interface SamplerOptions {
  /** Most frames per second (default 10). */
  maxHz?: number;
  /** Fewest frames per second while something changes (default 1: the clock). */
  minHz?: number;
  /** Fraction of one core that drawing may use (default 0.025). */
  cpuBudget?: number;
}

export function createSampler(store: StationUiStore, opts: SamplerOptions = {}): StoreSampler {
  const minInterval = 1000 / (opts.maxHz ?? 10);
  const maxInterval = 1000 / (opts.minHz ?? 1);
  const budget = opts.cpuBudget ?? 0.025;
  let snapshot = store.snapshot();
  let sampledVersion = store.version;
  let sampledSecond = Math.floor(snapshot.now / 1000);
  const listeners = new Set<() => void>();
  let timer: NodeJS.Timeout | undefined;
  let lastFrameAt = 0;
  /** Smoothed cost of one frame (React render + Ink layout and output), ms. */
  let frameCost = 0;
  let interval = minInterval;

  const notify = (): void => {
    for (const l of listeners) l();
  };
  const take = (): void => {
    snapshot = store.snapshot();
    sampledVersion = store.version;
    sampledSecond = Math.floor(snapshot.now / 1000);
  };
  const schedule = (): void => {
    if (listeners.size === 0) return;
    timer = setTimeout(tick, minInterval);
  };
  const tick = (): void => {
    timer = undefined;
    const now = performance.now();
    const second = Math.floor(Date.now() / 1000);
    const changed = store.version !== sampledVersion || second !== sampledSecond;
    if (!changed || now - lastFrameAt < interval) return schedule();
    lastFrameAt = now;
    // CPU time, not wall time: on a busy station PC the wall clock also counts other processes' turns.
    const cpuBefore = process.cpuUsage();
    take();
    notify();
    // React renders the change in the microtask it queued during notify() and Ink draws it synchronously in
    // the commit; a microtask queued after it runs once the frame is done (other timers cannot run in between).
    queueMicrotask(() => {
      const used = process.cpuUsage(cpuBefore);
      const cost = (used.user + used.system) / 1000;
      frameCost = frameCost === 0 ? cost : frameCost * 0.8 + cost * 0.2;
      interval = Math.min(maxInterval, Math.max(minInterval, frameCost / budget));
      if (listeners.size > 0 && !timer) schedule();
    });
  };

  return {
    subscribe(onChange) {
      listeners.add(onChange);
      if (!timer) schedule();
      return () => {
        listeners.delete(onChange);
        if (listeners.size === 0) {
          if (timer) clearTimeout(timer);
          timer = undefined;
        }
      };
    },
    getSnapshot: () => snapshot,
    flush() {
      take();
      notify();
    },
    close() {
      listeners.clear();
      if (timer) clearTimeout(timer);
      timer = undefined;
    },
    get intervalMs() {
      return interval;
    },
  };
}
