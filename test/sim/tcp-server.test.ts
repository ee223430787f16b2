import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { test } from 'node:test';
import { run as runSimCommand } from '../../src/cli/commands/sim.ts';
import { InputError } from '../../src/config/problems.ts';
import { SimBoard } from '../../src/sim/board.ts';
import { SlipDecoder, slipEncode } from '../../src/sim/slip.ts';
import { startAtServer, startSimServer, type SimServer } from '../../src/sim/tcp-server.ts';
import { AtClient } from '../../src/board-test/at-client.ts';
import { openTransport } from '../../src/serial/transport.ts';
import { REAL_AT_DIR } from '../firmware/fixture-paths.ts';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const SYNC = Buffer.from([0, 8, 36, 0, 0, 0, 0, 0, 7, 7, 0x12, 0x20, ...new Array<number>(32).fill(0x55)]);
const READ_MAGIC = Buffer.from([0, 0x0a, 4, 0, 0, 0, 0, 0, 0, 0x10, 0, 0x40]);

/** A raw socket:// client: send frames, collect reply frames. */
async function tcpClient(port: number) {
  const socket: Socket = connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  const frames: Buffer[] = [];
  const dec = new SlipDecoder((f) => frames.push(f));
  socket.on('data', (d: Buffer) => dec.push(d));
  let closed = false;
  socket.on('close', () => (closed = true));
  const waitFor = async (n: number) => {
    for (let i = 0; i < 200 && frames.length < n && !closed; i++) await new Promise((r) => setTimeout(r, 5));
  };
  return {
    frames,
    async send(pkt: Buffer, n = 1) {
      frames.length = 0;
      socket.write(slipEncode(pkt));
      await waitFor(n);
      return [...frames];
    },
    close: () => new Promise<void>((r) => socket.end(r)),
  };
}

test('TCP: the board waits in download mode; flash and stub state survive reconnects', async (t) => {
  const board = new SimBoard({ chip: 'esp32' });
  const server = await startSimServer({ host: '127.0.0.1', port: 0, board });
  t.after(() => server.close());
  assert.match(server.url, /^tcp:\/\/127\.0\.0\.1:\d+$/);
  assert.equal(board.mode, 'download');
  const a = await tcpClient(server.port);
  const replies = await a.send(SYNC, 8);
  assert.equal(replies.length, 8);
  assert.equal(replies[0].readUInt32LE(4), 0x20120707);
  const magic = await a.send(READ_MAGIC);
  assert.equal(magic[0].readUInt32LE(4), 0x00f01d83);
  await a.close();
  board.flash.program(0x10000, Buffer.from('kept'));
  const b = await tcpClient(server.port);
  assert.equal((await b.send(READ_MAGIC))[0].readUInt32LE(4), 0x00f01d83);
  assert.deepEqual(board.flash.read(0x10000, 4), Buffer.from('kept'));
  await b.close();
});

test('TCP timing follows CHANGE_BAUDRATE; a dropped link (disconnect fault) is a closed socket', async (t) => {
  const board = new SimBoard({ chip: 'esp32', faults: ['disconnect:200'] });
  const server = await startSimServer({ port: 0, board });
  t.after(() => server.close());
  const c = await tcpClient(server.port);
  const baud = Buffer.concat([
    Buffer.from([0, 0x0f, 8, 0, 0, 0, 0, 0]),
    Buffer.from([0x00, 0x10, 0x0e, 0, 0, 0, 0, 0]),
  ]);
  await c.send(baud);
  assert.ok(board.chipBaud > 900000, `chip runs at ${board.chipBaud}`);
  let lost = false;
  board.once('link-lost', () => (lost = true));
  for (let i = 0; i < 10 && !lost; i++) await c.send(SYNC, 8);
  assert.equal(lost, true);
  assert.equal(board.mode, 'off');
  // A new client finds the board powered up again in download mode.
  const d = await tcpClient(server.port);
  assert.equal((await d.send(READ_MAGIC))[0]?.readUInt32LE(4), 0x00f01d83);
  await d.close();
});

test('esp-station sim: serves N boards on consecutive ports until stopped; bad input is exit 2 material', async () => {
  const stop = new AbortController();
  let servers: SimServer[] = [];
  const out: string[] = [];
  const log = console.log;
  console.log = (...a: unknown[]) => out.push(a.join(' '));
  try {
    const done = runSimCommand(
      [
        '--listen',
        'tcp://127.0.0.1:0',
        '--chip',
        'esp32s3',
        '--mac',
        'aa:bb:cc:00:00:fe',
        '--boards',
        '3',
        '--timing',
        'fast',
        '--fault',
        'slow-flash:2',
        '--latency-ms',
        '16',
      ],
      { signal: stop.signal, onListening: (s) => (servers = s) },
    );
    while (servers.length === 0) await new Promise((r) => setTimeout(r, 5));
    assert.deepEqual(
      servers.map((s) => s.board.mac),
      ['aa:bb:cc:00:00:fe', 'aa:bb:cc:00:00:ff', 'aa:bb:cc:00:01:00'],
    );
    assert.equal(servers[0].board.chip.name, 'esp32s3');
    assert.equal(servers[0].board.timing.flashSlowdown, 2);
    assert.equal(servers[0].board.usbLatencyMs, 16);
    const c = await tcpClient(servers[2].port);
    assert.equal((await c.send(READ_MAGIC))[0].readUInt32LE(4), 9);
    await c.close();
    stop.abort();
    assert.equal(await done, 0);
  } finally {
    console.log = log;
  }
  assert.match(
    out[0],
    /^sim: ESP32-S3 v0\.2 aa:bb:cc:00:00:fe listening on tcp:\/\/127\.0\.0\.1:\d+ \(socket:\/\/127\.0\.0\.1:\d+\)$/,
  );
  assert.equal(out.at(-1), 'sim: stopped');

  await assert.rejects(
    runSimCommand(['--chip', 'esp99', '--fault', 'melt', '--listen', 'udp://x', '--latency-ms', 'soon']),
    (err: unknown) => {
      assert.ok(err instanceof InputError);
      assert.deepEqual(
        err.problems.map((p) => p.key),
        ['--listen', '--chip', '--fault', '--latency-ms'],
      );
      return true;
    },
  );
});

test("esp-station sim --at-listen: each board's AT port on its own TCP port, silent until ESP-AT runs", async () => {
  const stop = new AbortController();
  let servers: (SimServer & { at?: { port: number; url: string } })[] = [];
  const log = console.log;
  const out: string[] = [];
  console.log = (...a: unknown[]) => out.push(a.join(' '));
  try {
    const done = runSimCommand(
      [
        '--listen',
        'tcp://127.0.0.1:0',
        '--at-listen',
        'tcp://127.0.0.1:0',
        '--boards',
        '2',
        '--timing',
        'fast',
      ],
      { signal: stop.signal, onListening: (s) => (servers = s) },
    );
    while (servers.length === 0) await new Promise((r) => setTimeout(r, 5));
    assert.ok(servers.every((s) => s.at && s.at.port !== s.port));
    // The board waits in download mode: its AT port says nothing, whatever it is sent.
    const at = connect(servers[0].at!.port, '127.0.0.1');
    let heard = '';
    at.on('data', (d: Buffer) => (heard += d.toString('latin1')));
    await new Promise<void>((resolve) => at.once('connect', () => resolve()));
    at.write('AT\r\n');
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(heard, '');
    at.destroy();
    stop.abort();
    assert.equal(await done, 0);
  } finally {
    console.log = log;
  }
  assert.match(out[0], /, AT port on tcp:\/\/127\.0\.0\.1:\d+$/);
  await assert.rejects(
    runSimCommand(['--listen', 'tcp://127.0.0.1:0', '--at-listen', 'tcp://10.9.9.9:1']),
    (err: unknown) => err instanceof InputError && err.problems[0].key === '--at-listen',
  );
});

test('the AT port over TCP (ser2net-style): a board booting ESP-AT says ready there and answers', async (t) => {
  const board = new SimBoard({ chip: 'esp32', timing: 'fast', mac: '24:0a:c4:00:00:7e' });
  for (const [offset, file] of [
    [0x1000, 'bootloader/bootloader.bin'],
    [0x8000, 'partition_table/partition-table.bin'],
    [0x20000, 'at_customize.bin'],
    [0x21000, 'customized_partitions/mfg_nvs.bin'],
    [0x100000, 'esp-at.bin'],
  ] as const) {
    board.flash.program(offset, readFileSync(join(REAL_AT_DIR, file)));
  }
  const server = await startAtServer({ board });
  t.after(() => server.close());
  const at = await openTransport(`socket://127.0.0.1:${server.port}`, {});
  t.after(() => at.close());
  const client = new AtClient(at);
  t.after(() => client.dispose());
  board.powerOn(); // IO0 high: it boots the app from flash
  t.after(() => board.powerOff());
  const signal = AbortSignal.timeout(10_000);
  assert.equal((await client.waitForLine((l) => l === 'ready', 5000, signal)).line, 'ready');
  const mac = await client.command('AT+CIPSTAMAC?', 2000, signal);
  assert.deepEqual([mac.final, mac.lines.at(-1)], ['OK', '+CIPSTAMAC:"24:0a:c4:00:00:7e"']);
});

test('esp-station sim --revision: the boards report it; a revision the chip cannot hold is refused with a sentence', async () => {
  const stop = new AbortController();
  let servers: SimServer[] = [];
  const log = console.log;
  console.log = () => {};
  try {
    const done = runSimCommand(
      ['--listen', 'tcp://127.0.0.1:0', '--chip', 'esp32c3', '--revision', 'v0.3', '--timing', 'fast'],
      { signal: stop.signal, onListening: (s) => (servers = s) },
    );
    while (servers.length === 0) await new Promise((r) => setTimeout(r, 5));
    assert.equal(servers[0].board.revision, 3);
    stop.abort();
    assert.equal(await done, 0);
  } finally {
    console.log = log;
  }
  for (const [args, message] of [
    [['--chip', 'esp32', '--revision', 'v4.0'], /ESP32 cannot be revision v4\.0 .*leave it out for v3\.0/],
    [
      ['--chip', 'esp32c3', '--revision', 'banana'],
      /'banana' is not a chip revision; .* e\.g\. v3\.0 or v0\.4/,
    ],
  ] as const) {
    await assert.rejects(runSimCommand(['--listen', 'tcp://127.0.0.1:0', ...args]), (err: unknown) => {
      assert.ok(err instanceof InputError);
      assert.deepEqual(
        err.problems.map((p) => p.key),
        ['--revision'],
      );
      assert.match(err.problems[0].message, message);
      return true;
    });
  }
});
