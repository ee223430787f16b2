/**
 * The two image sets the benchmark flashes: the real ESP-AT v3.4.0.0 release (the repository's test fixture,
 * test/fixtures/esp-at) and the generated demo set. Preparing is timed here (figure 3).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CHIPS } from '../src/esp/chips/index.ts';
import { ensureDemoImageSet } from '../src/firmware/demo-image-set.ts';
import { imageSetFromPath } from '../src/firmware/image-set-source.ts';
import type { PreparedFirmware } from '../src/firmware/prepared.ts';
import { effectiveFlashSettings, inspectImageSet } from '../src/firmware/profile-firmware.ts';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const ESP_AT_DIR = path.join(REPO_ROOT, 'test/fixtures/esp-at/ESP32-WROOM-32-AT-V3.4.0.0');

export interface BenchImageSet {
  name: 'esp-at-v3.4.0.0' | 'demo';
  firmware: PreparedFirmware;
  /** Raw bytes over all regions, and their compressed size (the deflate cache's streams when warm). */
  bytes: number;
  compressedBytes: number;
  /** Checking + preparing once (load + patch + compression + MD5/SHA-256), ms. */
  prepareMs: number;
}

async function load(name: BenchImageSet['name'], flasherArgs: string): Promise<BenchImageSet> {
  const t0 = performance.now();
  const set = await imageSetFromPath(flasherArgs);
  const r = await inspectImageSet(set, CHIPS.esp32, effectiveFlashSettings({ flash: {} }, set), {
    profileName: name,
    demo: name === 'demo',
  });
  const prepareMs = performance.now() - t0;
  if (!r.prepared) throw new Error(`${name}: ${r.problems.map((p) => p.message).join('; ')}`);
  const regions = r.prepared.regions;
  return {
    name,
    firmware: r.prepared,
    bytes: regions.reduce((n, x) => n + x.data.length, 0),
    compressedBytes: regions.reduce((n, x) => n + x.compressed.length, 0),
    prepareMs,
  };
}

export async function loadBenchImageSets(): Promise<BenchImageSet[]> {
  const demoDir = await ensureDemoImageSet('esp-at');
  return [
    await load('esp-at-v3.4.0.0', path.join(ESP_AT_DIR, 'flasher_args.json')),
    await load('demo', path.join(demoDir, 'flasher_args.json')),
  ];
}
