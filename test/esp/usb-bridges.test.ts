import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ladderForBridge, usbBridge, USB_BRIDGES } from '../../src/esp/usb-bridges.ts';
import { DEFAULT_PORT_FILTERS } from '../../src/config/usb-bridges.ts';
import { ladderForSlot } from '../../src/station/bridge-ladder.ts';

test('bridge top baud: rates above the bridge give way to its top, the rest stay in order', () => {
  const ch340 = [0x1a86, 0x7523] as const;
  assert.deepEqual(ladderForBridge([3_000_000, 921600, 460800], ...ch340), [2_000_000, 921600, 460800]);
  assert.deepEqual(ladderForBridge([3_000_000, 2_000_000, 921600], ...ch340), [2_000_000, 921600]);
  assert.deepEqual(ladderForBridge([921600, 115200], ...ch340), [921600, 115200]);
  assert.deepEqual(ladderForBridge([12_000_000], 0x0403, 0x6001), [3_000_000]);
});

test('bridge top baud: unknown bridges and the chip’s own USB keep the configured ladder', () => {
  assert.deepEqual(ladderForBridge([5_000_000, 921600], 0x1234, 0x5678), [5_000_000, 921600]);
  assert.deepEqual(ladderForBridge([5_000_000, 921600], 0x303a, 0x1001), [5_000_000, 921600]);
  assert.equal(usbBridge(0x303a, 0x1001)?.topBaud, undefined);
});

test('bridge top baud: every UART bridge the port filter offers has a top; the filter is the same list', () => {
  for (const b of USB_BRIDGES.filter((x) => x.vid !== 0x303a)) assert.ok(b.topBaud! >= 921600, b.name);
  assert.deepEqual(
    DEFAULT_PORT_FILTERS.map((f) => `${f.vid}:${f.pid}`),
    USB_BRIDGES.map((b) => `${b.vid}:${b.pid}`),
  );
});

test('bridge top baud: the slot’s ladder says why it starts lower, once', () => {
  const lines: string[] = [];
  const ladder = ladderForSlot([3_000_000, 921600], { vid: '1a86', pid: '7523' }, (_, m) => lines.push(m));
  assert.deepEqual(ladder, [2_000_000, 921600]);
  assert.deepEqual(lines, ['CH340 holds at most 2000000 baud: starting at 2000000, not 3000000']);
  assert.deepEqual(
    ladderForSlot([921600], { vid: '1a86', pid: '7523' }, (_, m) => lines.push(m)),
    [921600],
  );
  assert.equal(lines.length, 1);
});
