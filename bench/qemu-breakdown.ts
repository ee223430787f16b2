/**
 * The breakdown on Espressif's real ROM and stub (esp-qemu, one emulator at a time under the machine-wide lock):
 * the station's pipeline, as `esp-station flash --after no-reset --baud 921600` runs it, against an emulated
 * ESP32 (ESP-AT v3.4.0.0) or ESP32-C3 (an ESP-AT-shaped set), fresh flash; with `esptool-js` as the third
 * argument, esptool-js 0.7 on the same set and emulator instead (same stub), read from its stamped progress
 * lines. Run as a child of bench/run.ts; prints `RESULT {json}` (the breakdown, or why there is none).
 *
 *   node --import tsx bench/qemu-breakdown.ts esp32c3 921600 [esp-station|esptool-js]
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { chipByName } from '../src/esp/chips/index.ts';
import { imageSetFromPath } from '../src/firmware/image-set-source.ts';
import { effectiveFlashSettings, inspectImageSet } from '../src/firmware/profile-firmware.ts';
import { EspBoardLink } from '../src/station/esp-board-link.ts';
import { runPipeline, type PipelinePolicy } from '../src/station/pipeline.ts';
import { slotForPort } from '../src/cli/port-slot.ts';
import { writeC3ImageSet } from '../scripts/conformance/c3-image-set.ts';
import { QEMU_DIR, QEMU_FLASH_BYTES, startQemu } from '../scripts/conformance/qemu.ts';
import type { PreparedRegion } from '../src/firmware/prepared-region.ts';
import { esptoolJsBreakdown, parseTimeline } from './esptool-js-timeline.ts';
import { breakdown, type StampedEvent } from './breakdown.ts';
import { ESP_AT_DIR, REPO_ROOT } from './image-sets.ts';

const ESPTOOL_JS_TCP = path.join(REPO_ROOT, 'scripts/conformance/esptool-js-tcp.ts');

const chipName = (process.argv[2] ?? 'esp32') as 'esp32' | 'esp32c3';
const baud = Number(process.argv[3] ?? 921600);
const tool = (process.argv[4] ?? 'esp-station') as 'esp-station' | 'esptool-js';

async function main(): Promise<void> {
  if (!existsSync(path.join(QEMU_DIR, 'esp-qemu'))) {
    console.log(`RESULT ${JSON.stringify({ skipped: `no esp-qemu at ${QEMU_DIR} (set ESP_QEMU_DIR)` })}`);
    return;
  }
  const chip = chipByName(chipName)!;
  const work = await mkdtemp(path.join(os.tmpdir(), 'esp-bench-qemu-'));
  try {
    const flasherArgs =
      chipName === 'esp32'
        ? path.join(ESP_AT_DIR, 'flasher_args.json')
        : await writeC3ImageSet(
            path.join(work, 'c3-set'),
            path.join(ESP_AT_DIR, 'customized_partitions/mfg_nvs.bin'),
          );
    const set = await imageSetFromPath(flasherArgs);
    const r = await inspectImageSet(set, chip, effectiveFlashSettings({ flash: {} }, set));
    if (!r.prepared) throw new Error(r.problems.map((p) => p.message).join('; '));
    const policy: PipelinePolicy = {
      chip: chip.name,
      allowSecureBoot: false,
      allowFlashEncryption: false,
      baudLadder: [baud],
      regionRetries: 0,
      boardRetriesPerBaud: 0,
      stub: true,
      compress: true,
      skipUnchanged: false,
      eraseAll: false,
      // The emulator has no reset lines (esp-qemu README): `--after no-reset`, as conformance runs it.
      resetAfter: false,
    };
    if (tool === 'esptool-js') {
      console.log(`RESULT ${JSON.stringify(await esptoolJs(r.prepared.regionsFor(QEMU_FLASH_BYTES), work))}`);
      return;
    }
    const q = await startQemu(chipName, path.join(work, 'flash.bin'));
    const events: StampedEvent[] = [];
    try {
      const port = `socket://127.0.0.1:${q.port}`;
      const outcome = await runPipeline({
        slot: await slotForPort(port),
        link: new EspBoardLink({ remoteFollowsBaud: true }),
        policy,
        firmware: r.prepared,
        signal: new AbortController().signal,
        publish: (e) => events.push({ t: performance.now(), e }),
        attemptNumberFor: () => 1,
        progressIntervalMs: 0,
        linkLog: true,
        now: () => performance.now(),
      });
      console.log(
        `RESULT ${JSON.stringify({
          result: outcome.result,
          ...(outcome.message !== undefined && { message: outcome.message }),
          breakdown: breakdown(events, outcome),
        })}`,
      );
    } finally {
      await q.stop();
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** esptool-js 0.7 with the same stub on the same emulated chip, its progress lines read into the breakdown. */
async function esptoolJs(regions: readonly PreparedRegion[], work: string): Promise<object> {
  const pairs: string[] = [];
  for (const region of regions) {
    const file = path.join(work, `${region.offset.toString(16)}.bin`);
    await writeFile(file, region.data);
    pairs.push(`0x${region.offset.toString(16)}=${file}`);
  }
  const q = await startQemu(chipName, path.join(work, 'flash.bin'));
  let out: { stdout: string; stderr: string };
  try {
    out = await new Promise((resolve) => {
      const c = spawn(
        process.execPath,
        ['--import', 'tsx', ESPTOOL_JS_TCP, `127.0.0.1:${q.port}`, String(baud), ...pairs],
        { env: { ...process.env, ESPTOOL_JS_TIMELINE: '1' }, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let stdout = '';
      let stderr = '';
      c.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      c.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      c.on('exit', () => resolve({ stdout, stderr }));
    });
  } finally {
    await q.stop();
  }
  const verdict = JSON.parse(
    out.stdout
      .trim()
      .split('\n')
      .reverse()
      .find((l) => l.startsWith('{')) ?? '{}',
  ) as { ms?: number; ok?: boolean; message?: string };
  if (!verdict.ok) return { result: 'fail', message: verdict.message ?? out.stderr.slice(-300) };
  const b = esptoolJsBreakdown(parseTimeline(out.stderr), verdict.ms ?? 0);
  if (!b) return { result: 'fail', message: 'esptool-js printed no recognisable progress lines' };
  // Its lines name offsets only: label them as the station does.
  for (const reg of b.regions) reg.label = regions.find((x) => x.offset === reg.offset)?.label ?? reg.label;
  return { result: 'pass', breakdown: b };
}

await main().catch((err: Error) => console.log(`RESULT ${JSON.stringify({ skipped: err.message })}`));
