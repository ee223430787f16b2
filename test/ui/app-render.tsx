/** Renders StationApp with ink-testing-library around a fresh store, and cleans up after the test. */
import React from 'react';
import { render } from 'ink-testing-library';
import type { TestContext } from 'node:test';
import type { SlotConfig, StationHeader } from '../../src/ui/controls.ts';
import { createSampler } from '../../src/ui/sampler.ts';
import type { BigMode } from '../../src/ui/layout.ts';
import type { FixtureLayout } from '../../src/ui/slot-order.ts';
import { StationUiStore } from '../../src/ui/store.ts';
import { StationApp } from '../../src/ui/components/StationApp.tsx';
import type { TerminalSize } from '../../src/ui/components/StationApp.tsx';
import { HEADER, RecordingControls, plain } from './ui-harness.ts';

export function renderApp(
  t: TestContext,
  opts: {
    slots?: SlotConfig[];
    header?: Partial<StationHeader>;
    size?: TerminalSize;
    fixture?: FixtureLayout;
    big?: BigMode;
    verbose?: boolean;
  } = {},
) {
  const store = new StationUiStore({
    header: { ...HEADER, ...opts.header },
    slots: opts.slots,
    ...(opts.fixture && { fixture: opts.fixture }),
    verbose: opts.verbose ?? false,
  });
  const sampler = createSampler(store);
  const controls = new RecordingControls();
  const r = render(
    <StationApp
      store={store}
      sampler={sampler}
      controls={controls}
      size={opts.size ?? { columns: 100, rows: 40 }}
      big={opts.big}
    />,
  );
  t.after(() => {
    r.unmount();
    r.cleanup();
    sampler.close();
  });
  return { ...r, store, sampler, controls, text: () => plain(r.lastFrame()) };
}
