import React, { useCallback, useEffect, useRef, useState, useSyncExternalStore } from 'react';
import { Box, useApp, useInput, useStdin, useStdout } from 'ink';
import type { Key } from 'ink';
import type { StationControls } from '../controls.ts';
import { chooseLayout } from '../layout.ts';
import type { BigMode } from '../layout.ts';
import { fixtureShape } from '../slot-order.ts';
import type { StoreSampler } from '../sampler.ts';
import type { StationUiStore } from '../store.ts';
import { MAX_ENTRY_LENGTH } from '../ui-mode.ts';
import type { UiMode } from '../ui-mode.ts';
import { EventLog } from './EventLog.tsx';
import { Footer } from './Footer.tsx';
import { DemoBanner, Header } from './Header.tsx';
import { HelpOverlay } from './HelpOverlay.tsx';
import { SlotGrid } from './SlotGrid.tsx';
import { YieldPanel } from './YieldPanel.tsx';
import { YieldSummary } from './YieldSummary.tsx';

export interface TerminalSize {
  columns: number;
  rows: number;
}

export interface StationAppProps {
  store: StationUiStore;
  sampler: StoreSampler;
  controls: StationControls;
  /** Fixed size (tests); otherwise the stdout's size, following resizes. */
  size?: TerminalSize;
  /** Block letters: when there is room (auto, the default), always when they fit at all, or never. */
  big?: BigMode;
}

function useTerminalSize(fixed: TerminalSize | undefined): TerminalSize {
  const { stdout } = useStdout();
  const read = (): TerminalSize => ({ columns: stdout.columns || 80, rows: stdout.rows || 24 });
  const [size, setSize] = useState<TerminalSize>(fixed ?? read);
  useEffect(() => {
    if (fixed) return;
    const onResize = (): void => setSize(read());
    stdout.on('resize', onResize);
    return () => {
      stdout.off('resize', onResize);
    };
  }, [stdout, fixed]);
  return fixed ?? size;
}

/** Printable characters of a key chunk; a barcode scanner delivers a whole code (and its Enter) in one chunk. */
function printable(input: string): string {
  let out = '';
  for (const ch of input) if (ch >= ' ' && ch !== '\x7f') out += ch;
  return out;
}

export function StationApp({
  store,
  sampler,
  controls,
  size: fixedSize,
  big = 'auto',
}: StationAppProps): React.JSX.Element {
  const snap = useSyncExternalStore(sampler.subscribe, sampler.getSnapshot);
  const size = useTerminalSize(fixedSize);
  const { exit } = useApp();
  const { isRawModeSupported } = useStdin();
  const [mode, setModeState] = useState<UiMode>({ kind: 'normal' });
  // Key chunks can arrive faster than React re-renders (scanners): handlers read and write this ref, not state.
  const modeRef = useRef<UiMode>(mode);
  const setMode = useCallback((m: UiMode) => {
    modeRef.current = m;
    setModeState(m);
  }, []);

  const stopStation = useCallback(() => {
    setMode({ kind: 'stopping' });
    store.setRunState('stopping');
    sampler.flush();
    controls.stop().then(
      () => {
        // Draw the final state (React renders the flushed snapshot in a microtask) before Ink's last frame.
        store.setRunState('stopped');
        sampler.flush();
        setImmediate(() => exit());
      },
      (err: unknown) => exit(err instanceof Error ? err : new Error(String(err))),
    );
  }, [controls, exit, sampler, setMode, store]);

  const abortInFlight = useCallback(() => {
    setMode({ kind: 'stopping', forced: true });
    sampler.flush();
    // The first stop()'s promise ends the UI; this one only hurries the boards in flight.
    controls.stop({ abortInFlight: true }).catch(() => undefined);
  }, [controls, sampler, setMode]);

  const requestQuit = useCallback(() => {
    if (controls.inFlight > 0) setMode({ kind: 'confirm-quit' });
    else stopStation();
  }, [controls, setMode, stopStation]);

  const commitEntry = useCallback(
    (field: 'operator' | 'lot', raw: string) => {
      const value = raw.trim();
      if (value === '') {
        setMode({ kind: 'entry', field, value: '', hint: 'empty: type or scan a value, Esc cancels' });
        return;
      }
      if (field === 'operator') {
        controls.setOperator(value);
        store.setOperator(value);
      } else {
        controls.setLot(value);
        store.setLot(value);
      }
      setMode({ kind: 'normal' });
      sampler.flush();
    },
    [controls, sampler, setMode, store],
  );

  const onEntryKey = useCallback(
    (m: Extract<UiMode, { kind: 'entry' }>, input: string, key: Key) => {
      if (key.escape || (key.ctrl && input === 'c')) return setMode({ kind: 'normal' });
      if (key.return) return commitEntry(m.field, m.value);
      // One read can hold several keys (a held Backspace, a scanner burst): apply each in turn.
      let value = m.value;
      if ((key.backspace || key.delete) && !input.includes('\x7f') && !input.includes('\b'))
        value = value.slice(0, -1);
      const end = input.search(/[\r\n]/);
      for (const ch of end === -1 ? input : input.slice(0, end)) {
        if (ch === '\x7f' || ch === '\b') value = value.slice(0, -1);
        else value += printable(ch);
      }
      value = value.slice(0, MAX_ENTRY_LENGTH);
      if (end !== -1) return commitEntry(m.field, value);
      setMode({
        ...m,
        value,
        hint: value.length >= MAX_ENTRY_LENGTH ? `at most ${MAX_ENTRY_LENGTH} characters` : undefined,
      });
    },
    [commitEntry, setMode],
  );

  const onKey = useCallback(
    (input: string, key: Key) => {
      const m = modeRef.current;
      if (m.kind === 'stopping') {
        // Boards in flight are finishing; a second Ctrl+C fails them now, a second q asks first.
        if (m.forced || controls.inFlight === 0) return;
        if (key.ctrl && input === 'c') return abortInFlight();
        if (input === 'q') setMode({ kind: 'confirm-abort' });
        return;
      }
      if (m.kind === 'confirm-abort') {
        if (input === 'y' || input === 'Y' || (key.ctrl && input === 'c')) abortInFlight();
        else if (input === 'n' || input === 'N' || key.escape) setMode({ kind: 'stopping' });
        return;
      }
      if (m.kind === 'entry') return onEntryKey(m, input, key);
      if (m.kind === 'confirm-quit') {
        if (input === 'y' || input === 'Y') stopStation();
        else if (key.ctrl && input === 'c') {
          // Ctrl+C twice (the help's "stop now"): stop, and fail the boards in flight rather than wait for them.
          stopStation();
          abortInFlight();
        } else if (input === 'n' || input === 'N' || key.escape) setMode({ kind: 'normal' });
        return;
      }
      if (key.escape) return setMode({ kind: 'normal' });
      if (key.ctrl && input === 'c') return requestQuit();
      switch (input) {
        case 'p': {
          if (store.currentRunState === 'paused') {
            controls.resume();
            store.setRunState('running');
          } else if (store.currentRunState === 'running') {
            controls.pause();
            store.setRunState('paused');
          }
          sampler.flush();
          return;
        }
        case 'q':
          return requestQuit();
        case 'o':
          return setMode({ kind: 'entry', field: 'operator', value: '' });
        case 'l':
          return setMode({ kind: 'entry', field: 'lot', value: '' });
        case 'r':
          return setMode(m.kind === 'yield' ? { kind: 'normal' } : { kind: 'yield' });
        case '?':
          return setMode(m.kind === 'help' ? { kind: 'normal' } : { kind: 'help' });
      }
    },
    [abortInFlight, controls, onEntryKey, requestQuit, sampler, setMode, stopStation, store],
  );

  // Ink's isRawModeSupported is `undefined` (not false) on a non-TTY stdin, and only `false` disables input.
  useInput(onKey, { isActive: isRawModeSupported === true });

  const fixture = snap.fixture
    ? fixtureShape(
        snap.fixture,
        snap.slots.map((s) => s.portPath),
      )
    : undefined;
  const layout = chooseLayout(size.columns, size.rows, snap.slots.length, snap.header.demoFirmware, {
    big,
    ...(fixture && { fixture }),
  });
  const width = layout.width;
  const inFlight = controls.inFlight;
  // Overlays may take a little more room than a small grid, never enough to reach the terminal's last row.
  const overlayHeight = Math.max(
    layout.gridHeight,
    Math.min(18, size.rows - (layout.liveHeight - layout.gridHeight) - 1),
  );
  return (
    <>
      <EventLog batch={snap.logBatch} />
      <Box flexDirection="column" width={width}>
        {snap.header.demoFirmware ? <DemoBanner width={width} height={layout.bannerHeight} /> : null}
        <Header
          header={snap.header}
          central={snap.central}
          runState={snap.runState}
          now={snap.now}
          width={width}
        />
        <YieldPanel
          figures={snap.yieldFigures}
          lot={snap.header.lot}
          width={width}
          height={layout.yieldHeight}
        />
        {mode.kind === 'help' ? (
          <HelpOverlay width={width} height={overlayHeight} />
        ) : mode.kind === 'yield' ? (
          <YieldSummary
            figures={snap.yieldFigures}
            lot={snap.header.lot}
            width={width}
            height={overlayHeight}
          />
        ) : (
          <SlotGrid slots={snap.slots} layout={layout} fixture={snap.fixture} />
        )}
        <Footer mode={mode} inFlight={inFlight} paused={snap.runState === 'paused'} width={width} />
      </Box>
    </>
  );
}
