/**
 * Wiring a Station from config, profile, prepared firmware and ledger: detection mode and the real flasher
 * link, or (only with `run --simulate`) the simulated line from src/sim-station, loaded on demand so a real
 * run never loads the simulator.
 */
import type { StationConfig } from '../config/station-config.ts';
import type { StationProfile } from '../config/profile.ts';
import type { PreparedFirmware } from '../firmware/prepared.ts';
import { chipByName } from '../esp/chips/index.ts';
import type { SimulatedLine, SimulatedLineOptions } from '../sim-station/simulated-line.ts';
import type { StationHeader } from '../ui/controls.ts';
import { hex4 } from '../station/detect/bridge-device.ts';
import { atInterfaceRule } from '../station/detect/at-pairing.ts';
import { chooseDeviceSource } from '../station/detect/choose-source.ts';
import { StaticPortSource, type StaticPort } from '../station/detect/static-ports.ts';
import { VidPidFilter } from '../station/detect/vid-pid-filter.ts';
import { EspBoardLink } from '../station/esp-board-link.ts';
import { withIdentityReadBack, type StationIdentity } from '../station/board-identity.ts';
import type { LedgerSink } from '../station/ledger-sink.ts';
import type { PipelinePolicy } from '../station/pipeline.ts';
import { Station } from '../station/station.ts';

export interface BuildStationOptions {
  config: StationConfig;
  profile: StationProfile;
  firmware: PreparedFirmware;
  ledger: LedgerSink;
  /** The profile's identity pool (src/cli/station-identity.ts), when it has an identity section. */
  identity?: StationIdentity;
  simulate?: SimulatedLineOptions;
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
  header: StationHeader;
  detectionReason: string;
  /** Simulation only: plugs the boards (call after station.start()). */
  startSimulation?: () => void;
  /** Simulation only: resolves when every simulated board has a result and was pulled. */
  simulationDone?: Promise<void>;
  simulator?: SimulatedLine['simulator'];
  dispose(): void;
}

export function policyFromProfile(
  profile: StationProfile,
  config: Pick<StationConfig, 'baudLadder'>,
  /** The prepared firmware carries the AT test worked out from the profile and the image set. */
  firmware?: Pick<PreparedFirmware, 'atTest'>,
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
    compress: true,
    skipUnchanged: profile.skipUnchanged,
    eraseAll: profile.checks.erase === 'all',
    resetAfter: true,
    ...(profile.bootCheck && { bootCheck: profile.bootCheck }),
    ...(firmware?.atTest && { test: firmware.atTest }),
  };
}

export async function buildStation(opts: BuildStationOptions): Promise<BuiltStation> {
  const { config, profile, firmware, ledger } = opts;
  const filter = new VidPidFilter(config.portFilters.map((f) => `${hex4(f.vid)}:${hex4(f.pid)}`));
  const basePolicy = policyFromProfile(profile, config, firmware);
  // With identities the AT test reads each board's own values back instead of the release's.
  const policy =
    opts.identity && basePolicy.test
      ? {
          ...basePolicy,
          test: { ...basePolicy.test, plan: withIdentityReadBack(basePolicy.test.plan, opts.identity) },
        }
      : basePolicy;
  const header: StationHeader = {
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
    atPorts: config,
    ...(opts.identity && { identity: opts.identity }),
    ...(opts.boardTimeoutMs !== undefined && { boardTimeoutMs: opts.boardTimeoutMs }),
    ...(opts.linkLog && { linkLog: true }),
  };

  if (opts.simulate) {
    const { buildSimulatedLine } = await import('../sim-station/simulated-line.ts');
    const line = buildSimulatedLine(common, opts.simulate, filter, firmware.chip);
    return { ...line, header, detectionReason: 'simulated USB bus' };
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

  const chosen = chooseDeviceSource({ mode: config.detection, filter, atInterface: atInterfaceRule(config) });
  const station = new Station({
    ...common,
    source: chosen.source,
    detectionNote: chosen.reason,
    link: new EspBoardLink(),
  });
  return { station, header, detectionReason: chosen.reason, dispose: () => undefined };
}
