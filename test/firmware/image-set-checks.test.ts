import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { loadProfile } from '../../src/config/profile.ts';
import type { Problem } from '../../src/config/problems.ts';
import { InputError } from '../../src/config/problems.ts';
import { chipByName } from '../../src/esp/chips/index.ts';
import { buildFirmwareImage } from '../../src/firmware/image-builder.ts';
import { checkImageSet } from '../../src/firmware/image-set-checks.ts';
import { imageSetFromPath } from '../../src/firmware/image-set-source.ts';
import { inspectProfileFirmware, loadProfileFirmware } from '../../src/firmware/profile-firmware.ts';
import { demoCopy, removeFile } from './broken-image-sets.ts';
import { REAL_AT_DIR, tempDir } from './fixture-paths.ts';

async function problemsFor(profileFile: string): Promise<Problem[]> {
  const r = await inspectProfileFirmware(await loadProfile(profileFile));
  return r.problems;
}

function only(ps: Problem[], re: RegExp): Problem {
  const hits = ps.filter((p) => re.test(p.message));
  assert.equal(
    hits.length,
    1,
    `one problem matching ${re}, got:\n${ps.map((p) => `${p.line}: ${p.message}`).join('\n')}`,
  );
  return hits[0];
}

test('the real ESP-AT v3.4.0.0 release passes every check', async () => {
  const set = await imageSetFromPath(REAL_AT_DIR);
  const r = await checkImageSet(set, chipByName('esp32')!, { mode: 'dio', freq: '40m', size: '4MB' });
  assert.deepEqual(r.problems, []);
  assert.equal(r.loaded.length, 6);
  assert.deepEqual(
    r.tables.map((t) => [t.offset, t.table.entries.length]),
    [
      [0x8000, 6],
      [0x20000, 2],
    ],
  );
  assert.equal(r.flashBytes, 4 * 1024 * 1024);
});

test('an untouched demo copy passes; so does the legacy layout (flash size detect)', async (t) => {
  const a = await demoCopy(t);
  assert.deepEqual(await problemsFor(await a.profile()), []);
  const b = await demoCopy(t, 'esp-at-legacy');
  const r = await inspectProfileFirmware(await loadProfile(await b.profile('checks: {minFlashSize: 4MB}\n')));
  assert.deepEqual(r.problems, []);
  assert.equal(r.settings.size, 'detect');
  assert.equal(r.check.flashBytes, 4 * 1024 * 1024);
  assert.equal(r.imageSet.regions.length, 17);
  assert.ok(r.imageSet.regions.some((x) => x.label === 'factory_param' && x.offset === 0x30000));
});

test('missing file: named, located at its flasher_args.json line', async (t) => {
  const c = await demoCopy(t);
  await removeFile(c.dir, 'esp-at.bin');
  const p = only(await problemsFor(await c.profile()), /esp-at\.bin: file not found/);
  assert.equal(p.file, c.flasherArgs);
  assert.equal(p.key, 'flash_files.0x100000');
  assert.equal(p.line, 13); // flash_files in string order: 0x1000, 0x10000, 0x100000
});

test('overlap and misalignment', async (t) => {
  const c = await demoCopy(t);
  await c.addFlashFile('0x3c000', 'extra.bin', new Uint8Array(0x800));
  await c.addFlashFile('0x21800', 'odd.bin', new Uint8Array(0x100));
  const ps = await problemsFor(await c.profile());
  const overlap = only(ps, /extra\.bin: overlaps customized_partitions\/mfg_nvs\.bin \(0x21000\.\.0x3d000\)/);
  assert.equal(overlap.line, 12); // odd.bin was inserted above it
  only(ps, /odd\.bin: offset 0x21800 is not 4 KB aligned/);
  only(ps, /odd\.bin: overlaps customized_partitions\/mfg_nvs\.bin/);
});

test('wrong chip: the profile says ESP32-S3 but the set is for ESP32; an app built for another chip', async (t) => {
  const c = await demoCopy(t);
  let ps = await problemsFor(await c.profile('', { chip: 'esp32s3' }));
  only(ps, /built for esp32 but the profile says esp32s3/);
  only(ps, /no image at ESP32-S3's bootloader offset 0x0/);
  only(
    ps,
    /esp-at\.bin: app for partition 'ota_0' is built for ESP32 \(chip id 0\), not ESP32-S3 \(chip id 9\)/,
  );

  const d = await demoCopy(t);
  const s3app = buildFirmwareImage({
    chipId: 9,
    flashMode: 2,
    flashSizeNibble: 2,
    flashFreqNibble: 0,
    entry: 0x40370000,
    hashAppended: true,
    segments: [{ loadAddress: 0x3c000020, data: new Uint8Array(4096).fill(7) }],
  });
  await writeFile(path.join(d.dir, 'esp-at.bin'), s3app);
  ps = await problemsFor(await d.profile());
  const p = only(ps, /is built for ESP32-S3 \(chip id 9\), not ESP32 \(chip id 0\)/);
  assert.equal(p.key, 'flash_files.0x100000');
});

test('too big: for the flash size, and for the partition at its offset', async (t) => {
  const c = await demoCopy(t);
  const big = new Uint8Array(0x1d000).fill(0xab);
  await writeFile(path.join(c.dir, 'customized_partitions/mfg_nvs.bin'), big);
  const ps = await problemsFor(await c.profile('flash: {size: 2MB}\n'));
  only(ps, /esp-at\.bin: ends at 0x267c20, beyond the 2MB flash/);
  only(ps, /partition-table\.bin: partition table needs flash up to 0x400000 \(4MB\) but the flash is 2MB/);
  only(
    ps,
    /mfg_nvs\.bin: is 118784 bytes .* partition 'mfg_nvs' at 0x21000 ends at 0x3d000; it is 4096 bytes too big/,
  );
});

test('bad partition table MD5 and an at_customize.bin that is not a table', async (t) => {
  const c = await demoCopy(t);
  const tablePath = path.join(c.dir, 'partition_table/partition-table.bin');
  const table = await readFile(tablePath);
  table[0x8c] ^= 0x01; // a byte of ota_0's label
  await writeFile(tablePath, table);
  await writeFile(path.join(c.dir, 'at_customize.bin'), new Uint8Array(3072).fill(0x42));
  const ps = await problemsFor(await c.profile());
  const md5 = only(ps, /partition-table\.bin: partition table: MD5 line says/);
  assert.equal(md5.key, 'flash_files.0x8000');
  only(ps, /at_customize\.bin: not a valid partition table: entry 0 .* magic AA 50/);
});

test('a damaged bootloader and a stale SHA-256 in the app are caught before any board', async (t) => {
  const c = await demoCopy(t);
  const bootPath = path.join(c.dir, 'bootloader/bootloader.bin');
  const boot = await readFile(bootPath);
  boot[100] ^= 0xff;
  await writeFile(bootPath, boot);
  const appPath = path.join(c.dir, 'esp-at.bin');
  const app = await readFile(appPath);
  app[3] = 0x30; // header edited by hand, digest left stale
  await writeFile(appPath, app);
  const ps = await problemsFor(await c.profile());
  only(ps, /bootloader\.bin: bootloader: checksum byte/);
  only(ps, /esp-at\.bin: app for partition 'ota_0': the appended SHA-256 does not match/);
});

test('flash settings the chip does not have are problems pointing at the profile', async (t) => {
  const c = await demoCopy(t);
  const file = await c.profile('flash: {freq: 60m}\n');
  const ps = await problemsFor(file);
  const p = only(ps, /flash frequency '60m' is not valid for ESP32/);
  assert.equal(p.file, file);
  assert.equal(p.line, 5);
});

test('loadProfileFirmware throws every problem at once as an InputError', async (t) => {
  const c = await demoCopy(t);
  await removeFile(c.dir, 'esp-at.bin');
  await removeFile(c.dir, 'ota_data_initial.bin');
  await assert.rejects(
    loadProfileFirmware(await loadProfile(await c.profile())),
    (e: unknown) => e instanceof InputError && e.problems.length === 2,
  );
});

test('a merged factory image of the real release (md5 as Espressif ships it) passes', async (t) => {
  const dir = await tempDir(t);
  const merged = new Uint8Array(4 * 1024 * 1024).fill(0xff);
  const set = await imageSetFromPath(REAL_AT_DIR);
  for (const r of set.regions) merged.set(await readFile(r.file), r.offset);
  const { createHash } = await import('node:crypto');
  assert.equal(createHash('md5').update(merged).digest('hex'), '97ee6a104162d3d0885270551c9896f2');
  const file = path.join(dir, 'factory_WROOM-32.bin');
  await writeFile(file, merged);
  const mset = await imageSetFromPath(file);
  const r = await checkImageSet(mset, chipByName('esp32')!, { mode: 'keep', freq: 'keep', size: 'keep' });
  assert.deepEqual(r.problems, []);
  merged[0x100000 + 0x40] ^= 0xff; // damage the app inside
  merged[0x8000 + 0x24] ^= 0x01; // and the table (it has no MD5 line; the layout rule catches this one)
  await writeFile(file, merged);
  const r1 = await checkImageSet(mset, chipByName('esp32')!, { mode: 'keep', freq: 'keep', size: 'keep' });
  only(r1.problems, /app inside the merged image \(partition 'ota_0' at 0x100000\): checksum byte/);
  only(r1.problems, /partition table inside the merged image: partition 'otadata' .*not aligned/);
  merged[0x1000] = 0; // no bootloader inside any more
  await writeFile(file, merged);
  const r2 = await checkImageSet(mset, chipByName('esp32')!, { mode: 'keep', freq: 'keep', size: 'keep' });
  only(r2.problems, /bootloader inside the merged image \(at 0x1000\).*not the image magic/);
});

test('a files list in the profile describing the real release: passes, and has the same recipe fingerprint', async (t) => {
  const dir = await tempDir(t);
  const set = await imageSetFromPath(REAL_AT_DIR);
  const list = set.regions
    .map((r) => `    - { offset: 0x${r.offset.toString(16)}, file: '${r.file}', label: ${r.label} }`)
    .join('\n');
  const file = path.join(dir, 'list.yaml');
  await writeFile(
    file,
    `name: listed\nchip: esp32\nimageSet:\n  files:\n${list}\nflash: {mode: dio, freq: 40m, size: 4MB}\n`,
  );
  const listed = await inspectProfileFirmware(await loadProfile(file));
  assert.deepEqual(listed.problems, []);
  const folder = path.join(dir, 'folder.yaml');
  await writeFile(folder, `name: folder\nchip: esp32\nimageSet: {folder: '${REAL_AT_DIR}'}\n`);
  const fromFolder = await inspectProfileFirmware(await loadProfile(folder));
  assert.equal(listed.prepared!.fingerprint, fromFolder.prepared!.fingerprint);
  // A files list that leaves out the partition table is caught.
  await writeFile(
    file,
    `name: listed\nchip: esp32\nimageSet:\n  files:\n    - { offset: 0x1000, file: '${set.regions[0].file}' }\n`,
  );
  only(
    (await inspectProfileFirmware(await loadProfile(file))).problems,
    /no partition table in the image set/,
  );
});

test('regions marked encrypted are refused (esp-station writes plaintext only)', async (t) => {
  const c = await demoCopy(t);
  const text = await readFile(c.flasherArgs, 'utf8');
  await writeFile(
    c.flasherArgs,
    text.replace(
      '"file" : "esp-at.bin", "encrypted" : "false"',
      '"file" : "esp-at.bin", "encrypted" : "true"',
    ),
  );
  const p = only(await problemsFor(await c.profile()), /esp-at\.bin: is marked encrypted/);
  assert.equal(p.key, 'flash_files.0x100000');
});

test('download.config copy: empty file, duplicate offset, oversized table and bootloader, offset in no partition, flash below minimum', async (t) => {
  const c = await demoCopy(t);
  const dc = path.join(c.dir, 'download.config');
  const text = await readFile(dc, 'utf8');
  await writeFile(path.join(c.dir, 'empty.bin'), new Uint8Array(0));
  await writeFile(path.join(c.dir, 'stray.bin'), new Uint8Array(16));
  const boot = await readFile(path.join(c.dir, 'bootloader/bootloader.bin'));
  const longBoot = new Uint8Array(0x7100).fill(0xff);
  longBoot.set(boot);
  await writeFile(path.join(c.dir, 'bootloader/bootloader.bin'), longBoot); // 0x1000 + 0x7100 runs into 0x8000
  const table = await readFile(path.join(c.dir, 'partition_table/partition-table.bin'));
  await writeFile(
    path.join(c.dir, 'partition_table/partition-table.bin'),
    Buffer.concat([table, Buffer.alloc(0x400, 0xff)]),
  );
  await writeFile(dc, `${text}\n0x21000 empty.bin\n0xa000 stray.bin\n`);
  const profile = path.join(path.dirname(c.dir), 'dc.yaml');
  await writeFile(
    profile,
    'name: dc\nchip: esp32\nimageSet: {downloadConfig: release/download.config}\nchecks: {minFlashSize: 8MB}\n',
  );
  const ps = await problemsFor(profile);
  assert.equal(only(ps, /empty\.bin: file is empty/).line, 10);
  only(ps, /empty\.bin: offset 0x21000 is also given to customized_partitions\/mfg_nvs\.bin/);
  only(ps, /partition-table\.bin: is 4096 bytes; a partition table is at most 0xC00 bytes/);
  only(ps, /bootloader\.bin: bootloader ends at 0x8100, past the partition table at 0x8000/);
  only(ps, /bootloader\.bin: .*overlaps|partition-table\.bin: overlaps bootloader\/bootloader\.bin/);
  only(ps, /stray\.bin: offset 0xa000 is in no partition/);
  only(ps, /flash size 4MB is below checks\.minFlashSize 8MB/);
});

test('a release folder with only download.config (no flasher_args.json) is read and passes', async (t) => {
  const c = await demoCopy(t);
  await removeFile(c.dir, 'flasher_args.json');
  const profile = path.join(path.dirname(c.dir), 'folder.yaml');
  await writeFile(profile, 'name: f\nchip: esp32\nimageSet: {folder: release}\n');
  const r = await inspectProfileFirmware(await loadProfile(profile));
  assert.equal(r.imageSet.kind, 'downloadConfig');
  assert.deepEqual(r.problems, []);
  assert.deepEqual(r.settings, { mode: 'dio', freq: '40m', size: '4MB' });
});
