/**
 * Samples the mutable store into React at a fixed rate. Events can arrive thousands of times a second; React
 * re-renders at most `hz` times a second, and only when something changed (or the clock's second ticked).
 * Shape fits useSyncExternalStore: subscribe + getSnapshot returning the same object until the next sample.
 */
import type { StationUiStore, UiSnapshot } from './store.ts';

export interface StoreSampler {
  subscribe(onChange: () => void): () => void;
  getSnapshot(): UiSnapshot;
  /** Take a snapshot now and notify (used after key presses, so the screen answers at once). */
  flush(): void;
  close(): void;
}

export function createSampler(store: StationUiStore, hz = 10): StoreSampler {
  let snapshot = store.snapshot();
  let sampledVersion = store.version;
  let sampledSecond = Math.floor(snapshot.now / 1000);
  const listeners = new Set<() => void>();
  let timer: NodeJS.Timeout | undefined;

  const notify = (): void => {
    for (const l of listeners) l();
  };
  const take = (): void => {
    snapshot = store.snapshot();
    sampledVersion = store.version;
    sampledSecond = Math.floor(snapshot.now / 1000);
  };
  const tick = (): void => {
    const second = Math.floor(Date.now() / 1000);
    if (store.version === sampledVersion && second === sampledSecond) return;
    take();
    notify();
  };

  return {
    subscribe(onChange) {
      listeners.add(onChange);
      timer ??= setInterval(tick, Math.max(1, Math.round(1000 / hz)));
      return () => {
        listeners.delete(onChange);
        if (listeners.size === 0 && timer) {
          clearInterval(timer);
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
      if (timer) clearInterval(timer);
      timer = undefined;
    },
  };
}
