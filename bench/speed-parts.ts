/**
 * The speed parts of `npm run bench` (issue 17): where one board's time goes (simulator and QEMU), each lever
 * measured on its own, and the line's boards per hour. Every run is a child process of its own.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DEFLATE_CACHE_ENV, openDeflateCache } from '../src/firmware/deflate-cache.ts';
import { startDeflateFill } from '../src/firmware/deflate-fill.ts';
import { DEFAULT_STUB_RELEASE } from '../src/esp/stub.ts';
import { STUB_FLASH_WRITE_SIZE } from '../src/esp/loader.ts';
import { ladderForBridge, usbBridge } from '../src/esp/usb-bridges.ts';
import type { Breakdown } from './breakdown.ts';
import { REPO_ROOT, type BenchImageSet } from './image-sets.ts';
import { simulateLine, type LineResult } from './line-model.ts';
import type { StationVariant, VariantResult } from './station-variant-child.ts';
import { table } from './table.ts';

const s = (ms: number) => (ms / 1000).toFixed(2);

function child<T>(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<T> {
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, ['--import', 'tsx', ...args], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env,
    });
    let out = '';
    c.stdout.on('data', (d: Buffer) => (out += d.toString()));
    c.stderr.on('data', (d: Buffer) => (out += d.toString()));
    c.on('exit', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('RESULT '));
      if (line) resolve(JSON.parse(line.slice(7)) as T);
      else reject(new Error(`${args.join(' ')} exited ${code}: ${out.slice(-400)}`));
    });
  });
}

/** One station run in a child; `zlib9` runs it with the deflate cache off (what a cold station sends). */
export const runVariant = (v: StationVariant, opts: { zlib9?: boolean } = {}) =>
  child<VariantResult>(
    ['bench/station-variant-child.ts', JSON.stringify(v)],
    opts.zlib9 ? { ...process.env, [DEFLATE_CACHE_ENV]: 'off' } : process.env,
  );

interface QemuBreakdown {
  result?: 'pass' | 'fail';
  message?: string;
  breakdown?: Breakdown;
  skipped?: string;
}

// ---- breakdown ---------------------------------------------------------------------------------------------

export interface BreakdownPart {
  sim?: Breakdown;
  simError?: string;
  qemu: Record<string, QemuBreakdown>;
}

export async function breakdownPart(baud: number, qemuChips: readonly string[]): Promise<BreakdownPart> {
  const part: BreakdownPart = { qemu: {} };
  try {
    const r = await runVariant({ set: 'esp-at-v3.4.0.0', baud });
    if (r.run.result === 'pass') part.sim = r.breakdown;
    else part.simError = r.run.message;
  } catch (err) {
    part.simError = (err as Error).message;
  }
  // Both tools on each emulated chip, one after the other: the same stub, so the columns compare phase by phase.
  for (const chip of qemuChips) {
    for (const tool of ['esp-station', 'esptool-js'] as const) {
      part.qemu[`${chip} ${tool}`] = await child<QemuBreakdown>([
        'bench/qemu-breakdown.ts',
        chip,
        String(baud),
        tool,
      ]).catch((err: Error) => ({ skipped: err.message }));
    }
  }
  return part;
}

/**
 * Wire time of one full stub block and its acknowledgement, ms: 0x4000 bytes of deflate output, SLIP-escaped
 * (0xC0 and 0xDB, 2 of 256 byte values, take two bytes each: ~1.4 ms per block at 921600), the 16-byte data
 * header, the 8-byte command header, the SLIP ends, and the stub's 12-byte reply.
 */
export function blockWireMs(baud: number): number {
  const request = STUB_FLASH_WRITE_SIZE * (1 + 2 / 256) + 16 + 8 + 2;
  return ((request + 12) * 10 * 1000) / baud;
}

export function printBreakdown(part: BreakdownPart, baud: number): void {
  console.log(
    `\n0. Breakdown: where one board's time goes (ESP-AT set on the simulated ESP32 in realistic timing; ` +
      `the real ROM + stub under QEMU), ${baud} baud, fresh flash, seconds`,
  );
  const columns: [string, Breakdown | undefined, string | undefined][] = [
    ['simulator ESP32', part.sim, part.simError],
    ...Object.entries(part.qemu).map(([chip, q]): [string, Breakdown | undefined, string | undefined] => [
      `QEMU ${chip}`,
      q.result === 'pass' ? q.breakdown : undefined,
      q.skipped ?? (q.result !== 'pass' ? (q.message ?? 'failed') : undefined),
    ]),
  ];
  const rows: (string | number)[][] = [];
  const row = (name: string, f: (b: Breakdown) => string) =>
    rows.push([name, '', ...columns.map(([, b]) => (b ? f(b) : '—'))]);
  row('connect (reset, sync, detect)', (b) => s(b.connectMs));
  row('identify (eFuses, MAC)', (b) => s(b.identifyMs));
  row('checks (incl. flash id via stub)', (b) => s(b.checkMs));
  row('stub upload (115200)', (b) => s(b.stubUploadMs));
  row('baud switch', (b) => s(b.baudSwitchMs));
  const labels = [...new Set(columns.flatMap(([, b]) => b?.regions.map((r) => r.label) ?? []))];
  for (const label of labels) {
    const reg = (b: Breakdown) => b.regions.find((r) => r.label === label);
    row(`${label}: begin + first block`, (b) => (reg(b) ? s(reg(b)!.firstBlockMs) : '—'));
    row(`${label}: further blocks (n × median ms)`, (b) => {
      const r = reg(b);
      return r ? `${s(r.blocksMs)} (${r.blocks} × ${r.medianBlockMs.toFixed(0)})` : '—';
    });
    row(`${label}: end + MD5`, (b) => (reg(b) ? s(reg(b)!.endMs) : '—'));
  }
  row('final verify (regions a later one may clobber)', (b) => s(b.verifyMs));
  row('reset (+ boot check)', (b) => s(b.resetMs));
  row('between phases', (b) => s(b.otherMs));
  row('  of which deflating each region (esptool-js)', (b) => (b.hostCompressMs ? s(b.hostCompressMs) : '—'));
  row('total', (b) => s(b.totalMs));
  console.log(table(['step', '', ...columns.map(([n]) => n)], rows));
  for (const [name, b, err] of columns) if (!b) console.log(`${name}: ${err ?? 'no run'}`);
  console.log(
    `A full 16 KB block and its acknowledgement are ${blockWireMs(baud).toFixed(1)} ms on the wire at ${baud} (SLIP ` +
      'escapes and headers included); a median block interval above that is host and simulator time between the ' +
      'acknowledgement and the next block, plus flash work not hidden behind the next block.',
  );
}

// ---- levers ------------------------------------------------------------------------------------------------

export interface Lever {
  lever: string;
  variant: string;
  seconds: number;
  /** Versus the lever's own reference row. */
  delta?: number;
  note: string;
}

const FTDI_FT232R = { vid: '0403', pid: '6001' };
const CH340 = { vid: '1a86', pid: '7523' };
/** The same hardware under an id the table does not know: the station as it was before the table. */
const UNLISTED_BRIDGE = { vid: '1a86', pid: 'ffff' };

export async function leversPart(baud: number, sets: readonly BenchImageSet[]): Promise<Lever[]> {
  const levers: Lever[] = [];
  const set = 'esp-at-v3.4.0.0' as const;
  const total = (r: VariantResult) => (r.run.result === 'pass' ? r.run.totalMs / 1000 : Number.NaN);
  const pair = async (
    lever: string,
    ref: [string, StationVariant | VariantResult],
    alt: [string, StationVariant | VariantResult],
    note: (a: VariantResult, b: VariantResult) => string,
    refOpts: { zlib9?: boolean } = {},
  ) => {
    const a = 'run' in ref[1] ? ref[1] : await runVariant(ref[1], refOpts);
    const b = 'run' in alt[1] ? alt[1] : await runVariant(alt[1]);
    levers.push({ lever, variant: ref[0], seconds: total(a), note: a.run.message ?? '' });
    levers.push({ lever, variant: alt[0], seconds: total(b), delta: total(b) - total(a), note: note(a, b) });
  };
  const ref = await runVariant({ set, baud });

  // 1. Keeping the stub fed. The station (like esptool) sends the next block the moment the previous one is
  // acknowledged: the stub's second receive buffer is then filling while it writes. The ceiling of anything
  // deeper is the time between blocks that is not wire time — and deeper loses frames on the real stub.
  const app = ref.breakdown?.regions.find((r) => r.label === 'app');
  if (app) {
    const idle = Math.max(0, app.medianBlockMs - blockWireMs(baud));
    levers.push({
      lever: 'stub fed',
      variant: 'one block ahead (station, esptool)',
      seconds: total(ref),
      note: `app: ${app.blocks} blocks, median ${app.medianBlockMs.toFixed(0)} ms apart (wire ${blockWireMs(baud).toFixed(0)} ms)`,
    });
    levers.push({
      lever: 'stub fed',
      variant: 'deeper (ceiling, not run)',
      seconds: total(ref) - (idle * app.blocks) / 1000,
      delta: -(idle * app.blocks) / 1000,
      note:
        `at most ${idle.toFixed(1)} ms × ${app.blocks} blocks; the stub has 2 frame buffers and loses a 3rd frame ` +
        '(test/sim/stub-receive-buffers.test.ts): not taken',
    });
  }

  // 2. The stub release: v1.1.0+ reads a sector before erasing it and skips blank ones (a fresh board).
  await pair(
    'stub release',
    [`${DEFAULT_STUB_RELEASE} (blank-sector skip)`, ref],
    ['v1.0.0 (erases everything)', { set, baud, stubRelease: 'v1.0.0' }],
    (a, b) => `${DEFAULT_STUB_RELEASE} saves ${(total(b) - total(a)).toFixed(2)} s on a fresh board: kept`,
  );

  // 3. FTDI latency timer: chip → host bytes wait for a full USB packet or the timer.
  await pair(
    'FTDI latency timer',
    ['FT232R, 16 ms (driver default)', { set, baud, bridge: FTDI_FT232R, usbLatencyMs: 16 }],
    ['FT232R, 1 ms (set at slot attach)', { set, baud, bridge: FTDI_FT232R, usbLatencyMs: 1 }],
    (a, b) =>
      `1 ms saves ${(total(a) - total(b)).toFixed(2)} s per board: kept (sysfs latency_timer at attach)`,
  );

  // 4. The ladder's top from the bridge: a station configured for 3 Mbaud meets a CH340 (2 Mbaud at most). Without
  // the table the attempt fails at the switch and the board is retried at the next rung (921600); with it, the
  // ladder starts at the bridge's top.
  const configured = [3000000, 921600, 460800, 115200];
  const capped = ladderForBridge(configured, Number.parseInt(CH340.vid, 16), Number.parseInt(CH340.pid, 16));
  const ch340 = { bridge: CH340, bridgeMaxBaud: usbBridge(0x1a86, 0x7523)!.topBaud! };
  await pair(
    'bridge top baud',
    [
      `CH340 unknown to the table, ladder ${configured[0]} → ${configured[1]} …`,
      { set, baud: configured[0], baudLadder: [...configured], ...ch340, bridge: UNLISTED_BRIDGE },
    ],
    [`CH340, ladder from ${capped[0]} (table)`, { set, baud: capped[0], baudLadder: [...capped], ...ch340 }],
    (a, b) =>
      `top ${usbBridge(0x1a86, 0x7523)?.topBaud}; finished at ${a.run.baud} vs ${b.run.baud} baud, ` +
      `${(total(a) - total(b)).toFixed(2)} s saved: kept`,
  );

  // 5. Deflate: zopfli's streams, packed once per release into the deflate cache (src/firmware/deflate-cache.ts),
  // against zlib-9 made at each preparation; per board at this baud and at 115200 (both wire-bound), and what
  // packing costs once (a cold fill into an empty directory, through the product's own fill).
  const esp = sets.find((x) => x.name === set);
  if (esp) {
    const dir = await mkdtemp(path.join(tmpdir(), 'bench-deflate-'));
    const fill = await startDeflateFill(esp.firmware.regions, { cache: openDeflateCache(dir) }).done;
    await rm(dir, { recursive: true, force: true });
    for (const b of [baud, 115200]) {
      await pair(
        'deflate',
        [`zlib 9 at each preparation, ${b} baud`, { set, baud: b }],
        [`deflate cache (zopfli, packed once), ${b} baud`, b === baud ? ref : { set, baud: b }],
        (a, c) =>
          fill.failure
            ? `fill failed: ${fill.failure}`
            : `${fill.zlib9Bytes} → ${fill.packedBytes} B sent (${((100 * (fill.packedBytes - fill.zlib9Bytes)) / fill.zlib9Bytes).toFixed(1)} %), ` +
              `${(total(c) - total(a)).toFixed(2)} s per board; packing once: ${(fill.ms / 1000).toFixed(1)} s: taken`,
        { zlib9: true },
      );
    }
  }
  return levers;
}

export function printLevers(levers: readonly Lever[]): void {
  console.log('\n6. Levers, each on its own (simulated ESP32, ESP-AT set, fresh board; seconds per board)');
  console.log(
    table(
      ['lever', 'variant', 'seconds', 'Δ s', 'effect'],
      levers.map((l) => [
        l.lever,
        l.variant,
        Number.isNaN(l.seconds) ? 'FAIL' : l.seconds.toFixed(2),
        l.delta === undefined ? '' : `${l.delta >= 0 ? '+' : ''}${l.delta.toFixed(2)}`,
        l.note,
      ]),
    ),
  );
}

// ---- the line ----------------------------------------------------------------------------------------------

export interface LinePart {
  boardS: number;
  rows: { name: string; boardS: number; line: LineResult; slotsOneOperatorKeepsBusy: number }[];
}

export const LINE = {
  slots: 16,
  durationS: 30 * 60,
  reactionS: [2, 8] as [number, number],
  unplugS: 2,
  plugS: 3,
};

export function linePart(stationBoardS: number): LinePart {
  const tools: [string, number][] = [
    ['esp-station (measured here)', stationBoardS],
    ['esptool at 921600 (anchor 17–20 s)', 18.5],
    ['Flash Download Tool at 115200 (anchor 85 s)', 85],
  ];
  const hands = LINE.unplugS + LINE.plugS;
  return {
    boardS: stationBoardS,
    rows: tools.map(([name, boardS]) => ({
      name,
      boardS,
      line: simulateLine({ ...LINE, boardS }),
      slotsOneOperatorKeepsBusy: (boardS + hands + (LINE.reactionS[0] + LINE.reactionS[1]) / 2) / hands,
    })),
  };
}

export function printLine(part: LinePart): void {
  console.log(
    `\n7. Line: ${LINE.slots} slots, one operator (reacts ${LINE.reactionS[0]}–${LINE.reactionS[1]} s after a result, ` +
      `${LINE.unplugS} s to unplug, ${LINE.plugS} s to plug), ${LINE.durationS / 60} simulated minutes`,
  );
  console.log(
    table(
      [
        'tool',
        '',
        's/board',
        'boards/h',
        'slot: flashing',
        'waiting for operator',
        'being handled',
        'operator busy',
        'limited by',
        'slots 1 operator keeps busy',
      ],
      part.rows.map((r) => [
        r.name,
        '',
        r.boardS.toFixed(1),
        r.line.boardsPerHour.toFixed(0),
        `${(r.line.flashingShare * 100).toFixed(0)} %`,
        `${(r.line.waitingForOperatorShare * 100).toFixed(0)} %`,
        `${(r.line.handlingShare * 100).toFixed(0)} %`,
        `${(r.line.operatorBusyShare * 100).toFixed(0)} %`,
        r.line.limitedBy,
        r.slotsOneOperatorKeepsBusy.toFixed(1),
      ]),
    ),
  );
  console.log(
    "Event-driven in simulated time (bench/line-model.ts): the only measured input is the station's own board " +
      'time from the breakdown run; the anchors go through the same line. With the chip this fast the line waits ' +
      'for hands: more boards per hour come from a second operator or fewer slots per operator, not from the wire.',
  );
}
