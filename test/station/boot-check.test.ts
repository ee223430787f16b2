// The UART0 boot check judges what a real board's download port shows after a reset: the boot log's lines in
// order, no panic, no second ROM banner. The real ESP-AT v3.4.0.0 capture (fixture below, taken from the real
// ROM, bootloader and ESP-AT under QEMU) must pass; `ready` is never there.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  judgeBootOutput,
  watchBootOutput,
  type BootCheckPolicy,
  type BootOutputSource,
} from '../../src/station/boot-check.ts';

const POLICY: BootCheckPolicy = {
  expect: ['boot: Loaded app from partition at offset', 'at param mode:'],
  forbid: ['Guru Meditation Error', 'Rebooting...'],
  timeoutMs: 200,
  settleMs: 60,
};

// Lines of the real capture (CR LF and the bootloader's colour codes as the chip sends them).
const REAL_ESP_AT_BOOT = [
  'ets Jul 29 2019 12:21:46',
  '',
  'rst:0x1 (POWERON_RESET),boot:0x12 (SPI_FAST_FLASH_BOOT)',
  'entry 0x40080600',
  '\x1b[0;32mI (757) boot: ESP-IDF v5.0.6-dirty 2nd stage bootloader\x1b[0m',
  '\x1b[0;32mI (1231) boot: Loaded app from partition at offset 0x100000\x1b[0m',
  '\x1b[0;32mI (1234) boot: Set actual ota_seq=1 in otadata[0]\x1b[0m',
  'external 32k oscillator already started.',
  'at param mode: 1',
  '',
].join('\r\n');

test('the real ESP-AT boot log passes; ready is not needed on UART0', () => {
  assert.deepEqual(judgeBootOutput(REAL_ESP_AT_BOOT, POLICY), { state: 'booted' });
  assert.doesNotMatch(REAL_ESP_AT_BOOT, /\bready\b/);
});

test('expected lines count only in order; a missing one is named', () => {
  const reordered = 'at param mode: 1\r\nI (1) boot: Loaded app from partition at offset 0x10000\r\n';
  assert.deepEqual(judgeBootOutput(reordered, POLICY), { state: 'pending', missing: 'at param mode:' });
  assert.deepEqual(judgeBootOutput('rst:0x1 (POWERON_RESET)\r\n', POLICY), {
    state: 'pending',
    missing: 'boot: Loaded app from partition at offset',
  });
});

test('a forbidden line or a second ROM banner fails the board at once', () => {
  const panic = `${REAL_ESP_AT_BOOT}Guru Meditation Error: Core  0 panic'ed\r\n`;
  assert.deepEqual(judgeBootOutput(panic, POLICY), {
    state: 'failed',
    reason: "it printed 'Guru Meditation Error'",
  });
  const loop = `${REAL_ESP_AT_BOOT}ets Jul 29 2019 12:21:46\r\nrst:0xc (SW_CPU_RESET),boot:0x12\r\n`;
  const j = judgeBootOutput(loop, POLICY);
  assert.equal(j.state, 'failed');
  assert.match(j.state === 'failed' ? j.reason : '', /reboot loop/);
});

function source(): BootOutputSource & { print(text: string): void } {
  let text = '';
  const listeners = new Set<() => void>();
  return {
    get bootOutput() {
      return text;
    },
    onBootOutput(l) {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    print(more) {
      text += more;
      for (const l of listeners) l();
    },
  };
}

test('a panic right after the last expected line is caught within the settle time', async () => {
  const s = source();
  const watching = watchBootOutput(s, POLICY, new AbortController().signal);
  s.print(REAL_ESP_AT_BOOT);
  setTimeout(() => s.print("Guru Meditation Error: Core  0 panic'ed (LoadProhibited)\r\n"), 20);
  const r = await watching;
  assert.equal(r.ok, false);
  assert.match(r.ok ? '' : r.reason, /Guru Meditation/);
});

test('a clean boot passes after the settle time; silence fails with the missing line named', async () => {
  const s = source();
  const ok = watchBootOutput(s, POLICY, new AbortController().signal);
  s.print(REAL_ESP_AT_BOOT);
  assert.deepEqual(await ok, { ok: true, output: REAL_ESP_AT_BOOT });
  const silent = await watchBootOutput(source(), POLICY, new AbortController().signal);
  assert.equal(silent.ok, false);
  assert.match(
    silent.ok ? '' : silent.reason,
    /'boot: Loaded app from partition at offset' did not appear within 0\.2 s/,
  );
});

test('an abort ends the watch with the abort reason', async () => {
  const ac = new AbortController();
  const watching = watchBootOutput(source(), POLICY, ac.signal);
  ac.abort(new Error('unplugged'));
  await assert.rejects(watching, /unplugged/);
});
