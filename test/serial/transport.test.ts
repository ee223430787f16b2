import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { once } from 'node:events';
import { openTransport } from '../../src/serial/transport.ts';
import { DisconnectedError } from '../../src/serial/link-errors.ts';
import { parseSocketUrl } from '../../src/serial/socket-transport.ts';
import { SimBinding } from '../../src/sim/binding.ts';
import { SimBoard } from '../../src/sim/board.ts';

async function echoServer(t: TestContext) {
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    sockets.add(s);
    s.on('data', (d) => s.write(d));
    s.on('close', () => sockets.delete(s));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  t.after(() => {
    for (const s of sockets) s.destroy();
    server.close();
  });
  return { url: `socket://127.0.0.1:${port}`, sockets };
}

test('parseSocketUrl accepts host:port and bracketed IPv6, rejects junk', () => {
  assert.deepEqual(parseSocketUrl('socket://10.0.0.5:4000'), { host: '10.0.0.5', port: 4000 });
  assert.deepEqual(parseSocketUrl('socket://[::1]:23'), { host: '::1', port: 23 });
  assert.throws(() => parseSocketUrl('socket://host'), RangeError);
  assert.throws(() => parseSocketUrl('socket://host:0'), RangeError);
});

test('socket transport: bytes both ways, no control lines, baud only recorded', async (t) => {
  const { url } = await echoServer(t);
  const tr = await openTransport(url);
  t.after(() => tr.close());
  assert.equal(tr.supportsControlLines, false);
  const got: Buffer[] = [];
  const off = tr.onData((c) => got.push(c));
  await tr.write(Buffer.from('hello'));
  while (Buffer.concat(got).length < 5) await new Promise((r) => setTimeout(r, 5));
  off();
  assert.equal(Buffer.concat(got).toString(), 'hello');
  await tr.setSignals({ dtr: true, rts: false });
  await tr.setBaudRate(921600);
  assert.equal(tr.baudRate, 921600);
  await tr.close();
  assert.equal(await tr.closed, undefined);
  await assert.rejects(tr.write(Buffer.from('x')), DisconnectedError);
});

test('socket transport: the far end going away resolves closed with a DisconnectedError', async (t) => {
  const { url, sockets } = await echoServer(t);
  const tr = await openTransport(url);
  t.after(() => tr.close());
  while (sockets.size === 0) await new Promise((r) => setTimeout(r, 5));
  for (const s of sockets) s.destroy();
  const err = await tr.closed;
  assert.ok(err instanceof DisconnectedError);
  await assert.rejects(tr.write(Buffer.from('x')), DisconnectedError);
});

test('socket transport: connection refused is a DisconnectedError', async () => {
  const srv = createServer();
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  await assert.rejects(openTransport(`socket://127.0.0.1:${port}`), DisconnectedError);
});

test('serial transport over a serialport binding: signals reach the board, unplug closes with an error', async (t) => {
  const binding = new SimBinding();
  const board = new SimBoard({ timing: 'fast' });
  binding.plug('/dev/ttyT0', board);
  const tr = await openTransport('/dev/ttyT0', {
    binding: binding as never,
    baudRate: 115200,
    usbVidPid: { vid: 0x10c4, pid: 0xea60 },
  });
  t.after(() => tr.close());
  assert.equal(tr.supportsControlLines, true);
  assert.deepEqual(tr.usbVidPid, { vid: 0x10c4, pid: 0xea60 });
  // EN low (RTS asserted, DTR released) holds the chip in reset.
  await tr.setSignals({ dtr: false, rts: true });
  assert.equal(board.mode, 'reset');
  await tr.setBaudRate(460800);
  assert.equal(tr.baudRate, 460800);
  binding.unplug('/dev/ttyT0');
  const err = await tr.closed;
  assert.ok(err instanceof DisconnectedError);
  await assert.rejects(tr.setSignals({ dtr: false, rts: false }), DisconnectedError);
});

test('opening a port that does not exist fails with a DisconnectedError naming it', async () => {
  const binding = new SimBinding();
  await assert.rejects(
    openTransport('/dev/ttyNOPE', { binding: binding as never }),
    (e: Error) => e instanceof DisconnectedError && /ttyNOPE/.test(e.message),
  );
});

test('an aborted signal stops openTransport before it starts', async () => {
  const ac = new AbortController();
  ac.abort();
  await assert.rejects(openTransport('socket://127.0.0.1:1', { signal: ac.signal }));
});

test('serial transport reopen: a native-USB device that re-enumerated is opened again on the same path', async (t) => {
  const binding = new SimBinding();
  // Blank flash still "runs" as far as the USB goes: firmware that owns the USB drops off the bus on reset.
  const board = new SimBoard({ chip: 'esp32c3', resetCircuit: 'usb-jtag', appOwnsUsb: true, timing: 'fast' });
  binding.plug('/dev/ttyACM0', board);
  t.after(() => binding.unplug('/dev/ttyACM0'));
  const tr = await openTransport('/dev/ttyACM0', { binding: binding as never });
  t.after(() => tr.close());
  const got: Buffer[] = [];
  tr.onData((c) => got.push(c));
  const firstClosed = tr.closed;
  // DTR then RTS alone: download latched, then the chip resets and its USB leaves the bus.
  await tr.setSignals({ dtr: true, rts: false });
  await tr.setSignals({ dtr: false, rts: true });
  assert.ok((await firstClosed) instanceof DisconnectedError);
  await assert.rejects(tr.setSignals({ dtr: false, rts: false }), DisconnectedError);
  await tr.reopen!({ delayMs: board.timing.usbReenumerateMs + 20 });
  assert.notEqual(tr.closed, firstClosed, 'a fresh closed promise for the new handle');
  // The ROM answers on the reopened port; the data listener registered before the reopen still gets it.
  const sync = Buffer.from([0xc0, 0x00, 0x08, 0x24, 0x00, 0, 0, 0, 0, 0x07, 0x07, 0x12, 0x20]);
  await tr.write(Buffer.concat([sync, Buffer.alloc(32, 0x55), Buffer.from([0xc0])]));
  for (let i = 0; i < 100 && !Buffer.concat(got).includes(Buffer.from([0xc0, 0x01, 0x08])); i++) {
    await new Promise((r) => setTimeout(r, 5));
  }
  assert.ok(Buffer.concat(got).includes(Buffer.from([0xc0, 0x01, 0x08])), 'SYNC reply after the reopen');
  await tr.close();
  assert.equal(await tr.closed, undefined);
});
