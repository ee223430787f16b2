/**
 * Defect 1 of issue 12: the stub must be uploaded at the ROM's 115200 and the baud changed through it. The
 * stub esp-station ships (esp-flasher-stub v1.2.2) re-programs UART0 on ESP32 for the ROM's baud on record,
 * so the old path — ROM CHANGE_BAUDRATE to 921600, then the stub — loses its OHAI on the strict simulator.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EspError } from '../../src/esp/errors.ts';
import { SimBinding } from '../../src/sim/binding.ts';
import { SimBoard } from '../../src/sim/board.ts';
import { EspBoardLink } from '../../src/station/esp-board-link.ts';
import { pattern, region, simLoader } from '../esp/sim-link.ts';

test('old path: ROM switched to 921600, then the v1.2.2 stub — no OHAI on an ESP32', async (t) => {
  const { loader, board } = await simLoader(t, { chip: 'esp32' });
  assert.equal(await loader.changeBaud(921600), 921600);
  await assert.rejects(loader.runStub(), (e: unknown) => {
    assert.ok(e instanceof EspError);
    assert.match(e.message, /the flasher stub did not start \(no OHAI\)/);
    return true;
  });
  // The stub did start — at the 115200 the ROM has on record, where the host was not listening.
  assert.equal(board.stubRelease, 'v1.2.2');
  assert.equal(board.chipBaud, 115200);
});

test('the same old path works with v1.0.0, which leaves the UART as the ROM set it (the release decides)', async (t) => {
  const { loader, board } = await simLoader(t, { chip: 'esp32' });
  assert.equal(await loader.changeBaud(921600), 921600);
  await loader.runStub(undefined, { release: 'v1.0.0' });
  assert.equal(board.stubRelease, 'v1.0.0');
  assert.equal(await loader.readReg(0x40001000), 0x00f01d83);
});

test('station path: stub at 115200, then 921600 through the stub; a region is written and verified', async (t) => {
  const binding = new SimBinding();
  const board = new SimBoard({ chip: 'esp32', timing: 'fast' });
  binding.plug('/dev/ttySTUBBAUD0', board);
  t.after(() => binding.unplug('/dev/ttySTUBBAUD0'));
  const link = new EspBoardLink({ binding: binding as never, resetTimeScale: 0.1 });
  const signal = AbortSignal.timeout(20_000);
  const session = await link.connect(
    { portPath: 'sim-0', name: 'A1', tty: '/dev/ttySTUBBAUD0', vid: '10c4', pid: 'ea60' },
    { attempt: 0, signal },
  );
  t.after(() => session.close());
  const bauds: number[] = [];
  board.on('mode', () => bauds.push(board.chipBaud));
  assert.equal(await session.prepareWrites({ stub: true, baud: 921600, signal }), 921600);
  assert.equal(board.stubRelease, 'v1.2.2');
  // The stub sets exactly what it is asked (no ROM clock error): the change went through the stub.
  assert.equal(board.chipBaud, 921600);
  assert.deepEqual(bauds, [115200], 'the stub came up at 115200');
  const data = pattern(0x9000, 7);
  const outcome = await session.writeRegion(region(0x10000, data), {
    signal,
    skipUnchanged: false,
    compress: true,
    onProgress: () => {},
  });
  assert.equal(outcome.md5Chip, outcome.md5Expected);
  assert.ok(board.flash.read(0x10000, data.length).equals(Buffer.from(data)));
});
