import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SimBoard, type SimBoardOptions } from '../../src/sim/board.ts';
import { startSimServer } from '../../src/sim/tcp-server.ts';
import { REAL_AT_DIR } from '../firmware/fixture-paths.ts';
import { md5hex } from '../support/md5.ts';

const BIN = fileURLToPath(new URL('../../bin/esp-station.mjs', import.meta.url));
const ESP_AT = REAL_AT_DIR;

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 99) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

async function served(t: TestContext, opts: SimBoardOptions = {}) {
  const board = new SimBoard({ timing: 'fast', ...opts });
  const server = await startSimServer({ board });
  t.after(() => server.close());
  return { board, port: `socket://127.0.0.1:${server.port}` };
}

async function tmp(t: TestContext): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'esp-flash-cli-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

test('flash OFFSET=PATH over socket://: PASS, summary with MD5, flash content identical', async (t) => {
  const { board, port } = await served(t, { chip: 'esp32c3', mac: '58:CF:79:01:02:03' });
  const dir = await tmp(t);
  const app = Buffer.alloc(70_001);
  for (let i = 0; i < app.length; i++) app[i] = (i * 13 + (i >> 8)) & 0xff;
  await writeFile(path.join(dir, 'app.bin'), app);
  const r = await cli(['flash', '--port', port, `0x10000=${path.join(dir, 'app.bin')}`]);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.match(r.stdout, /Chip: +ESP32-C3/);
  assert.match(r.stdout, /MAC: +58:CF:79:01:02:03/);
  assert.match(r.stdout, /Wrote app @0x10000: 70004 bytes/);
  // The image is padded to 4 bytes with 0xFF before hashing and writing.
  const padded = Buffer.concat([app, Buffer.from([0xff, 0xff, 0xff])]);
  assert.match(r.stdout, new RegExp(`app +0x10000 +70004 +${md5hex(padded)}`));
  assert.match(r.stdout, /^PASS: 1 region\(s\), 70004 bytes written and verified/m);
  assert.deepEqual(board.flash.read(0x10000, padded.length), padded);
});

test('flash --firmware with the real ESP-AT v3.4.0.0 release onto a simulated ESP32', async (t) => {
  const { board, port } = await served(t, { chip: 'esp32', flashSize: '4MB' });
  const r = await cli(['flash', '--port', port, '--firmware', path.join(ESP_AT, 'flasher_args.json')]);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  for (const label of ['bootloader', 'partition-table', 'otadata', 'at_customize', 'mfg_nvs', 'app']) {
    assert.match(r.stdout, new RegExp(`^${label} +0x[0-9a-f]+ +\\d+ +[0-9a-f]{32}`, 'm'), label);
  }
  // Non-bootloader images land byte for byte.
  const app = await readFile(path.join(ESP_AT, 'esp-at.bin'));
  assert.equal(md5hex(board.flash.read(0x100000, app.length)), md5hex(app));
});

test('flash --profile: ROM-only profile, flash size detected from the board and patched into the bootloader', async (t) => {
  const { board, port } = await served(t, { chip: 'esp32', flashSize: '8MB' });
  const dir = await tmp(t);
  const profile = path.join(dir, 'station.yaml');
  await writeFile(
    profile,
    [
      'name: test-rom-only',
      'chip: esp32',
      'imageSet:',
      `  folder: ${ESP_AT}`,
      'flash:',
      '  size: detect',
      'stub: false',
      '',
    ].join('\n'),
  );
  const r = await cli(['flash', '--port', port, '--profile', profile, '--after', 'no-reset']);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.match(r.stdout, /Loader: ROM at /);
  assert.match(r.stdout, /Flash size: +8MB/);
  // Bootloader header byte 3: size nibble 3 (8MB) in the high half, freq 40m (0) in the low half.
  assert.equal(board.flash.read(0x1000 + 3, 1)[0], 0x30);
  const app = await readFile(path.join(ESP_AT, 'esp-at.bin'));
  assert.equal(md5hex(board.flash.read(0x100000, app.length)), md5hex(app));
});

test('a board with flash encryption is refused (exit 1) unless the profile allows it', async (t) => {
  const { board, port } = await served(t, { chip: 'esp32', faults: ['flash-encryption'] });
  const dir = await tmp(t);
  await writeFile(path.join(dir, 'a.bin'), Buffer.alloc(4096, 1));
  const r = await cli(['flash', '--port', port, `0x10000=${path.join(dir, 'a.bin')}`]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /flash encryption is enabled/);
  assert.ok(board.flash.read(0x10000, 16).every((b: number) => b === 0xff));
});

test('info over socket:// prints chip, revision, MAC, flash and security', async (t) => {
  const { port } = await served(t, {
    chip: 'esp32s3',
    revision: 2,
    mac: '34:85:18:00:00:07',
    flashSize: '16MB',
    faults: ['secure-boot'],
  });
  const r = await cli(['info', '--port', port]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /Chip: +ESP32-S3 \(revision v0\.2\)/);
  assert.match(r.stdout, /MAC: +34:85:18:00:00:07/);
  assert.match(r.stdout, /Flash size: +16MB/);
  assert.match(r.stdout, /Secure boot: +ENABLED/);
  assert.match(r.stdout, /Flash encryption: +disabled/);
});

test('a board that corrupts flash fails the run with exit 1 and says why', async (t) => {
  const { port } = await served(t, { chip: 'esp32', faults: ['silent-corruption'] });
  const dir = await tmp(t);
  await writeFile(path.join(dir, 'a.bin'), Buffer.alloc(8192, 0x5a));
  const r = await cli(['flash', '--port', port, `0x10000=${path.join(dir, 'a.bin')}`]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /FAIL: .*flash MD5 [0-9a-f]{32} does not match/);
});

test('the wrong chip on the port fails with exit 1 before writing', async (t) => {
  const { board, port } = await served(t, { chip: 'esp32c6' });
  const dir = await tmp(t);
  await writeFile(path.join(dir, 'a.bin'), Buffer.alloc(4096, 1));
  const r = await cli(['flash', '--port', port, '--chip', 'esp32', `0x10000=${path.join(dir, 'a.bin')}`]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /FAIL: This board is an ESP32-C6; the profile flashes ESP32\..*\[wrong-chip\]/);
  assert.ok(board.flash.read(0x10000, 16).every((b: number) => b === 0xff));
});

test('bad input exits 2 without touching a board', async () => {
  const [noPort, badPair, missing, badChip] = await Promise.all([
    cli(['flash', '0x0=x.bin']),
    cli(['flash', '--port', 'socket://127.0.0.1:1', 'app.bin']),
    cli(['flash', '--port', 'socket://127.0.0.1:1', '--chip', 'esp32', '0x10000=/nonexistent/app.bin']),
    cli(['info', '--port', 'socket://127.0.0.1:1', '--chip', 'esp99']),
  ]);
  assert.equal(noPort.code, 2);
  assert.match(noPort.stderr, /--port is required/);
  assert.equal(badPair.code, 2);
  assert.match(badPair.stderr, /not OFFSET=PATH/);
  assert.equal(missing.code, 2, missing.stderr);
  assert.match(missing.stderr, /cannot read \/nonexistent\/app.bin/);
  assert.equal(badChip.code, 2);
  assert.match(badChip.stderr, /unknown chip 'esp99'/);
});

test('a link that drops mid-write fails with exit 1 and says disconnected', async (t) => {
  const { port } = await served(t, { chip: 'esp32', faults: ['disconnect:60000'] });
  const dir = await tmp(t);
  // Incompressible, so far more than 60000 bytes cross the link.
  const data = randomBytes(300_000);
  await writeFile(path.join(dir, 'big.bin'), data);
  const r = await cli(['flash', '--port', port, `0x10000=${path.join(dir, 'big.bin')}`]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /FAIL: .*\(board disconnected: .*\) \[disconnected\]/);
});

test('info --json prints the identity as JSON', async (t) => {
  const { port } = await served(t, { chip: 'esp32h2', mac: '60:55:F9:00:00:01' });
  const r = await cli(['info', '--port', port, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const id = JSON.parse(r.stdout) as { chip: string; mac: string; flashSizeBytes: number };
  assert.equal(id.chip, 'esp32h2');
  assert.equal(id.mac, '60:55:F9:00:00:01');
  assert.equal(id.flashSizeBytes, 4 * 1024 * 1024);
});

test('an unreachable port is a link failure: exit 1', async () => {
  const r = await cli(['info', '--port', 'socket://127.0.0.1:1']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /FAIL: /);
});

test('flash --at-port: the AT port is not the download port; over raw TCP the board is not reset, so not tested', async (t) => {
  const { port } = await served(t, { chip: 'esp32', flashSize: '4MB' });
  const dir = await tmp(t);
  const profile = path.join(dir, 'p.yaml');
  await writeFile(profile, `name: p\nchip: esp32\nimageSet:\n  folder: ${ESP_AT}\ntest: {}\n`);
  const same = await cli(['flash', '--port', port, '--at-port', port, '--profile', profile]);
  assert.equal(same.code, 2, same.stdout + same.stderr);
  assert.match(same.stderr, /--at-port is the AT port \(UART1\), not the port the board is flashed through/);
  const r = await cli(['flash', '--port', port, '--at-port', 'socket://127.0.0.1:9', '--profile', profile]);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.match(r.stdout, /AT test: skipped, the board was not reset \(no reset lines\)/);
});

test('flash --verbose prints the link lines: a stub-upload block damaged on the wire and uploaded again', async (t) => {
  const dir = await tmp(t);
  await writeFile(path.join(dir, 'a.bin'), Buffer.alloc(8192, 0x5a));
  const image = `0x10000=${path.join(dir, 'a.bin')}`;
  // The first data block after power-up is the stub upload's first MEM_DATA.
  const quiet = await served(t, { chip: 'esp32', faults: ['garbled-block:0'] });
  const r = await cli(['flash', '--port', quiet.port, image]);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.doesNotMatch(r.stderr, /^log:/m, 'without --verbose the link lines stay out');
  const loud = await served(t, { chip: 'esp32', faults: ['garbled-block:0'] });
  const v = await cli(['flash', '--verbose', '--port', loud.port, image]);
  assert.equal(v.code, 0, v.stderr + v.stdout);
  assert.match(
    v.stderr,
    /^log: .*stub upload: a block was damaged on the wire; uploading the segment again$/m,
  );
  assert.deepEqual(loud.board.flash.read(0x10000, 8192), Buffer.alloc(8192, 0x5a));
});
