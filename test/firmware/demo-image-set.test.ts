import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { deflateSync } from 'node:zlib';
import {
  DEMO_APP_MARKER,
  ensureDemoImageSet,
  generateDemoImageSet,
} from '../../src/firmware/demo-image-set.ts';
import { readFlasherArgs } from '../../src/firmware/flasher-args.ts';
import { readDownloadConfig } from '../../src/firmware/download-config.ts';
import { parseFirmwareImage } from '../../src/firmware/image-format.ts';
import { parsePartitionTable } from '../../src/firmware/partition-table.ts';
import { REAL_AT_DIR, tempDir } from './fixture-paths.ts';

test('the demo set is laid out like the real v3.4.0.0 release, with the same partition table entries', async (t) => {
  const dir = await tempDir(t);
  const demo = await readFlasherArgs(await generateDemoImageSet(path.join(dir, 'a'), 'esp-at'));
  const real = await readFlasherArgs(path.join(REAL_AT_DIR, 'flasher_args.json'));
  assert.deepEqual(
    demo.regions.map((r) => [r.offset, r.label, path.relative(path.dirname(demo.sourceFile), r.file)]),
    real.regions.map((r) => [r.offset, r.label, path.relative(REAL_AT_DIR, r.file)]),
  );
  assert.equal(demo.chip, 'esp32');
  assert.deepEqual(demo.settings, real.settings);
  const tableOf = async (f: string) => {
    const p = parsePartitionTable(await readFile(f));
    assert.ok(p.ok);
    return p.table;
  };
  const demoTable = await tableOf(demo.regions[1].file);
  assert.equal(demoTable.md5, 'ok');
  assert.deepEqual(demoTable.entries, (await tableOf(real.regions[1].file)).entries);
  assert.deepEqual(
    (await tableOf(demo.regions[3].file)).entries,
    (await tableOf(real.regions[3].file)).entries,
  );
  const dc = await readDownloadConfig(path.join(dir, 'a', 'download.config'));
  assert.deepEqual(
    dc.regions.map((r) => r.offset),
    demo.regions.map((r) => r.offset),
  );
});

test('demo app: ~1.5 MB, valid ESP32 image, compresses like real code, carries the marker and "ready"', async (t) => {
  const dir = await tempDir(t);
  await generateDemoImageSet(dir, 'esp-at');
  const app = await readFile(path.join(dir, 'esp-at.bin'));
  assert.ok(app.length > 1_400_000 && app.length < 1_600_000, String(app.length));
  const ratio = deflateSync(app, { level: 9 }).length / app.length;
  assert.ok(ratio > 0.6 && ratio < 0.72, `compresses to ${ratio.toFixed(3)}`);
  const p = parseFirmwareImage(app);
  assert.ok(p.ok);
  assert.deepEqual(p.problems, []);
  assert.equal(p.image.extended?.chipId, 0);
  assert.equal(p.image.extended?.hashAppended, true);
  const first = p.image.segments[0];
  const text = app.subarray(first.dataOffset, first.dataOffset + first.length).toString('latin1');
  assert.equal(
    app.readUInt32LE(first.dataOffset),
    0xabcd5432,
    'esp_app_desc_t magic at the start of the first segment',
  );
  assert.ok(text.includes('esp-at\0'));
  assert.ok(text.includes(DEMO_APP_MARKER));
  assert.ok(text.includes('\r\nready\r\n'));
  const boot = parseFirmwareImage(await readFile(path.join(dir, 'bootloader/bootloader.bin')));
  assert.ok(boot.ok && boot.problems.length === 0 && boot.image.extended?.chipId === 0);
});

test('generation is deterministic: two runs give identical bytes', async (t) => {
  const dir = await tempDir(t);
  for (const layout of ['esp-at', 'esp-at-legacy'] as const) {
    const a = await readFlasherArgs(await generateDemoImageSet(path.join(dir, `${layout}-1`), layout));
    const b = await readFlasherArgs(await generateDemoImageSet(path.join(dir, `${layout}-2`), layout));
    assert.equal(a.regions.length, b.regions.length);
    for (let i = 0; i < a.regions.length; i++) {
      assert.ok(
        (await readFile(a.regions[i].file)).equals(await readFile(b.regions[i].file)),
        a.regions[i].label,
      );
    }
  }
});

test('the legacy layout has factory_param, certificates and keys as separate customized partitions', async (t) => {
  const dir = await tempDir(t);
  const set = await readFlasherArgs(await generateDemoImageSet(dir, 'esp-at-legacy'));
  assert.equal(set.settings.size, 'detect');
  const labels = set.regions.map((r) => r.label);
  for (const l of [
    'phy_multiple_init_data',
    'factory_param',
    'server_cert',
    'server_key',
    'client_ca',
    'mqtt_key',
    'mqtt_ca',
    'ble_data',
  ]) {
    assert.ok(labels.includes(l), l);
  }
  const text = await readFile(path.join(dir, 'flasher_args.json'), 'utf8');
  assert.match(text, /"0x[0-9a-f]*[A-F][0-9A-F]*"/, 'keeps the upper-case hex quirk of the seed note');
});

test('ensureDemoImageSet generates once and then reuses the cached set', async (t) => {
  const root = await tempDir(t);
  const dir = await ensureDemoImageSet('esp-at', root);
  const first = (await stat(path.join(dir, 'esp-at.bin'))).mtimeMs;
  const again = await Promise.all([ensureDemoImageSet('esp-at', root), ensureDemoImageSet('esp-at', root)]);
  assert.deepEqual(again, [dir, dir]);
  assert.equal((await stat(path.join(dir, 'esp-at.bin'))).mtimeMs, first);
});

test('a damaged cached set (stamp gone, a file deleted) is rebuilt', async (t) => {
  const { rm: remove } = await import('node:fs/promises');
  const root = await tempDir(t);
  const dir = await ensureDemoImageSet('esp-at', root);
  await remove(path.join(dir, '.generated'));
  await remove(path.join(dir, 'esp-at.bin'));
  assert.equal(await ensureDemoImageSet('esp-at', root), dir);
  assert.equal((await stat(path.join(dir, 'esp-at.bin'))).size, 1473568);
});
