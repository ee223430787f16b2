import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { main } from '../../src/cli/main.ts';
import { demoCopy } from './broken-image-sets.ts';
import { REAL_AT_DIR, REPO_ROOT } from './fixture-paths.ts';

/** Runs `esp-station check ...` in-process and captures what it prints. */
async function check(...args: string[]): Promise<{ code: number; out: string }> {
  const lines: string[] = [];
  const log = console.log;
  const error = console.error;
  console.log = (...a: unknown[]) => lines.push(a.join(' '));
  console.error = (...a: unknown[]) => lines.push(a.join(' '));
  try {
    const code = await main(['check', ...args]);
    return { code, out: lines.join('\n') };
  } finally {
    console.log = log;
    console.error = error;
  }
}

test('check on the shipped config (demo profile) prints the flash map and OK, exit 0', async () => {
  const { code, out } = await check('--config', path.join(REPO_ROOT, 'config.yaml'));
  assert.equal(code, 0, out);
  assert.match(out, /DEMO FIRMWARE/);
  assert.match(
    out,
    /^offset\s+end\s+size\s+partition \(type\/subtype\)\s+file\s+md5\s+compressed\s+header$/m,
  );
  assert.match(
    out,
    /^0x1000\s+0x[0-9a-f]+\s+\d+\s+bootloader\s+bootloader\/bootloader\.bin\s+[0-9a-f]{32}\s+\d+ \(\d+%\)\s+dio 40m 4MB$/m,
  );
  assert.match(
    out,
    /^0x100000\s+0x[0-9a-f]+\s+\d+\s+ota_0 \(app\/ota_0, 1536KB\)\s+esp-at\.bin\s+[0-9a-f]{32}\s+\d+ \(6\d%\)$/m,
  );
  assert.match(out, /^0x21000\s.*mfg_nvs \(data\/nvs, 112KB\)/m);
  assert.match(out, /recipe:\s+[0-9a-f]{64}/);
  assert.match(
    out,
    /^checks: +expect esp32, flash >= 4MB, secure boot refused, flash encryption refused, erase region$/m,
  );
  assert.match(
    out,
    /^boot: +UART0 shows 'boot: Loaded app from partition at offset', then 'at param mode:' within 3000 ms$/m,
  );
  assert.match(out, /\nOK$/);
});

test('check --firmware on the real ESP-AT release folder passes', async () => {
  const { code, out } = await check('--firmware', REAL_AT_DIR);
  assert.equal(code, 0, out);
  assert.match(
    out,
    /^0x100000\s+0x268a30\s+1477168\s+ota_0.*esp-at\.bin\s+203b4cbe647fcf74cea21088b1d70979/m,
  );
  assert.match(out, /^0x8000\s.*76bc3722dae4b1f2e66c9f5649b31e02/m);
  assert.match(out, /\nOK$/);
  const dc = await check('--firmware', path.join(REAL_AT_DIR, 'download.config'), '--chip', 'esp32');
  assert.equal(dc.code, 0, dc.out);
});

test('a broken copy: every problem printed with its location, exit 2', async (t) => {
  const c = await demoCopy(t);
  await rm(path.join(c.dir, 'ota_data_initial.bin')); // missing file
  await c.addFlashFile('0x3c000', 'extra.bin', new Uint8Array(0x800)); // overlap with mfg_nvs
  const tablePath = path.join(c.dir, 'partition_table/partition-table.bin');
  const table = await readFile(tablePath);
  table[0x4c] ^= 1; // nvs label byte: MD5 mismatch
  await writeFile(tablePath, table);
  const { code, out } = await check('--profile', await c.profile('flash: {size: 2MB}\n'));
  assert.equal(code, 2, out);
  const fa = c.flasherArgs;
  const expect = [
    new RegExp(`${fa}:\\d+:\\d+: flash_files\\.0x10000: ota_data_initial\\.bin: file not found`),
    new RegExp(
      `${fa}:11:9: flash_files\\.0x3c000: extra\\.bin: overlaps customized_partitions/mfg_nvs\\.bin`,
    ),
    new RegExp(
      `${fa}:\\d+:\\d+: flash_files\\.0x8000: partition_table/partition-table\\.bin: partition table: MD5 line says`,
    ),
    new RegExp(
      `${fa}:\\d+:\\d+: flash_files\\.0x100000: esp-at\\.bin: ends at 0x267c20, beyond the 2MB flash`,
    ),
  ];
  for (const re of expect) assert.match(out, re);
  assert.match(out, /^\d+ problems found:$/m);
  assert.doesNotMatch(out, /\n\s+at .*\.ts:\d+/, 'no stack trace');
  assert.doesNotMatch(out, /\nOK$/);
});

test('wrong chip in the profile: exit 2 with the chip problems', async (t) => {
  const c = await demoCopy(t);
  const { code, out } = await check('--profile', await c.profile('', { chip: 'esp32c3' }));
  assert.equal(code, 2);
  assert.match(out, /built for esp32 but the profile says esp32c3/);
  assert.match(out, /is built for ESP32 \(chip id 0\), not ESP32-C3 \(chip id 5\)/);
});

test("typo'd key in the profile or config: file:line:column, exit 2, no stack trace", async (t) => {
  const c = await demoCopy(t);
  const profile = await c.profile('checks:\n  minFlashSise: 4MB\n');
  let r = await check('--profile', profile);
  assert.equal(r.code, 2);
  assert.match(
    r.out,
    new RegExp(
      `${profile}:6:3: checks\\.minFlashSise: unknown key 'minFlashSise'; allowed keys: expectChip, minFlashSize`,
    ),
  );
  const config = path.join(path.dirname(profile), 'config.yaml');
  await writeFile(config, `station: s\nprofile: ${path.basename(profile)}\nbaudladder: [115200]\n`);
  r = await check('--config', config);
  assert.equal(r.code, 2);
  assert.match(r.out, new RegExp(`${config}:3:1: baudladder: unknown key`));
});

test('bad command lines are input errors (exit 2)', async () => {
  assert.equal((await check('--firmware', '/nonexistent/release')).code, 2);
  assert.equal((await check('--profile', 'a.yaml', '--firmware', 'b')).code, 2);
  assert.equal((await check('--frimware', 'b')).code, 2);
  const r = await check('--firmware', REAL_AT_DIR, '--chip', 'esp99');
  assert.equal(r.code, 2);
  assert.match(r.out, /unknown chip 'esp99'/);
});

test('the installed binary: check --firmware on a broken folder exits 2 without a stack trace', async (t) => {
  const c = await demoCopy(t);
  await rm(path.join(c.dir, 'esp-at.bin'));
  const r = spawnSync(
    process.execPath,
    [path.join(REPO_ROOT, 'bin/esp-station.mjs'), 'check', '--firmware', c.dir],
    { encoding: 'utf8' },
  );
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stdout + r.stderr, /esp-at\.bin: file not found/);
  assert.doesNotMatch(r.stdout + r.stderr, /Error:|\n\s+at /);
});

test('the map shows the bootloader header as it will be written: patched, digest recomputed', async (t) => {
  const { tempDir } = await import('./fixture-paths.ts');
  const dir = await tempDir(t);
  const profile = path.join(dir, 'qio.yaml');
  await writeFile(
    profile,
    `name: qio\nchip: esp32\nimageSet: {folder: '${REAL_AT_DIR}'}\nflash: {mode: qio, freq: 80m}\n`,
  );
  const { code, out } = await check('--profile', profile);
  assert.equal(code, 0, out);
  assert.match(
    out,
    /^0x1000\s.*bootloader\.bin\s+(?!f36734a5821ad21ea305046a4fe0307e)[0-9a-f]{32}\s.*qio 80m 4MB, patched, sha256 updated$/m,
  );
  assert.match(out, /^0x100000\s.*esp-at\.bin\s+203b4cbe647fcf74cea21088b1d70979\s/m); // the app is never patched
});

test('check --schema prints JSON Schemas that reject unknown keys, for editors', async () => {
  const { code, out } = await check('--schema', 'profile');
  assert.equal(code, 0);
  const schema = JSON.parse(out) as {
    properties: Record<string, unknown>;
    required: string[];
    additionalProperties: boolean;
  };
  assert.deepEqual(schema.required.sort(), ['chip', 'imageSet', 'name']);
  assert.equal(schema.additionalProperties, false);
  assert.ok('bootCheck' in schema.properties);
  const config = JSON.parse((await check('--schema', 'config')).out) as {
    properties: Record<string, unknown>;
  };
  assert.ok('baudLadder' in config.properties && 'slots' in config.properties);
  assert.equal((await check('--schema', 'ledger')).code, 2);
});
