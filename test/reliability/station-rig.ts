/**
 * A real Station on simulated boards for the reliability tests and the soak: VirtualUsbBus detection, the real
 * flasher (src/esp over src/serial through the SimBinding), the demo image set prepared by src/firmware and
 * the durable LedgerWriter. Tests plug boards at port paths and wait for each one's result.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadProfile } from '../../src/config/profile.ts';
import type { StationProfile } from '../../src/config/profile.ts';
import { loadProfileFirmware } from '../../src/firmware/profile-firmware.ts';
import type { PreparedFirmware } from '../../src/firmware/prepared.ts';
import { LedgerReader } from '../../src/ledger/reader.ts';
import type { LedgerRecord } from '../../src/ledger/record.ts';
import { LedgerWriter } from '../../src/ledger/writer.ts';
import type { SimBoard } from '../../src/sim/board.ts';
import { VirtualUsbBus } from '../../src/sim/usb-bus.ts';
import { policyFromProfile } from '../../src/cli/build-station.ts';
import { SimDeviceSource } from '../../src/sim-station/sim-source.ts';
import { EspBoardLink } from '../../src/station/esp-board-link.ts';
import type { StationIdentity } from '../../src/station/board-identity.ts';
import type { StationEvent } from '../../src/station/events.ts';
import type { PipelinePolicy } from '../../src/station/pipeline.ts';
import { Station } from '../../src/station/station.ts';

export const REPO = resolve(import.meta.dirname, '../..');
export const DEMO_PROFILE = join(REPO, 'stations/demo-esp32-at.yaml');

export type ResultEvent = Extract<StationEvent, { type: 'result' }>;

let demo: Promise<{ profile: StationProfile; firmware: PreparedFirmware }> | undefined;

/** The demo profile and its prepared firmware, prepared once per process. */
export function demoFirmware(): Promise<{ profile: StationProfile; firmware: PreparedFirmware }> {
  demo ??= (async () => {
    const profile = await loadProfile(DEMO_PROFILE);
    return { profile, firmware: await loadProfileFirmware(profile) };
  })();
  return demo;
}

export interface RigOptions {
  concurrency: number;
  /** Overrides of the demo profile's policy (e.g. fewer retries to keep failing boards short). */
  policy?: Partial<PipelinePolicy>;
  /** Keep every event (tests); the soak turns this off to keep memory flat. */
  keepEvents?: boolean;
  ledgerDir?: string;
  /** Per-board identities (an IdentityIssuer on the release's mfg_nvs). */
  identity?: StationIdentity;
}

export interface Rig {
  station: Station;
  bus: VirtualUsbBus;
  ledger: LedgerWriter;
  ledgerDir: string;
  firmware: PreparedFirmware;
  profile: StationProfile;
  events: StationEvent[];
  /** Plug `board` at `portPath`; resolves with the first result of the attempt on it. */
  plug(portPath: string, board: SimBoard): Promise<ResultEvent>;
  /** Every record in the ledger directory, and how many lines did not parse. */
  records(): Promise<{ records: LedgerRecord[]; problems: number }>;
  close(): Promise<void>;
}

export async function startRig(opts: RigOptions): Promise<Rig> {
  const { profile, firmware } = await demoFirmware();
  const ownDir = opts.ledgerDir === undefined;
  const ledgerDir = opts.ledgerDir ?? mkdtempSync(join(tmpdir(), 'reliability-'));
  const ledger = await LedgerWriter.open({ dir: ledgerDir, rotate: { by: 'none' }, station: 'rel' });
  const bus = new VirtualUsbBus();
  const station = new Station({
    stationName: 'rel',
    operator: 'reliability',
    lot: 'LOT-REL',
    firmware,
    policy: {
      ...policyFromProfile(profile, {
        baudLadder: [921600, 460800, 115200],
      } as Parameters<typeof policyFromProfile>[1]),
      ...opts.policy,
    },
    concurrency: opts.concurrency,
    source: new SimDeviceSource(bus),
    link: new EspBoardLink({ binding: bus.binding, resetTimeScale: 0.02 }),
    ledger,
    ...(opts.identity && { identity: opts.identity }),
    boardTimeoutMs: 60_000,
  });
  const events: StationEvent[] = [];
  const waiting = new Map<string, (e: ResultEvent) => void>();
  station.bus.subscribe((e) => {
    if (opts.keepEvents !== false) events.push(e);
    if (e.type === 'result') {
      const w = waiting.get(e.slot);
      waiting.delete(e.slot);
      w?.(e);
    }
  });
  await station.start();
  let closed = false;
  return {
    station,
    bus,
    ledger,
    ledgerDir,
    firmware,
    profile,
    events,
    plug(portPath, board) {
      const result = new Promise<ResultEvent>((r) => waiting.set(portPath, r));
      bus.plugBoard(portPath, board);
      return result;
    },
    async records() {
      const reader = new LedgerReader(ledgerDir);
      const records: LedgerRecord[] = [];
      for await (const r of reader) records.push(r);
      return { records, problems: reader.problemCount };
    },
    async close() {
      if (closed) return;
      closed = true;
      await station.stop({ abortInFlight: true });
      for (const d of bus.list()) bus.unplug(d.portPath);
      await ledger.close();
      if (ownDir) rmSync(ledgerDir, { recursive: true, force: true });
    },
  };
}

/** Kernel-style port path of position `i` on a virtual hub tree: 2-1.1 … 2-1.7, 2-2.1 … */
export function rigPortPath(i: number): string {
  return `2-${Math.floor(i / 7) + 1}.${(i % 7) + 1}`;
}

/** The first region whose bytes on the simulated chip differ from what should be there, or undefined. */
export function flashDifference(
  board: SimBoard,
  regions: readonly { offset: number; label: string; data: Uint8Array }[],
): string | undefined {
  for (const r of regions) {
    const onChip = board.flash.read(r.offset, r.data.length);
    if (!onChip.equals(Buffer.from(r.data.buffer, r.data.byteOffset, r.data.byteLength))) {
      return `${r.label} @0x${r.offset.toString(16)}`;
    }
  }
  return undefined;
}
