/**
 * The simulated line for `run --simulate`: a virtual USB bus the station detects boards on, the flasher link
 * over the simulator's serialport binding, and a simulated operator plugging and pulling boards over time.
 * Loaded by cli/build-station.ts only when --simulate is given, so a real run never loads the simulator.
 */
import type { ChipName } from '../esp/chips/chip.ts';
import { VirtualUsbBus } from '../sim/usb-bus.ts';
import { atInterfaceRule, type AtPortConfig } from '../station/detect/at-pairing.ts';
import type { VidPidFilter } from '../station/detect/vid-pid-filter.ts';
import { EspBoardLink } from '../station/esp-board-link.ts';
import { Station, type StationOptions } from '../station/station.ts';
import type { FaultMix } from './fault-mix.ts';
import { SIM_AT_INTERFACE, SimOperator } from './sim-operator.ts';
import { SimDeviceSource } from './sim-source.ts';

export interface SimulatedLineOptions {
  boards: number;
  mix: FaultMix;
  timing: 'fast' | 'realistic';
  seed: number;
  positions?: number;
  /** Chip revision of the boards (major*100+minor); default: what ships today. */
  revision?: number;
  /** USB latency timer of the simulated bridges, ms (FTDI default 16); absent = off. */
  usbLatencyMs?: number;
}

export interface SimulatedLine {
  station: Station;
  /** Plugs the boards (call after station.start()). */
  startSimulation: () => void;
  /** Resolves when every simulated board has a result and was pulled. */
  simulationDone: Promise<void>;
  simulator: { bus: VirtualUsbBus; operator: SimOperator };
  dispose(): void;
}

export function buildSimulatedLine(
  common: Omit<StationOptions, 'source' | 'link' | 'detectionNote'> & { concurrency: number },
  sim: SimulatedLineOptions,
  filter: VidPidFilter,
  chip: ChipName,
): SimulatedLine {
  const bus = new VirtualUsbBus();
  // The simulated fixture is wired like a dual-bridge one: channel 1 of each board's CP2105 is its AT port.
  // config.yaml's rule, when it has one, still decides (a test may wire slots otherwise).
  const atPorts: AtPortConfig = common.atPorts?.atPort
    ? common.atPorts
    : { slots: common.atPorts?.slots ?? [], atPort: { interface: SIM_AT_INTERFACE } };
  const station = new Station({
    ...common,
    atPorts,
    source: new SimDeviceSource(bus, filter, atInterfaceRule(atPorts)),
    detectionNote: `simulated USB bus, ${sim.boards} boards, seed ${sim.seed} (repeat this run with --seed ${sim.seed})`,
    // Fast simulated chips need no real reset waits; realistic ones get the real sequence timing.
    link: new EspBoardLink({ binding: bus.binding, resetTimeScale: sim.timing === 'fast' ? 0.02 : 1 }),
  });
  const ac = new AbortController();
  const operator = new SimOperator({
    bus,
    events: station.bus,
    boards: sim.boards,
    mix: sim.mix,
    timing: sim.timing,
    seed: sim.seed,
    chip,
    ...(sim.revision !== undefined && { revision: sim.revision }),
    ...(sim.usbLatencyMs !== undefined && { usbLatencyMs: sim.usbLatencyMs }),
    signal: ac.signal,
    // As many hub positions as workers (at least 8), so a 32-worker station is fed 32 boards at once.
    positions: sim.positions ?? Math.max(8, common.concurrency),
  });
  return {
    station,
    startSimulation: () => operator.start(),
    simulationDone: operator.done,
    simulator: { bus, operator },
    dispose: () => {
      ac.abort();
      operator.stop();
      for (const d of bus.list()) bus.unplug(d.portPath);
    },
  };
}
