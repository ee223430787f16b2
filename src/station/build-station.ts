/**
 * Wiring a Station from config, profile, prepared firmware and ledger: detection mode, the real flasher link,
 * or the simulator (virtual USB bus + simulated operator) for `run --simulate`.
 */
import type { StationConfig } from '../config/station-config.ts';
import type { StationProfile } from '../config/profile.ts';
import type { PreparedFirmware } from '../firmware/prepared.ts';
import { chipByName } from '../esp/chips/index.ts';
import { VirtualUsbBus } from '../sim/usb-bus.ts';
import { hex4 } from './detect/bridge-device.ts';
import { chooseDeviceSource } from './detect/choose-source.ts';
import { SimDeviceSource } from './detect/sim-source.ts';
import { StaticPortSource, type StaticPort } from './detect/static-ports.ts';
import { VidPidFilter } from './detect/vid-pid-filter.ts';
import { EspBoardLink } from './esp-board-link.ts';
import type { LedgerSink } from './ledger-sink.ts';
import type { PipelinePolicy } from './pipeline.ts';
import type { FaultMix } from './simulate/fault-mix.ts';
import { SimOperator } from './simulate/sim-operator.ts';
import { Station } from './station.ts';

export interface BuildStationOptions {
  config: StationConfig;
  profile: StationProfile;
  firmware: PreparedFirmware;
  ledger: LedgerSink;
  simulate?: {
    boards: number;
    mix: FaultMix;
    timing: 'fast' | 'realistic';
    seed: number;
    positions?: number;
  };
  /** Forward the flasher's boot-log lines as log events (`run --verbose`). */
  linkLog?: boolean;
  /** Fail a board that takes longer than this (default 10 minutes). */
  boardTimeoutMs?: number;
  /**
   * Fixed remote ports (socket://host:port, e.g. ser2net or `esp-station sim`) instead of USB detection: each
   * is one slot, attached once. `followsBaud`: the far end follows the chip's baud changes.
   */
  ports?: { list: readonly StaticPort[]; followsBaud: boolean };
}

export interface BuiltStation {
  station: Station;
  header: {
    stationName: string;
    profileName: string;
    recipeFingerprint: string;
    chip: string;
    operator: string;
    lot: string;
    demoFirmware: boolean;
  };
  detectionReason: string;
  /** Simulation only: plugs the boards (call after station.start()). */
  startSimulation?: () => void;
  /** Simulation only: resolves when every simulated board has a result and was pulled. */
  simulationDone?: Promise<void>;
  simulator?: { bus: VirtualUsbBus; operator: SimOperator };
  dispose(): void;
}

export function policyFromProfile(
  profile: StationProfile,
  config: Pick<StationConfig, 'baudLadder'>,
): PipelinePolicy {
  return {
    chip: profile.checks.expectChip ?? profile.chip,
    allowSecureBoot: profile.checks.allowSecureBoot,
    allowFlashEncryption: profile.checks.allowFlashEncryption,
    ...(profile.checks.minFlashSize !== undefined && { minFlashBytes: profile.checks.minFlashSize }),
    baudLadder: config.baudLadder,
    regionRetries: profile.retry.regionRetries,
    boardRetriesPerBaud: profile.retry.boardRetriesPerBaud,
    stub: profile.stub,
    skipUnchanged: profile.skipUnchanged,
    ...(profile.bootCheck && {
      bootCheck: { pattern: profile.bootCheck.pattern, timeoutMs: profile.bootCheck.timeoutMs },
    }),
  };
}

export async function buildStation(opts: BuildStationOptions): Promise<BuiltStation> {
  const { config, profile, firmware, ledger } = opts;
  const filter = new VidPidFilter(config.portFilters.map((f) => `${hex4(f.vid)}:${hex4(f.pid)}`));
  const policy = policyFromProfile(profile, config);
  const header = {
    stationName: config.station,
    profileName: firmware.profileName,
    recipeFingerprint: firmware.fingerprint,
    chip: chipByName(firmware.chip)?.displayName ?? firmware.chip,
    operator: config.operator,
    lot: config.lot,
    demoFirmware: firmware.demo,
  };
  const common = {
    stationName: config.station,
    operator: config.operator,
    lot: config.lot,
    firmware,
    policy,
    slots: config.slots,
    concurrency: config.concurrency,
    offerPresentAtStart: config.offerPresentAtStart,
    ledger,
    ...(opts.boardTimeoutMs !== undefined && { boardTimeoutMs: opts.boardTimeoutMs }),
    ...(opts.linkLog && { linkLog: true }),
  };

  if (opts.simulate) {
    const sim = opts.simulate;
    const bus = new VirtualUsbBus();
    const station = new Station({
      ...common,
      source: new SimDeviceSource(bus, filter),
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
      chip: firmware.chip,
      signal: ac.signal,
      // As many hub positions as workers (at least 8), so a 32-worker station is fed 32 boards at once.
      positions: sim.positions ?? Math.max(8, config.concurrency),
    });
    return {
      station,
      header,
      detectionReason: 'simulated USB bus',
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

  if (opts.ports && opts.ports.list.length > 0) {
    const source = new StaticPortSource(opts.ports.list);
    const station = new Station({
      ...common,
      slots: [...config.slots, ...source.slotNames()],
      // Every remote port is a slot of its own and gets a worker.
      concurrency: Math.max(config.concurrency, opts.ports.list.length),
      source,
      detectionNote: `${opts.ports.list.length} remote port${opts.ports.list.length === 1 ? '' : 's'} (socket://)`,
      link: new EspBoardLink({ remoteFollowsBaud: opts.ports.followsBaud }),
    });
    return { station, header, detectionReason: 'remote ports', dispose: () => undefined };
  }

  const chosen = chooseDeviceSource({ mode: config.detection, filter });
  const station = new Station({
    ...common,
    source: chosen.source,
    detectionNote: chosen.reason,
    link: new EspBoardLink(),
  });
  return { station, header, detectionReason: chosen.reason, dispose: () => undefined };
}
