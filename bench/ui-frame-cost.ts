/**
 * CPU cost of one UI frame with every slot flashing, by slot count and terminal size. Ink redraws the whole live
 * region on every frame, so this is what the sampler's CPU budget divides by (see src/ui/sampler.ts).
 * Run: node --import tsx bench/ui-frame-cost.ts   (prints one line per configuration)
 */
import '../src/ui/react-production.ts';
import { NullTerminal, SilentStdin } from './null-terminal.ts';
import React from 'react';
import { render } from 'ink';
import { StationUiStore } from '../src/ui/store.ts';
import { createSampler } from '../src/ui/sampler.ts';
import { StationApp } from '../src/ui/components/StationApp.tsx';
import { demoSlots } from '../src/ui/demo-feed.ts';
import type { BigMode } from '../src/ui/layout.ts';

async function frameCost(
  slotCount: number,
  columns: number,
  rows: number,
  big: BigMode,
  frames = 200,
): Promise<number> {
  const slots = demoSlots(slotCount);
  const header = {
    stationName: 'bench',
    profileName: 'esp-at-wroom32-v3.4',
    recipeFingerprint: 'f'.repeat(64),
    chip: 'ESP32',
    operator: 'bench',
    lot: 'BENCH',
    demoFirmware: false,
  };
  const store = new StationUiStore({ header, slots });
  const sampler = createSampler(store, { maxHz: 1000 });
  const controls = {
    pause() {},
    resume() {},
    async stop() {},
    setOperator() {},
    setLot() {},
    inFlight: slotCount,
  };
  const app = React.createElement(StationApp, { store, sampler, controls, big });
  const instance = render(app, {
    stdout: new NullTerminal(columns, rows) as unknown as NodeJS.WriteStream,
    stdin: new SilentStdin() as unknown as NodeJS.ReadStream,
    maxFps: 1000,
    patchConsole: false,
  });
  const board = {
    chip: 'esp32' as const,
    chipDisplay: 'ESP32',
    revision: 301,
    mac: '24:0A:C4:00:00:01',
    secureBoot: false,
    flashEncryption: false,
  };
  for (const s of slots) {
    const slotInfo = { portPath: s.portPath, name: s.name, tty: '/dev/ttyUSB0', vid: '10c4', pid: 'ea60' };
    store.handle({ type: 'slot-attached', time: Date.now(), slot: s.portPath, slotInfo });
    store.handle({ type: 'state', time: Date.now(), slot: s.portPath, state: 'flashing', attempt: 1, board });
  }
  const total = 1_631_584;
  let cpu = 0;
  for (let i = 0; i < frames + 20; i++) {
    for (const s of slots) {
      const done = Math.min(total, i * 7_000);
      store.handle({
        type: 'progress',
        time: Date.now(),
        slot: s.portPath,
        progress: {
          regionIndex: 5,
          regionCount: 6,
          regionOffset: 0x100000,
          regionLabel: 'app',
          regionDone: done,
          regionTotal: total,
          overallDone: done,
          overallTotal: total,
          bytesPerSecond: 380_000 + (i % 9) * 4_000,
          etaSeconds: (total - done) / 380_000,
        },
      });
    }
    const before = process.cpuUsage();
    sampler.flush();
    instance.rerender(app);
    const used = process.cpuUsage(before);
    // The first frames warm up caches and the JIT; measure the steady state.
    if (i >= 20) cpu += (used.user + used.system) / 1000;
    await new Promise((r) => setImmediate(r));
  }
  instance.unmount();
  sampler.close();
  return cpu / frames;
}

// The last three: 8 slots where block letters fit (the default), and the same without them.
for (const [n, c, r, big] of [
  [32, 160, 48, 'auto'],
  [16, 160, 48, 'auto'],
  [16, 120, 40, 'auto'],
  [32, 80, 24, 'auto'],
  [12, 80, 24, 'auto'],
  [8, 120, 40, 'auto'],
  [8, 200, 50, 'auto'],
  [8, 200, 50, 'never'],
] as const) {
  const ms = await frameCost(n, c, r, big);
  console.log(
    `${String(n).padStart(2)} slots on ${c}×${r}${big === 'never' ? ' (no block letters)' : ''}: ${ms.toFixed(1)} ms CPU per frame → ${(1000 / Math.max(100, ms / 0.025)).toFixed(1)} frames/s within the 2.5 % budget`,
  );
}
