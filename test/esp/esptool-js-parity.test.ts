/**
 * Conformance: esptool-js 0.7.0 (Espressif's client) and esp-station's flasher, each on a fresh simulated
 * ESP32, write the ESP-AT v3.4.0.0 release. The two flash chips must end up byte-identical — every byte of
 * the 4 MB, including what each leaves erased.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ESPLoader, Transport } from 'esptool-js';
import { SimBinding } from '../../src/sim/binding.ts';
import { SimBoard } from '../../src/sim/board.ts';
import { EsptoolJsPort } from '../support/esptool-js-port.ts';
import { imageSetFromPath } from '../../src/firmware/image-set-source.ts';
import { effectiveFlashSettings, inspectImageSet } from '../../src/firmware/profile-firmware.ts';
import { CHIPS } from '../../src/esp/chips/index.ts';
import { writeRegions } from '../../src/esp/write-regions.ts';
import { simLoader } from './sim-link.ts';
import { REAL_AT_DIR } from '../firmware/fixture-paths.ts';
import { md5hex } from '../support/md5.ts';

const ESP_AT = REAL_AT_DIR;
const FLASH = 4 * 1024 * 1024;
const BOARD = { chip: 'esp32' as const, mac: '24:0a:c4:12:34:56', flashSize: FLASH, timing: 'fast' as const };

async function flashWithEsptoolJs(t: TestContext): Promise<Buffer> {
  const binding = new SimBinding();
  const board = new SimBoard(BOARD);
  binding.plug('/dev/ttyUSB0', board, { vendorId: '10c4', productId: 'ea60' });
  const transport = new Transport(new EsptoolJsPort(binding, '/dev/ttyUSB0') as never, false);
  t.after(async () => {
    await transport.disconnect().catch(() => {});
    binding.unplug('/dev/ttyUSB0');
  });
  const terminal = { clean() {}, writeLine() {}, write() {} };
  const loader = new ESPLoader({ transport, baudrate: 921600, terminal, debugLogging: false });
  await loader.main();
  const args = JSON.parse(readFileSync(join(ESP_AT, 'flasher_args.json'), 'utf8')) as {
    flash_files: Record<string, string>;
  };
  const fileArray = Object.entries(args.flash_files).map(([offset, file]) => ({
    address: Number(offset),
    data: new Uint8Array(readFileSync(join(ESP_AT, file))),
  }));
  await loader.writeFlash({
    fileArray,
    // esptool-js patches headers with a fixed frequency table and a broken SHA test (§11.3, §15); the
    // release's headers already say dio/40m/4MB, so "keep" asks both tools for the same bytes.
    flashMode: 'keep',
    flashFreq: 'keep',
    flashSize: 'keep',
    eraseAll: false,
    compress: true,
    calculateMD5Hash: md5hex,
  });
  return board.flash.read(0, FLASH);
}

async function flashWithEspStation(t: TestContext): Promise<Buffer> {
  const { loader, board } = await simLoader(t, BOARD);
  const set = await imageSetFromPath(join(ESP_AT, 'flasher_args.json'));
  const inspection = await inspectImageSet(set, CHIPS.esp32, effectiveFlashSettings({ flash: {} }, set));
  assert.deepEqual(inspection.problems, []);
  const prepared = inspection.prepared!;
  await loader.runStub();
  await loader.changeBaud(921600);
  await loader.spiSetParams(FLASH);
  const results = await writeRegions(loader, prepared.regionsFor(FLASH));
  assert.equal(results.length, 6);
  return board.flash.read(0, FLASH);
}

test('esptool-js and esp-station flash leave byte-identical flash on a fresh simulated ESP32', async (t) => {
  const theirs = await flashWithEsptoolJs(t);
  const ours = await flashWithEspStation(t);
  assert.equal(ours.length, FLASH);
  if (!ours.equals(theirs)) {
    let first = 0;
    while (ours[first] === theirs[first]) first++;
    assert.fail(`flash differs first at 0x${first.toString(16)}`);
  }
  // And it is not trivially equal: the app is there.
  const app = readFileSync(join(ESP_AT, 'esp-at.bin'));
  assert.equal(md5hex(ours.subarray(0x100000, 0x100000 + app.length)), md5hex(app));
});
