import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SimBoard } from '../../src/sim/board.ts';
import { USB_PACKET_BYTES, UsbLatencyBuffer } from '../../src/sim/usb-latency.ts';
import { romSession, u32 } from '../support/raw-sim-client.ts';

test('latency timer: a short reply waits for the timer, full packets leave at once', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const got: number[] = [];
  const buf = new UsbLatencyBuffer(16, (b) => got.push(b.length));
  buf.push(Buffer.alloc(14));
  t.mock.timers.tick(15);
  assert.deepEqual(got, [], 'held inside the bridge');
  t.mock.timers.tick(1);
  assert.deepEqual(got, [14]);
  // 150 bytes in two writes: each full packet goes at once, the 22-byte rest waits for the timer.
  buf.push(Buffer.alloc(100));
  buf.push(Buffer.alloc(50));
  assert.deepEqual(got, [14, USB_PACKET_BYTES, USB_PACKET_BYTES]);
  t.mock.timers.tick(16);
  assert.deepEqual(got, [14, 64, 64, 22]);
  buf.push(Buffer.alloc(5));
  buf.clear();
  t.mock.timers.tick(50);
  assert.deepEqual(got, [14, 64, 64, 22], 'a host that went away gets nothing');
});

test('latency 0 passes bytes straight through', () => {
  const got: number[] = [];
  const buf = new UsbLatencyBuffer(0, (b) => got.push(b.length));
  buf.push(Buffer.alloc(3));
  assert.deepEqual(got, [3]);
});

test('a board with a 16 ms latency timer answers a READ_REG no sooner than 16 ms later', async (t) => {
  for (const usbLatencyMs of [0, 16]) {
    const board = new SimBoard({ chip: 'esp32', usbLatencyMs });
    t.after(() => board.powerOff());
    const client = await romSession(board);
    // The banner's tail (less than a packet) comes with the timer; start from an empty bridge.
    await client.until(() => client.text.endsWith('waiting for download\r\n'));
    const started = performance.now();
    const reply = await client.command(0x0a, u32(0x40001000));
    const ms = performance.now() - started;
    assert.equal(reply?.value, 0x00f01d83);
    if (usbLatencyMs > 0) assert.ok(ms >= usbLatencyMs - 1, `${ms.toFixed(1)} ms`);
    board.powerOff();
  }
});

test('a bridge above its top baud garbles every byte: no SYNC reply at 3 Mbaud through a 2 Mbaud bridge', async (t) => {
  const slow = new SimBoard({ chip: 'esp32', bridgeMaxBaud: 2_000_000 });
  t.after(() => slow.powerOff());
  const over = await romSession(slow, 3_000_000);
  assert.equal((await over.sync()).length, 0);
  over.close();
  const held = new SimBoard({ chip: 'esp32', bridgeMaxBaud: 2_000_000 });
  t.after(() => held.powerOff());
  const within = await romSession(held, 2_000_000);
  assert.equal((await within.sync()).length, 8);
});
