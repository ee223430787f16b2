/**
 * Runs the UI on the demo feed, for looking at the layout in a real terminal without a station:
 *   node --import tsx src/ui/demo-main.ts [--slots 16] [--speed 1] [--demo-firmware] [--seed 7]
 * (The full station demo with simulated chips is `npm run demo`.)
 */
import { parseArgs } from 'node:util';
import { StationEventBus } from '../station/events.ts';
import { demoSlots, seededRandom, startDemoFeed } from './demo-feed.ts';
import type { DemoFeed } from './demo-feed.ts';
import { renderStationUi } from './index.ts';
import type { StationControls } from './controls.ts';

const { values } = parseArgs({
  options: {
    slots: { type: 'string', default: '16' },
    speed: { type: 'string', default: '1' },
    seed: { type: 'string' },
    'demo-firmware': { type: 'boolean', default: false },
  },
});

const slots = demoSlots(Math.max(1, Math.min(64, Number(values.slots) || 16)));
const bus = new StationEventBus();
const abort = new AbortController();
let paused = false;
let stopping = false;
// The feed starts after the UI subscribes (so the UI sees its first events); controls read it through this box.
const running: { feed?: DemoFeed } = {};

const controls: StationControls = {
  pause: () => {
    paused = true;
    bus.publish({ type: 'station', time: Date.now(), state: 'paused' });
  },
  resume: () => {
    paused = false;
    bus.publish({ type: 'station', time: Date.now(), state: 'running' });
  },
  async stop() {
    stopping = true;
    bus.publish({ type: 'station', time: Date.now(), state: 'stopping' });
    while ((running.feed?.inFlight ?? 0) > 0) await new Promise((r) => setTimeout(r, 100));
    abort.abort();
    await running.feed?.done;
  },
  setOperator: () => {},
  setLot: () => {},
  get inFlight() {
    return running.feed?.inFlight ?? 0;
  },
};

const ui = renderStationUi({
  bus,
  controls,
  slots,
  header: {
    stationName: 'line-3',
    profileName: 'esp-at-wroom32-v3.4',
    recipeFingerprint: '3f9c1d27e0b84a55c2d1e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7',
    chip: 'ESP32',
    operator: 'anna',
    lot: 'L2026-1123-A',
    demoFirmware: values['demo-firmware'] ?? false,
  },
});
running.feed = startDemoFeed({
  bus,
  slots,
  signal: abort.signal,
  speed: Number(values.speed) || 1,
  badSlots: slots.length > 2 ? [slots[2].portPath] : [],
  random: values.seed ? seededRandom(Number(values.seed)) : undefined,
  isPaused: () => paused,
  isStopping: () => stopping,
});
await ui.waitUntilExit();
abort.abort();
