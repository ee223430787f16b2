/**
 * One station run on one simulated ESP32 in a process of its own, with one thing changed (a lever):
 *   node --import tsx bench/station-variant-child.ts '<json StationVariant>'
 * Prints `RESULT {json}`: the run, its breakdown, and the frames the chip's receiver lost.
 */
import type { StubRelease } from '../src/esp/stub.ts';
import { breakdown, type Breakdown, type StampedEvent } from './breakdown.ts';
import { loadBenchImageSets } from './image-sets.ts';
import { benchPolicy, flashWithStation, type StationRun } from './single-board.ts';
import type { AttemptOutcome } from '../src/station/pipeline.ts';

export interface StationVariant {
  set: 'esp-at-v3.4.0.0' | 'demo';
  baud: number;
  stubRelease?: StubRelease;
  usbLatencyMs?: number;
  bridge?: { vid: string; pid: string };
  bridgeMaxBaud?: number;
  /** The ladder as given (default: just `baud`). */
  baudLadder?: number[];
}

export interface VariantResult {
  run: StationRun;
  breakdown?: Breakdown;
  ladder: number[];
}

const spec = JSON.parse(process.argv[2] ?? '{}') as StationVariant;
const set = (await loadBenchImageSets()).find((s) => s.name === spec.set);
if (!set) {
  console.error(`unknown image set ${spec.set}`);
  process.exit(2);
}
const events: StampedEvent[] = [];
let outcome: AttemptOutcome | undefined;
const policy = { ...benchPolicy(spec.baud), ...(spec.baudLadder && { baudLadder: spec.baudLadder }) };
const run = await flashWithStation(set.firmware, spec.baud, new AbortController().signal, {
  ...(spec.stubRelease && { stubRelease: spec.stubRelease }),
  ...(spec.usbLatencyMs !== undefined && { usbLatencyMs: spec.usbLatencyMs }),
  ...(spec.bridge && { bridge: spec.bridge }),
  ...(spec.bridgeMaxBaud !== undefined && { bridgeMaxBaud: spec.bridgeMaxBaud }),
  policy,
  onEvent: (x) => events.push(x),
  onOutcome: (o) => (outcome = o),
});
const result: VariantResult = {
  run,
  ...(outcome && { breakdown: breakdown(events, outcome) }),
  ladder: policy.baudLadder as number[],
};
console.log(`RESULT ${JSON.stringify(result)}`);
