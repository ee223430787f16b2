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
