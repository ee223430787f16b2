import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SimBoard } from '../../src/sim/board.ts';
import { ChipClock } from '../../src/sim/chip-clock.ts';
import { WireQueue } from '../../src/sim/wire-queue.ts';
import { romSession, u32 } from '../support/raw-sim-client.ts';

const MIB = 0x100000;

/** The host's event loop is stuck (a GC pause, a busy machine): every timer due meanwhile fires late. */
function busyFor(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end);
}

test('the chip clock only moves forward, to events that have passed', () => {
  const clock = new ChipClock();
  const t0 = clock.now();
  assert.ok(t0 <= performance.now());
  clock.reached(t0 + 5);
  clock.reached(t0 + 2);
  assert.equal(clock.now(), t0 + 5);
});

test('a delay is dated from when the work began, and never ends before that time plus its length', async () => {
  const clock = new ChipClock();
  const signal = new AbortController().signal;
  // The chip began the work 50 ms ago (its timer woke late): 80 ms of work end 30 ms from now, not 80.
  const began = performance.now() - 50;
  clock.reached(began);
  await clock.delay(80, signal, began);
  assert.equal(clock.now(), began + 80);
  assert.ok(performance.now() >= began + 80, 'the work ended before its time');
  // Work that should have ended already ends at once, still at its own time on the chip's clock.
  const long = performance.now() - 200;
  await clock.delay(20, signal, long);
  assert.equal(clock.now(), began + 80, 'an earlier end does not move the clock back');
});

test('a delay rejects when the chip resets', async () => {
  const clock = new ChipClock();
  const reset = new AbortController();
  const waiting = clock.delay(1000, reset.signal);
  reset.abort(new Error('chip reset'));
  await assert.rejects(waiting, /chip reset/);
});

test("the wire queue starts bytes at their sender's time and delivers them no sooner than their wire time", async () => {
  const q = new WireQueue(() => true);
  const from = performance.now() - 3;
  const arrived = await new Promise<{ at: number; now: number }>((resolve) =>
    q.push(10, (at) => resolve({ at, now: performance.now() }), from),
  );
  assert.equal(arrived.at, from + 10);
  // The pump allows half a millisecond for a timer that fires early.
  assert.ok(arrived.now >= from + 10 - 0.5, `delivered ${from + 10 - arrived.now} ms early`);
});

test('a reply is timed from when its request arrived on the wire, not from when a late timer handed it over', async (t) => {
  const board = new SimBoard({ chip: 'esp32', timing: 'realistic' });
  t.after(() => board.powerOff());
  const client = await romSession(board);
  assert.equal((await client.sync()).length, 8);
  assert.ok(await client.command(0x0d, u32(0, 0)), 'SPI_ATTACH');
  // The ROM's MD5 over 2 MiB (the size it assumes before SPI_SET_PARAMS) keeps it busy 500 ms (md5MsPerMiB 250).
  // The host sends the request, then its event loop is stuck for 400 ms: the request's bytes are handed to the
  // chip ~400 ms after they arrived.
  client.frames = [];
  const sentAt = performance.now();
  void client.send(0x13, u32(0, 2 * MIB, 0, 0));
  busyFor(400);
  let reply: Buffer | undefined;
  assert.ok(
    await client.until(() => !!(reply = client.frames.find((f) => f[0] === 1 && f[1] === 0x13)), 5000),
    'no MD5 reply',
  );
  const tookMs = performance.now() - sentAt;
  assert.equal(reply!.length, 8 + 32 + 4, 'the MD5 as 32 hex digits and the ROM status');
  assert.equal(reply![8 + 32], 0, 'MD5 status');
  // 26 bytes of request and 46 of reply at 115200 (~6.3 ms) plus 500 ms of MD5: never sooner than that.
  assert.ok(tookMs >= 506, `reply after ${tookMs.toFixed(1)} ms: sooner than the wire and the chip allow`);
  // A chip that dated its work from the late hand-over would answer after 400 + 500 ms.
  assert.ok(
    tookMs < 750,
    `reply after ${tookMs.toFixed(1)} ms: the host's stall was added to the chip's time`,
  );
});
