// `esp-station flash` runs the station's pipeline: the same revision check, erase option, header-patch rule under
// secure boot and boot-check handling as `esp-station run` — each of these differed while the command had its
// own copy of the flow.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { SimBoard, type SimBoardOptions } from '../../src/sim/board.ts';
import { startSimServer } from '../../src/sim/tcp-server.ts';
import { REAL_AT_DIR, REPO_ROOT } from '../firmware/fixture-paths.ts';
import { buildImage, buildPartitionTable, FACTORY_LAYOUT } from '../support/sim-image-builder.ts';

const BIN = fileURLToPath(new URL('../../bin/esp-station.mjs', import.meta.url));

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { timeout: 120_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 99) : 0, stdout, stderr });
    });
  });
}

async function served(t: TestContext, opts: SimBoardOptions) {
  const board = new SimBoard({ timing: 'fast', ...opts });
  const server = await startSimServer({ board });
  t.after(() => server.close());
  return { board, port: `socket://127.0.0.1:${server.port}` };
}

async function tmp(t: TestContext): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'esp-flash-path-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

const C3_IMAGE_CHIP_ID = 5;

test('an image set that needs ESP32-C3 v0.3..v1.99 is refused on a v0.2 chip before any write, and written on v0.4', async (t) => {
  const dir = await tmp(t);
  const app = buildImage({
    chipId: C3_IMAGE_CHIP_ID,
    project: 'esp-at',
    hash: true,
    minRevFull: 3,
    maxRevFull: 199,
  });
  const boot = buildImage({ chipId: C3_IMAGE_CHIP_ID, hash: true, minRevFull: 3, maxRevFull: 199 });
  await writeFile(path.join(dir, 'boot.bin'), boot);
  await writeFile(path.join(dir, 'table.bin'), buildPartitionTable(FACTORY_LAYOUT));
  await writeFile(path.join(dir, 'app.bin'), app);
  const files = ['0x0=boot.bin', '0x8000=table.bin', '0x10000=app.bin'].map((p) =>
    p.replace('=', `=${dir}/`),
  );

  const old = await served(t, { chip: 'esp32c3', revision: 2 });
  const refused = await cli(['flash', '--port', old.port, '--chip', 'esp32c3', ...files]);
  assert.equal(refused.code, 1, refused.stdout + refused.stderr);
  assert.match(
    refused.stderr,
    /FAIL: boot needs chip revision v0\.3 to v1\.99; this chip is v0\.2.*\[chip-revision\]/,
  );
  assert.ok(
    old.board.flash.read(0, 0x20000).every((b: number) => b === 0xff),
    'nothing written',
  );

  const good = await served(t, { chip: 'esp32c3', revision: 4 });
  const passed = await cli(['flash', '--port', good.port, '--chip', 'esp32c3', ...files]);
  assert.equal(passed.code, 0, passed.stdout + passed.stderr);
  assert.deepEqual(good.board.flash.read(0x10000, app.length), app);
});

test("a profile's checks.erase: all erases the chip first, as the station does", async (t) => {
  const { board, port } = await served(t, { chip: 'esp32', flashSize: '4MB' });
  board.flash.program(0x300000, Buffer.alloc(0x1000, 0x00)); // old data outside every region
  const dir = await tmp(t);
  const profile = path.join(dir, 'erase-all.yaml');
  await writeFile(
    profile,
    [
      'name: erase-all',
      'chip: esp32',
      'imageSet:',
      `  folder: ${REAL_AT_DIR}`,
      'checks:',
      '  erase: all',
      '',
    ].join('\n'),
  );
  const r = await cli(['flash', '--port', port, '--profile', profile]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.ok(
    board.flash.read(0x300000, 0x1000).every((b: number) => b === 0xff),
    'old data erased',
  );
  const app = await readFile(path.join(REAL_AT_DIR, 'esp-at.bin'));
  assert.deepEqual(board.flash.read(0x100000, app.length), app);
});

test('under secure boot the bootloader is written exactly as built; an ordinary board gets the patched header', async (t) => {
  const dir = await tmp(t);
  const profile = path.join(dir, 'secure.yaml');
  await writeFile(
    profile,
    [
      'name: secure-ok',
      'chip: esp32',
      'imageSet:',
      `  folder: ${REAL_AT_DIR}`,
      'flash: { mode: qio, freq: 80m, size: 4MB }',
      'checks:',
      '  allowSecureBoot: true',
      '',
    ].join('\n'),
  );
  const original = await readFile(path.join(REAL_AT_DIR, 'bootloader/bootloader.bin'));
  const secure = await served(t, { chip: 'esp32', faults: ['secure-boot'] });
  const a = await cli(['flash', '--port', secure.port, '--profile', profile]);
  assert.equal(a.code, 0, a.stdout + a.stderr);
  assert.deepEqual(secure.board.flash.read(0x1000, original.length), original);

  const plain = await served(t, { chip: 'esp32' });
  const b = await cli(['flash', '--port', plain.port, '--profile', profile]);
  assert.equal(b.code, 0, b.stdout + b.stderr);
  const header = plain.board.flash.read(0x1000, 4);
  assert.deepEqual([header[2], header[3]], [0x00, 0x2f], 'qio, 4MB | 80m');
});

test('a profile with a boot check over a link without reset lines: written, verified, and said plainly that the boot was not checked', async (t) => {
  const { port } = await served(t, { chip: 'esp32' });
  const r = await cli([
    'flash',
    '--port',
    port,
    '--profile',
    path.join(REPO_ROOT, 'stations/demo-esp32-at.yaml'),
  ]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stderr, /DEMO FIRMWARE/);
  assert.match(r.stderr, /no reset lines .* its boot was not checked/);
  assert.match(r.stdout, /^PASS: 6 region\(s\)/m);
});

test("a profile whose flash size is larger than the board's (16 MB header on a 4 MB board) is refused before any write", async (t) => {
  const { board, port } = await served(t, { chip: 'esp32', flashSize: '4MB' });
  const dir = await tmp(t);
  const profile = path.join(dir, 'sixteen.yaml');
  await writeFile(
    profile,
    [
      'name: sixteen',
      'chip: esp32',
      'imageSet:',
      `  folder: ${REAL_AT_DIR}`,
      'flash: { mode: dio, freq: 40m, size: 16MB }',
      '',
    ].join('\n'),
  );
  const r = await cli(['flash', '--port', port, '--profile', profile]);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stderr, /FAIL: .*4 MB of flash; the bootloader header says 16 MB.*\[flash-too-small\]/);
  assert.doesNotMatch(r.stdout, /^PASS/m);
  assert.ok(
    board.flash.read(0, 0x400000).every((b: number) => b === 0xff),
    'nothing written',
  );
});
