/**
 * Remote ports as fixed slots: parsing `--port` values, and a Station flashing two simulated boards served over
 * TCP (the simulator's server), one slot per URL, with the baud following the chip (the sim's TCP end does).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { SimBoard } from '../../src/sim/board.ts';
import { startSimServers } from '../../src/sim/tcp-server.ts';
import type { BridgeDevice } from '../../src/station/detect/bridge-device.ts';
import { parseStaticPort, StaticPortSource } from '../../src/station/detect/static-ports.ts';
import { EspBoardLink } from '../../src/station/esp-board-link.ts';
import type { StationEvent } from '../../src/station/events.ts';
import { Station } from '../../src/station/station.ts';
import { makeFirmware, MemoryLedger } from './fakes.ts';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

test('--port values: socket://HOST:PORT, optionally NAME=, anything else is refused with an example', () => {
  assert.deepEqual(parseStaticPort('socket://10.0.0.5:4001'), { url: 'socket://10.0.0.5:4001' });
  assert.deepEqual(parseStaticPort('A1=socket://rack-2:4002'), { name: 'A1', url: 'socket://rack-2:4002' });
  assert.deepEqual(parseStaticPort('socket://[::1]:5555'), { url: 'socket://[::1]:5555' });
  for (const bad of [
    '/dev/ttyUSB0',
    'tcp://h:1',
    'socket://h',
    'socket://h:0',
    'socket://h:70000',
    '=socket://h:1',
  ]) {
    assert.throws(() => parseStaticPort(bad), /socket:\/\/HOST:PORT|name before/, bad);
  }
  assert.throws(
    () => new StaticPortSource([{ url: 'socket://h:1' }, { url: 'socket://h:1', name: 'B' }]),
    /given twice/,
  );
});

test('each port is attached once at start (whatever offerPresent says) and never detached', async () => {
  const source = new StaticPortSource([{ url: 'socket://h:1', name: 'A1' }, { url: 'socket://h:2' }]);
  const seen: BridgeDevice[] = [];
  let detached = 0;
  await source.start({ attach: (d) => seen.push(d), detach: () => detached++ }, { offerPresent: false });
  await source.stop();
  assert.equal(source.mode, 'static');
  assert.deepEqual(
    seen.map((d) => [d.portPath, d.tty]),
    [
      ['socket://h:1', 'socket://h:1'],
      ['socket://h:2', 'socket://h:2'],
    ],
  );
  assert.equal(detached, 0);
  assert.deepEqual(source.slotNames(), [
    { name: 'A1', usbPath: 'socket://h:1' },
    { name: 'socket://h:2', usbPath: 'socket://h:2' },
  ]);
});

test('a station flashes boards on remote ports: one named slot each, at the ladder baud, MD5-verified', async (t) => {
  const boards = [0, 1].map((i) => new SimBoard({ chip: 'esp32', timing: 'fast', seed: i + 1 }));
  const servers = await startSimServers({ boards });
  t.after(() => Promise.all(servers.map((s) => s.close())));
  const ports = servers.map((s, i) => ({ url: `socket://127.0.0.1:${s.port}`, name: `R${i + 1}` }));
  const source = new StaticPortSource(ports);
  const firmware = makeFirmware([0x2000, 0x5000]);
  const ledger = new MemoryLedger();
  const station = new Station({
    stationName: 'remote',
    firmware,
    policy: {
      chip: 'esp32',
      allowSecureBoot: false,
      allowFlashEncryption: false,
      baudLadder: [921600],
      regionRetries: 0,
      boardRetriesPerBaud: 0,
      stub: true,
      compress: true,
      skipUnchanged: false,
      eraseAll: false,
      resetAfter: true,
    },
    slots: source.slotNames(),
    concurrency: 2,
    source,
    link: new EspBoardLink({ remoteFollowsBaud: true }),
    ledger,
    boardTimeoutMs: 30_000,
    linkLog: true,
  });
  const events: StationEvent[] = [];
  station.bus.subscribe((e) => events.push(e));
  const done = new Promise<void>((resolve) => {
    let n = 0;
    station.onAttemptDone(() => {
      if (++n === 2) resolve();
    });
  });
  t.after(() => station.stop({ abortInFlight: true }));
  await station.start();
  await done;
  await station.stop();

  const started = events.find((e) => e.type === 'station' && e.state === 'running');
  assert.equal(started?.type === 'station' && started.detection, 'static');
  assert.deepEqual(ledger.records.map((r) => [r.slot, r.portPath, r.result, r.baud]).sort(), [
    ['R1', ports[0].url, 'pass', 921600],
    ['R2', ports[1].url, 'pass', 921600],
  ]);
  for (const [i, board] of boards.entries()) {
    // The baud was changed through the stub, which sets exactly the rate asked (no ROM clock error).
    assert.equal(board.chipBaud, 921600, `board ${i} runs at ${board.chipBaud}`);
    for (const r of firmware.regions) {
      const md5 = createHash('md5').update(board.flash.read(r.offset, r.data.length)).digest('hex');
      assert.equal(md5, r.md5, `board ${i} region ${r.label}`);
    }
  }
  // As esptool: the stub goes up at the ROM's 115200, then the baud changes through the stub (not the ROM).
  for (const p of ports) {
    const lines = events.flatMap((e) => (e.type === 'log' && e.slot === p.url ? [e.message] : []));
    const baudAt = lines.findIndex((l) => /baud rate 921600$/.test(l));
    const stubAt = lines.findIndex((l) => l.includes('stub running'));
    assert.ok(stubAt >= 0 && baudAt > stubAt, `${p.name}: ${lines.join(' | ')}`);
    assert.ok(!lines.some((l) => /to the ROM/.test(l)), `${p.name}: the ROM was asked to change baud`);
  }
  // Attached once: a board that passed stays in its slot awaiting removal; it is not flashed again.
  assert.equal(events.filter((e) => e.type === 'slot-attached').length, 2);
  assert.equal(ledger.records.length, 2);
});

test('esp-station run --port ... --port-follows-baud --headless --once flashes each remote port once and exits 0', async (t) => {
  const boards = [0, 1].map((i) => new SimBoard({ chip: 'esp32', timing: 'fast', seed: 10 + i }));
  const servers = await startSimServers({ boards });
  t.after(() => Promise.all(servers.map((s) => s.close())));
  const dir = await mkdtemp(path.join(tmpdir(), 'run-port-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  // The demo image set, no boot check: a raw TCP link has no reset line to boot the board with.
  await writeFile(
    path.join(dir, 'profile.yaml'),
    'name: remote-demo\nchip: esp32\ndemo: true\nimageSet:\n  demo: esp-at\nretry:\n  regionRetries: 0\n  boardRetriesPerBaud: 0\n',
  );
  await writeFile(
    path.join(dir, 'config.yaml'),
    'station: remote\nprofile: profile.yaml\nbaudLadder: [921600]\nledger:\n  dir: ledger\n',
  );
  const urls = servers.map((s) => `socket://127.0.0.1:${s.port}`);
  const child = spawn(
    process.execPath,
    [
      path.join(REPO, 'bin/esp-station.mjs'),
      'run',
      '--config',
      path.join(dir, 'config.yaml'),
      '--headless',
      '--once',
      '--port-follows-baud',
      '--port',
      `A1=${urls[0]}`,
      '--port',
      urls[1],
    ],
    { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  t.after(() => child.kill());
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  assert.equal(code, 0, err);
  const results = out
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as StationEvent)
    .filter((e) => e.type === 'result');
  assert.deepEqual(
    results.map((e) => [e.slot, e.type === 'result' && e.result]).sort(),
    [
      [urls[0], 'pass'],
      [urls[1], 'pass'],
    ].sort(),
  );
  const ledgerFiles = await readdir(path.join(dir, 'ledger'));
  const records = (await Promise.all(ledgerFiles.map((f) => readFile(path.join(dir, 'ledger', f), 'utf8'))))
    .join('')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { slot: string; baud: number; result: string });
  assert.deepEqual(
    records.map((r) => [r.slot, r.baud, r.result]).sort(),
    [
      ['A1', 921600, 'pass'],
      [urls[1], 921600, 'pass'],
    ].sort(),
  );
});

test('esp-station run refuses --port values it cannot use, with exit 2', async () => {
  const child = spawn(
    process.execPath,
    [
      path.join(REPO, 'bin/esp-station.mjs'),
      'run',
      '--headless',
      '--port',
      '/dev/ttyUSB0',
      '--port-follows-baud',
    ],
    { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  assert.equal(code, 2);
  assert.match(err, /--port.*socket:\/\/HOST:PORT/s);
});
