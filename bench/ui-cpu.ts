/**
 * UI CPU cost with 32 boards flashing at full speed. Feeds the demo feed's realistic events (progress at 50 Hz
 * per board, i.e. ~1,600 events/s) for N seconds twice: once with nobody listening (baseline: the feed's own
 * timers), once into the real Ink UI rendering to a null 160×48 terminal. UI CPU = the difference, as % of one core.
 * Run: node --import tsx bench/ui-cpu.ts [seconds=10] [slots=32] [rounds=3]   (target: < 5 %)
 */
import { NullTerminal, SilentStdin } from './null-terminal.ts';
import { StationEventBus } from '../src/station/events.ts';
import { demoSlots, seededRandom, startDemoFeed } from '../src/ui/demo-feed.ts';
import { renderStationUi } from '../src/ui/index.ts';
import type { StationControls } from '../src/ui/controls.ts';

const seconds = Number(process.argv[2] ?? 10);
const slotCount = Number(process.argv[3] ?? 32);
const PROGRESS_HZ = 50;

async function phase(
  withUi: boolean,
): Promise<{ cpuMs: number; events: number; writes: number; bytes: number }> {
  const bus = new StationEventBus();
  let events = 0;
  bus.subscribe(() => events++);
  const abort = new AbortController();
  const slots = demoSlots(slotCount);
  const feed = startDemoFeed({
    bus,
    slots,
    signal: abort.signal,
    progressHz: PROGRESS_HZ,
    random: seededRandom(42),
  });
  const term = new NullTerminal();
  const controls: StationControls = {
    pause() {},
    resume() {},
    async stop() {},
    setOperator() {},
    setLot() {},
    get inFlight() {
      return feed.inFlight;
    },
  };
  const ui = withUi
    ? renderStationUi({
        bus,
        controls,
        slots,
        header: {
          stationName: 'bench',
          profileName: 'esp-at-wroom32-v3.4',
          recipeFingerprint: 'f'.repeat(64),
          chip: 'ESP32',
          operator: 'bench',
          lot: 'BENCH',
          demoFirmware: false,
        },
        stdout: term as unknown as NodeJS.WriteStream,
        stdin: new SilentStdin() as unknown as NodeJS.ReadStream,
        maxFps: process.env.UI_FPS ? Number(process.env.UI_FPS) : undefined,
      })
    : undefined;
  // Let every slot get its first board in before measuring.
  await new Promise((r) => setTimeout(r, 4000));
  const before = process.cpuUsage();
  const eventsBefore = events;
  const writesBefore = term.writes;
  const bytesBefore = term.bytes;
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const used = process.cpuUsage(before);
  const result = {
    cpuMs: (used.user + used.system) / 1000,
    events: events - eventsBefore,
    writes: term.writes - writesBefore,
    bytes: term.bytes - bytesBefore,
  };
  ui?.unmount();
  abort.abort();
  await feed.done;
  return result;
}

if (process.env.CI !== undefined)
  console.log('note: CI is set, so Ink renders only on exit; unset CI for a real figure');
// Alternate the two phases a few times and take medians: on a shared machine one pair alone is noisy.
const rounds = Number(process.argv[4] ?? 3);
const pairs: Array<{ base: Awaited<ReturnType<typeof phase>>; withUi: Awaited<ReturnType<typeof phase>> }> =
  [];
for (let r = 0; r < rounds; r++) pairs.push({ base: await phase(false), withUi: await phase(true) });
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const pct = (ms: number): string => `${((ms / (seconds * 1000)) * 100).toFixed(1)} %`;
const uiCpu = pairs.map((p) => p.withUi.cpuMs - p.base.cpuMs);
const withUi = pairs[pairs.length - 1].withUi;
console.log(`${slotCount} boards, progress ${PROGRESS_HZ} Hz each, ${rounds} × ${seconds} s per phase`);
console.log(`events/s: ${Math.round(withUi.events / seconds)}`);
console.log(`feed alone:  ${pct(median(pairs.map((p) => p.base.cpuMs)))} of one core (median)`);
console.log(`feed + UI:   ${pct(median(pairs.map((p) => p.withUi.cpuMs)))} of one core (median)`);
console.log(
  `frames written: ${(withUi.writes / seconds).toFixed(1)} writes/s (3 per frame), ${Math.round(withUi.bytes / seconds / 1024)} KB/s`,
);
console.log(`UI CPU per round: ${uiCpu.map(pct).join(', ')}`);
console.log(`UI CPU: ${pct(median(uiCpu))} of one core, median (target < 5 %)`);
