import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { InputError } from '../../src/config/problems.ts';
import { parseDownloadConfig, readDownloadConfig } from '../../src/firmware/download-config.ts';
import { parseFlasherArgs, readFlasherArgs } from '../../src/firmware/flasher-args.ts';
import { imageSetFromPath, readReleaseFolder, resolveImageSet } from '../../src/firmware/image-set-source.ts';
import { REAL_AT_DIR, tempDir } from './fixture-paths.ts';

const REAL_LAYOUT = [
  [0x1000, 'bootloader', 'bootloader/bootloader.bin'],
  [0x8000, 'partition-table', 'partition_table/partition-table.bin'],
  [0x10000, 'otadata', 'ota_data_initial.bin'],
  [0x20000, 'at_customize', 'at_customize.bin'],
  [0x21000, 'mfg_nvs', 'customized_partitions/mfg_nvs.bin'],
  [0x100000, 'app', 'esp-at.bin'],
];

test('real flasher_args.json: offsets sorted numerically, names from per-image entries, chip and esptool args', async () => {
  const set = await readFlasherArgs(path.join(REAL_AT_DIR, 'flasher_args.json'));
  assert.equal(set.kind, 'flasherArgs');
  assert.equal(set.chip, 'esp32');
  assert.deepEqual(set.settings, { mode: 'dio', size: '4MB', freq: '40m' });
  assert.deepEqual(set.esptoolArgs, { before: 'default_reset', after: 'hard_reset', stub: true });
  assert.deepEqual(
    set.regions.map((r) => [r.offset, r.label, path.relative(REAL_AT_DIR, r.file)]),
    REAL_LAYOUT,
  );
  assert.ok(set.regions.every((r) => r.encrypted === false));
  const app = set.regions.find((r) => r.label === 'app')!;
  assert.equal(app.declaredAt.line, 12); // "0x100000" : "esp-at.bin", second line of flash_files
  assert.equal(app.declaredAt.key, 'flash_files.0x100000');
});

test('real download.config gives the same map, labels from file names', async () => {
  const set = await readDownloadConfig(path.join(REAL_AT_DIR, 'download.config'));
  assert.deepEqual(set.settings, { mode: 'dio', freq: '40m', size: '4MB' });
  assert.deepEqual(
    set.regions.map((r) => [r.offset, path.relative(REAL_AT_DIR, r.file)]),
    REAL_LAYOUT.map(([o, , f]) => [o, f]),
  );
  assert.equal(set.regions[0].label, 'bootloader');
  assert.equal(set.regions.find((r) => r.offset === 0x100000)?.declaredAt.line, 5);
});

test('a release folder prefers flasher_args.json; --firmware accepts folder, json and config', async () => {
  const folder = await readReleaseFolder(REAL_AT_DIR, { file: 'p.yaml' });
  assert.equal(folder.kind, 'flasherArgs');
  assert.equal((await imageSetFromPath(REAL_AT_DIR)).kind, 'flasherArgs');
  assert.equal((await imageSetFromPath(path.join(REAL_AT_DIR, 'download.config'))).kind, 'downloadConfig');
  await assert.rejects(imageSetFromPath('/nonexistent/release'), InputError);
});

test('flasher_args.json quirks: string encrypted, upper-case hex, detect, paths relative to the file', () => {
  const set = parseFlasherArgs(
    '/rel/build/flasher_args.json',
    JSON.stringify({
      flash_settings: { flash_mode: 'dio', flash_size: 'detect', flash_freq: '80m' },
      flash_files: {
        '0x3B000': 'parts/mqtt_ca.bin',
        '0x0': 'bootloader/bootloader.bin',
        '0x10000': '../app.bin',
      },
      app: { offset: '0x10000', file: '../app.bin', encrypted: 'true' },
      extra_esptool_args: { chip: 'esp32s3', stub: false },
    }),
  );
  assert.equal(set.settings.size, 'detect');
  assert.equal(set.chip, 'esp32s3');
  assert.deepEqual(
    set.regions.map((r) => [r.offset, r.file, r.encrypted]),
    [
      [0, '/rel/build/bootloader/bootloader.bin', false],
      [0x10000, '/rel/app.bin', true],
      [0x3b000, '/rel/build/parts/mqtt_ca.bin', false],
    ],
  );
  assert.equal(set.regions[2].label, 'mqtt_ca');
});

test('broken flasher_args.json: JSON error with line, bad offsets, unknown chip — all at once', () => {
  assert.throws(
    () => parseFlasherArgs('f.json', '{\n  "flash_files": {\n    "0x0": "a.bin",\n  }\n}'),
    (e: unknown) =>
      e instanceof InputError && e.problems[0].line === 4 && /not valid JSON/.test(e.problems[0].message),
  );
  assert.throws(
    () =>
      parseFlasherArgs(
        'f.json',
        '{\n "flash_files": {\n  "boot": "a.bin",\n  "0x1000": 7\n },\n "extra_esptool_args": {"chip": "esp31"}\n}',
      ),
    (e: unknown) => {
      assert.ok(e instanceof InputError);
      assert.deepEqual(
        e.problems.map((p) => [p.line, p.key]),
        [
          [3, 'flash_files.boot'],
          [4, 'flash_files.0x1000'],
          [6, 'extra_esptool_args.chip'],
        ],
      );
      return true;
    },
  );
  assert.throws(() => parseFlasherArgs('f.json', '{"write_flash_args": []}'), /flash_files/);
});

test('broken download.config: unknown option and dangling offset with their lines', () => {
  assert.throws(
    () =>
      parseDownloadConfig(
        '/d/download.config',
        '--flash_mode dio\n--flash_speed 40m\n0x1000 boot.bin\n0x8000\n',
      ),
    (e: unknown) => {
      assert.ok(e instanceof InputError);
      assert.deepEqual(
        e.problems.map((p) => p.line),
        [2, 4],
      );
      assert.match(e.problems[0].message, /unknown option '--flash_speed'/);
      assert.match(e.problems[1].message, /no file after it/);
      return true;
    },
  );
});

test('profile sources: files list and merged image resolve relative to the profile', async (t) => {
  const dir = await tempDir(t);
  const files = await resolveImageSet(
    {
      kind: 'files',
      files: [
        { offset: 0x10000, file: 'app.bin', label: 'app' },
        { offset: 0x0, file: 'b/boot.bin' },
      ],
    },
    { baseDir: dir, declaredIn: { file: path.join(dir, 'p.yaml'), line: 5, column: 3, key: 'imageSet' } },
  );
  assert.deepEqual(
    files.regions.map((r) => [r.offset, r.label, r.file, r.declaredAt.key]),
    [
      [0, 'boot', path.join(dir, 'b/boot.bin'), 'imageSet.files.1'],
      [0x10000, 'app', path.join(dir, 'app.bin'), 'imageSet.files.0'],
    ],
  );
  const merged = await resolveImageSet(
    { kind: 'merged', path: 'factory.bin' },
    { baseDir: dir, declaredIn: { file: 'p.yaml' } },
  );
  assert.deepEqual(
    merged.regions.map((r) => [r.offset, r.label]),
    [[0, 'merged']],
  );
  await mkdir(path.join(dir, 'empty'));
  await assert.rejects(
    readReleaseFolder(path.join(dir, 'empty'), { file: 'p.yaml', line: 3 }),
    /neither flasher_args.json nor download.config/,
  );
  await writeFile(path.join(dir, 'x.txt'), 'x');
  await assert.rejects(imageSetFromPath(path.join(dir, 'x.txt')), InputError);
});

test('backslash paths (sets prepared on Windows) resolve like forward slashes', () => {
  const set = parseDownloadConfig(
    '/r/download.config',
    '--flash_mode dio\n0x1000 bootloader\\bootloader.bin\n',
  );
  assert.equal(set.regions[0].file, '/r/bootloader/bootloader.bin');
  assert.equal(set.regions[0].label, 'bootloader');
});
