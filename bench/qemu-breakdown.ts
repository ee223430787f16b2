/**
 * The breakdown on Espressif's real ROM and stub (esp-qemu, one emulator at a time under the machine-wide lock):
 * the station's pipeline, as `esp-station flash --after no-reset --baud 921600` runs it, against an emulated
 * ESP32 (ESP-AT v3.4.0.0) or ESP32-C3 (an ESP-AT-shaped set), fresh flash. Run as a child of bench/run.ts;
 * prints `RESULT {json}` (the breakdown, or why there is none).
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { chipByName } from '../src/esp/chips/index.ts';
import { imageSetFromPath } from '../src/firmware/image-set-source.ts';
import { effectiveFlashSettings, inspectImageSet } from '../src/firmware/profile-firmware.ts';
import { EspBoardLink } from '../src/station/esp-board-link.ts';
import { runPipeline, type PipelinePolicy } from '../src/station/pipeline.ts';
import { slotForPort } from '../src/cli/port-slot.ts';
import { writeC3ImageSet } from '../scripts/conformance/c3-image-set.ts';
import { QEMU_DIR, startQemu } from '../scripts/conformance/qemu.ts';
import { breakdown, type StampedEvent } from './breakdown.ts';
import { ESP_AT_DIR } from './image-sets.ts';

const chipName = (process.argv[2] ?? 'esp32') as 'esp32' | 'esp32c3';
const baud = Number(process.argv[3] ?? 921600);

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

await main().catch((err: Error) => console.log(`RESULT ${JSON.stringify({ skipped: err.message })}`));
