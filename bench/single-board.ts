/**
 * Figure 1: one simulated ESP32 (realistic timing) on a SimBinding serial port, flashed by the station's own
 * pipeline (connect → identify → check → stub → write → verify → reset, exactly as `esp-station run` does it)
 * and by esptool-js 0.7 (Espressif's npm ESPLoader) over the same kind of port, same chip, same image set.
 */
import { createHash } from 'node:crypto';
import { ESPLoader, Transport as EsptoolTransport } from 'esptool-js';
import type { PreparedFirmware } from '../src/firmware/prepared.ts';
import type { StubRelease } from '../src/esp/stub.ts';
import { SimBinding } from '../src/sim/binding.ts';
import { SimBoard } from '../src/sim/board.ts';
import { EspBoardLink } from '../src/station/esp-board-link.ts';
import { runPipeline, type AttemptOutcome, type PipelinePolicy } from '../src/station/pipeline.ts';
import type { StampedEvent } from './breakdown.ts';
import { EsptoolJsPort } from '../test/support/esptool-js-port.ts';
// Loaded up front: openTransport imports it on first use, and compiling it must not count as connect time.
import '../src/serial/serial-transport.ts';

export const FLASH_BYTES = 4 * 1024 * 1024;

export interface StationRun {
  result: 'pass' | 'fail';
  message?: string;
  totalMs: number;
  /** connect (incl. identify + check), stub (upload + baud change), write (incl. per-region MD5), verify, reset. */
  phases: { connect: number; stub: number; write: number; verify: number; reset: number };
  baud: number;
  bytesToChip: number;
  bytesToHost: number;
}

export interface EsptoolJsRun {
  totalMs: number;
  ok: boolean;
  message?: string;
  bytesToChip: number;
  bytesToHost: number;
}

export function benchPolicy(baud: number): PipelinePolicy {
  return {
    chip: 'esp32',
    allowSecureBoot: false,
    allowFlashEncryption: false,
    baudLadder: [baud],
    regionRetries: 0,
    boardRetriesPerBaud: 0,
    stub: true,
    compress: true,
    skipUnchanged: false,
    eraseAll: false,
    resetAfter: true,
  };
}

let boardNo = 0;

export interface StationRunOptions {
  stubRelease?: StubRelease;
  /** The bridge's USB latency timer on the simulated board, ms (0: bytes pass straight through). */
  usbLatencyMs?: number;
  /** The USB bridge the board sits behind (default a CP2102N, 10c4:ea60). */
  bridge?: { vid: string; pid: string };
  /** What that bridge holds at most (the simulated bridge garbles above it). */
  bridgeMaxBaud?: number;
  policy?: PipelinePolicy;
  /** Every pipeline event, stamped; turns on per-block progress and the link's log lines. */
  onEvent?: (x: StampedEvent) => void;
  onOutcome?: (o: AttemptOutcome) => void;
}

/** One board through the station pipeline; the board is fresh (erased flash) unless given. */
export async function flashWithStation(
  firmware: PreparedFirmware,
  baud: number,
  signal: AbortSignal,
  opts: StationRunOptions = {},
): Promise<StationRun> {
  const binding = new SimBinding();
  const board = new SimBoard({
    chip: 'esp32',
    flashSize: FLASH_BYTES,
    timing: 'realistic',
    seed: ++boardNo,
    ...(opts.usbLatencyMs !== undefined && { usbLatencyMs: opts.usbLatencyMs }),
    ...(opts.bridgeMaxBaud !== undefined && { bridgeMaxBaud: opts.bridgeMaxBaud }),
  });
  const tty = `/dev/ttyBENCH${boardNo}`;
  const bridge = opts.bridge ?? { vid: '10c4', pid: 'ea60' };
  binding.plug(tty, board, { vendorId: bridge.vid, productId: bridge.pid });
  try {
    const onEvent = opts.onEvent;
    const outcome = await runPipeline({
      slot: { portPath: `bench-${boardNo}`, name: 'bench', tty, ...bridge },
      link: new EspBoardLink({ binding: binding as never, stubRelease: opts.stubRelease }),
      policy: opts.policy ?? benchPolicy(baud),
      firmware,
      signal,
      publish: onEvent ? (e) => onEvent({ t: performance.now(), e }) : () => undefined,
      attemptNumberFor: () => 1,
      now: () => performance.now(),
      // Every acknowledged block and the link's own lines, for the breakdown.
      ...(onEvent && { progressIntervalMs: 0, linkLog: true }),
    });
    opts.onOutcome?.(outcome);
    const p = outcome.phases;
    return {
      result: outcome.result,
      ...(outcome.message !== undefined && { message: outcome.message }),
      totalMs: outcome.end - outcome.start,
      phases: {
        connect: (p.connect ?? 0) + (p.identify ?? 0) + (p.check ?? 0),
        stub: p.stub ?? 0,
        write: p.write ?? 0,
        verify: p.verify ?? 0,
        reset: (p.reset ?? 0) + (p.bootCheck ?? 0),
      },
      baud: outcome.baud ?? 0,
      bytesToChip: board.stats.toChip,
      bytesToHost: board.stats.toHost,
    };
  } finally {
    binding.unplug(tty);
  }
}

/**
 * esptool-js doing what `esptool.py write_flash` does by default: reset + sync, stub, baud change, compressed
 * writes with an MD5 check per file, hard reset. Header patching is off ('keep') so both tools write the same
 * bytes (the prepared regions are already patched).
 */
export async function flashWithEsptoolJs(firmware: PreparedFirmware, baud: number): Promise<EsptoolJsRun> {
  const binding = new SimBinding();
  const board = new SimBoard({ chip: 'esp32', flashSize: FLASH_BYTES, timing: 'realistic', seed: ++boardNo });
  const tty = `/dev/ttyBENCH${boardNo}`;
  binding.plug(tty, board, { vendorId: '10c4', productId: 'ea60' });
  const transport = new EsptoolTransport(new EsptoolJsPort(binding, tty) as never, false);
  const terminal = { clean() {}, writeLine() {}, write() {} };
  const t0 = performance.now();
  try {
    const loader = new ESPLoader({
      transport,
      baudrate: baud,
      romBaudrate: 115200,
      terminal,
      debugLogging: false,
    });
    await loader.main();
    await loader.writeFlash({
      fileArray: firmware.regions.map((r) => ({ address: r.offset, data: r.data })),
      flashMode: 'keep',
      flashFreq: 'keep',
      flashSize: 'keep',
      eraseAll: false,
      compress: true,
      calculateMD5Hash: (d: Uint8Array) => createHash('md5').update(d).digest('hex'),
    });
    await loader.after('hard_reset');
    const totalMs = performance.now() - t0;
    const ok = firmware.regions.every(
      (r) => createHash('md5').update(board.flash.read(r.offset, r.data.length)).digest('hex') === r.md5,
    );
    return { totalMs, ok, bytesToChip: board.stats.toChip, bytesToHost: board.stats.toHost };
  } catch (err) {
    return {
      totalMs: performance.now() - t0,
      ok: false,
      message: (err as Error).message,
      bytesToChip: board.stats.toChip,
      bytesToHost: board.stats.toHost,
    };
  } finally {
    await transport.disconnect().catch(() => undefined);
    binding.unplug(tty);
  }
}
