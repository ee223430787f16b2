import { test } from 'node:test';
import assert from 'node:assert/strict';
import { esp32RomBaudToSend } from '../../src/esp/baud-drift.ts';
import {
  classicReset,
  defaultResetStrategies,
  noReset,
  runReset,
  unixTightReset,
  usbJtagSerialReset,
} from '../../src/esp/reset.ts';
import type { Transport } from '../../src/serial/transport.ts';
import { deflBlockTimeout, timeoutPerMb } from '../../src/esp/timeouts.ts';
import { flashSizeFromId, formatFlashSize, isBadFlashId } from '../../src/esp/flash-size.ts';

function fakeTransport(over: Partial<Transport> = {}): Transport & { lines: string[] } {
  const lines: string[] = [];
  return {
    path: '/dev/fake',
    baudRate: 115200,
    supportsControlLines: true,
    write: async () => {},
    onData: () => () => {},
    setSignals: async (s) => void lines.push(`${s.dtr ? 'D' : 'd'}${s.rts ? 'R' : 'r'}`),
    setBaudRate: async () => {},
    flushInput: () => {},
    close: async () => {},
    closed: new Promise(() => {}),
    lines,
    ...over,
  };
}

test('default strategy order follows esptool on POSIX (§7)', () => {
  const names = defaultResetStrategies(fakeTransport()).map((s) => s.name);
  assert.deepEqual(names, ['UnixTight(50 ms)', 'UnixTight(550 ms)', 'Classic(50 ms)', 'Classic(550 ms)']);
  assert.deepEqual(defaultResetStrategies(fakeTransport({ usbVidPid: { vid: 0x303a, pid: 0x1001 } })), [
    usbJtagSerialReset,
  ]);
  assert.deepEqual(defaultResetStrategies(fakeTransport({ supportsControlLines: false })), [noReset]);
});

test('Classic reset: EN low with IO0 high, then EN high with IO0 low, then release', async () => {
  const t = fakeTransport();
  await runReset(t, classicReset(50), undefined, 0);
  // (dtr,rts): F,T (EN low) ... T,F (IO0 low, EN released) ... F,F
  assert.deepEqual(t.lines, ['dR', 'dR', 'DR', 'Dr', 'dr']);
});

test('UnixTight reset writes both lines together', async () => {
  const t = fakeTransport();
  await runReset(t, unixTightReset(50), undefined, 0);
  assert.deepEqual(t.lines, ['dr', 'DR', 'dR', 'Dr', 'dr', 'dr']);
});

test('reset does nothing on a link without control lines', async () => {
  const t = fakeTransport({ supportsControlLines: false });
  await runReset(t, classicReset(50), undefined, 0);
  assert.deepEqual(t.lines, []);
});

test('reset stops at once when aborted', async () => {
  const t = fakeTransport();
  const ac = new AbortController();
  ac.abort();
  await assert.rejects(runReset(t, classicReset(50), ac.signal, 0));
  assert.deepEqual(t.lines, []);
});

test('ESP32 ROM baud compensation (§2.2): rom_freq = cali × 15625 × ck8m / 40', async () => {
  const regs = new Map([
    [0x3ff5f06c, 2013 << 7],
    [0x3ff5a010, (0x0b << 8) | 51],
  ]);
  const read = async (a: number) => regs.get(a) ?? 0;
  // rom_freq = floor(2013*15625*51/40) = 40102734 → 921600 * 40102734 / 40e6
  assert.equal(await esp32RomBaudToSend(921600, read), Math.floor((921600 * 40102734) / 40e6));
  assert.equal(await esp32RomBaudToSend(921600, async () => 0), 921600);
});

test('timeouts scale per MB with a 3 s floor (§4)', () => {
  assert.equal(timeoutPerMb(8000, 1000), 3000);
  assert.equal(timeoutPerMb(40000, 1_000_000), 40000);
  assert.equal(deflBlockTimeout(0x4000, false), 3000);
  // stub: 16 KiB + (1+1)*64 KiB = 147456 bytes → 5.9 s
  assert.equal(deflBlockTimeout(0x4000, true), (40000 * (0x4000 + 2 * 0x10000)) / 1e6);
});

test('flash size from the RDID capacity byte (§10.2)', () => {
  assert.equal(flashSizeFromId(0x1640ef), 4 * 1024 * 1024);
  assert.equal(flashSizeFromId(0x1840c8), 16 * 1024 * 1024);
  assert.equal(flashSizeFromId(0x3925c2), 32 * 1024 * 1024);
  assert.equal(flashSizeFromId(0x00471f), 4 * 1024 * 1024); // Adesto
  assert.equal(flashSizeFromId(0x99ffef), undefined);
  assert.equal(formatFlashSize(512 * 1024), '512KB');
  assert.equal(isBadFlashId(0xffffff), true);
  assert.equal(isBadFlashId(0x1640ef), false);
});
