/**
 * The operator's terminal UI. renderStationUi subscribes to the station's events and draws them; keys call the
 * small StationControls interface. It never touches the protocol layer or the ledger file.
 */
import './react-production.ts';
import React from 'react';
import { render } from 'ink';
import type { StationEventBus } from '../station/events.ts';
import type { SlotConfig, StationControls, StationHeader } from './controls.ts';
import { createSampler } from './sampler.ts';
import { StationUiStore } from './store.ts';
import { StationApp } from './components/StationApp.tsx';
import type { BigMode } from './layout.ts';
import type { FixtureLayout } from './slot-order.ts';

export type { SlotConfig, StationControls, StationHeader } from './controls.ts';
export type { BigMode } from './layout.ts';
export type { FixtureLayout } from './slot-order.ts';

export interface StationUiOptions {
  bus: StationEventBus;
  controls: StationControls;
  header: StationHeader;
  /** Configured slots, so empty slots show from the start in this order. */
  slots?: SlotConfig[];
  /** The fixture's shape: rows of slot port paths, null for a gap (config.yaml `layout`). */
  fixture?: FixtureLayout;
  /** Block letters for each slot's state: when there is room (default), always (`--big`), or never. */
  big?: BigMode;
  /** Log every retry and board message (`--verbose`); otherwise one line per board outcome. */
  verbose?: boolean;
  stdout?: NodeJS.WriteStream;
  stdin?: NodeJS.ReadStream;
  /** Frames per second at most (default 10). */
  maxFps?: number;
  /**
   * Ink's line-diffing renderer. Off by default: in Ink 6.8 every <Static> (event log) write leaves a copy of the
   * live region's first line in the scrollback when it is on (seen in tmux; cf. ink #973/#974).
   */
  incrementalRendering?: boolean;
  /** Fraction of one core the drawing may use; frames are spaced out to stay within it (default 0.025). */
  cpuBudget?: number;
}

export interface StationUiHandle {
  /** Resolves when the UI has exited (after `q` and a clean controls.stop()); rejects if stop() failed. */
  waitUntilExit(): Promise<void>;
  unmount(): void;
}

/**
 * A terminal made smaller reflows the previous frame's lines (tmux, most emulators), so erasing the frame's own
 * line count, as Ink does, leaves fragments of it on screen. Clearing the visible screen first leaves nothing;
 * Ink then draws the frame afresh (it resets its last output when the width shrinks; a height-only shrink changes
 * the layout, and so the frame, or is redrawn by the next clock tick). Registered before Ink's own listener, so it
 * runs first. Returns the unsubscribe.
 */
function clearScreenWhenShrunk(stdout: NodeJS.WriteStream): () => void {
  let { columns, rows } = stdout;
  const onResize = (): void => {
    if ((stdout.columns ?? 0) < (columns ?? 0) || (stdout.rows ?? 0) < (rows ?? 0))
      stdout.write('\x1b[2J\x1b[H');
    ({ columns, rows } = stdout);
  };
  stdout.on('resize', onResize);
  return () => {
    stdout.off('resize', onResize);
  };
}

export function renderStationUi(opts: StationUiOptions): StationUiHandle {
  const store = new StationUiStore({
    header: opts.header,
    slots: opts.slots,
    fixture: opts.fixture,
    verbose: opts.verbose ?? false,
  });
  const unsubscribe = opts.bus.subscribe((e) => store.handle(e));
  const fps = opts.maxFps ?? 10;
  const sampler = createSampler(store, { maxHz: fps, cpuBudget: opts.cpuBudget });
  const stdout = opts.stdout ?? process.stdout;
  const clearOnShrink = clearScreenWhenShrunk(stdout);
  const app = React.createElement(StationApp, {
    store,
    sampler,
    controls: opts.controls,
    big: opts.big ?? 'auto',
  });
  const instance = render(app, {
    stdout,
    stdin: opts.stdin ?? process.stdin,
    // q (and Ctrl+C, handled like q) stop the station cleanly first; Ink must not exit on its own.
    exitOnCtrlC: false,
    maxFps: fps,
    incrementalRendering: opts.incrementalRendering ?? false,
  });
  let closed = false;
  const close = (): void => {
    if (closed) return;
    closed = true;
    unsubscribe();
    sampler.close();
    clearOnShrink();
  };
  return {
    async waitUntilExit() {
      try {
        await instance.waitUntilExit();
      } finally {
        close();
      }
    },
    unmount() {
      // The last frame (all Ink leaves on screen in CI mode) shows the latest state, not one up to 100 ms old.
      // (rerender renders synchronously and reads the fresh snapshot; a store notification alone would not.)
      if (!closed) {
        sampler.flush();
        instance.rerender(app);
      }
      close();
      instance.unmount();
    },
  };
}
