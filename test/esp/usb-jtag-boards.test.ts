/**
 * Boards on their own USB-Serial/JTAG peripheral (303a:1001), against the simulated chip's strictness: the RTC
 * watchdog the firmware left armed, ESP32-S3's FORCE_DOWNLOAD_BOOT, the tty re-enumerating around a reset, and
 * esptool's 7 connect attempts.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ChipName } from '../../src/esp/chips/chip.ts';
import { EspLoader } from '../../src/esp/loader.ts';
import { writeRegions } from '../../src/esp/write-regions.ts';
import type { SimBoard, SimBoardOptions } from '../../src/sim/board.ts';
import { EspBoardLink } from '../../src/station/esp-board-link.ts';
import { buildImage, buildPartitionTable, FACTORY_LAYOUT } from '../support/sim-image-builder.ts';
import { FAST_CONNECT, pattern, region, simLink, type SimLink } from './sim-link.ts';

const USB_JTAG = { vid: 0x303a, pid: 0x1001 };

/** A bootable app set in flash, so the board runs firmware from power-up (a board off the line). */
function firmwareIn(board: SimBoard): void {
  const chipId = board.chip.imageChipId ?? 0;
  board.flash.program(board.chip.bootloaderOffset, buildImage({ hash: true, chipId }));
  board.flash.program(0x8000, buildPartitionTable(FACTORY_LAYOUT));
  board.flash.program(0x10000, buildImage({ project: 'esp-at', hash: true, chipId }));
}

/** A USB-Serial/JTAG board that has been running its firmware, opened as 303a:1001. */
async function runningBoard(t: Parameters<typeof simLink>[0], chip: ChipName, opts: SimBoardOptions = {}) {
  const link = await simLink(t, { chip, resetCircuit: 'usb-jtag', ...opts }, USB_JTAG);
  firmwareIn(link.board);
  // Power-cycle so it boots what is in flash now.
  link.board.powerOff();
  link.board.powerOn();
  assert.equal(link.board.lastBoot?.app, true);
  return link;
}

async function connect(link: SimLink): Promise<EspLoader> {
  const loader = await EspLoader.connect(link.transport, FAST_CONNECT);
  return loader;
}

test('USB-Serial/JTAG: the watchdog the firmware left armed is disabled after connecting; a long write survives', async (t) => {
  for (const chip of ['esp32c3', 'esp32s3'] as const) {
    // Programming slow enough that the write outlasts the watchdog.
    const link = await runningBoard(t, chip, { timingOverrides: { pageProgramMs: 1.5 } });
    const loader = await connect(link);
    t.after(() => loader.dispose());
    await loader.runStub();
    const r = region(0x100000, pattern(0x40000, 9));
    const started = performance.now();
    const [res] = await writeRegions(loader, [r]);
    const ms = performance.now() - started;
    assert.ok(ms > 1.3 * link.board.timing.appWatchdogMs, `the write took ${ms.toFixed(0)} ms`);
    assert.equal(res.md5Chip, r.md5, chip);
    assert.equal(link.board.mode, 'stub', `${chip} was not reset mid-write`);
  }
});

test('ESP32-S3: FORCE_DOWNLOAD_BOOT is cleared before the hard reset, so the new firmware runs', async (t) => {
  const link = await runningBoard(t, 'esp32s3', { appSetsForceDownloadBoot: true });
  const loader = await connect(link);
  t.after(() => loader.dispose());
  await loader.hardReset(undefined, FAST_CONNECT.resetTimeScale);
  await new Promise((r) => setTimeout(r, 30));
  assert.equal(link.board.mode, 'app');
  assert.equal(link.board.lastBoot?.app, true);
});

test('a tty that vanishes during the reset (native USB re-enumerating) is reopened and the connect goes on', async (t) => {
  const link = await runningBoard(t, 'esp32c3', { appOwnsUsb: true });
  const lines: string[] = [];
  const loader = await EspLoader.connect(link.transport, { ...FAST_CONNECT, onLog: (l) => lines.push(l) });
  t.after(() => loader.dispose());
  assert.equal(loader.chip.name, 'esp32c3');
  assert.ok(lines.some((l) => /vanished during the reset/.test(l)));
  // The link works after the reopen: a write verifies.
  await loader.runStub();
  const r = region(0x10000, pattern(0x8000, 4));
  const [res] = await writeRegions(loader, [r]);
  assert.equal(res.md5Chip, r.md5);
});

test("USB-Serial/JTAG gets esptool's 7 reset attempts in one station connect", async (t) => {
  // Line noise garbles every byte on the wire for the first resets: about three attempts' worth of bytes.
  const link = await simLink(
    t,
    { chip: 'esp32c3', resetCircuit: 'usb-jtag', faults: ['bit-flip:1@0+1000'] },
    USB_JTAG,
  );
  await link.transport.close();
  let resets = 0;
  link.board.on('mode', (m) => (resets += m === 'reset' ? 1 : 0));
  const board = new EspBoardLink({ binding: link.binding as never, resetTimeScale: 0.1 });
  const controller = new AbortController();
  const session = await board.connect(
    { portPath: '1-1', name: 'slot 1', tty: link.path, vid: '303a', pid: '1001' },
    { attempt: 0, signal: controller.signal },
  );
  t.after(() => session.close());
  const id = await session.identify(controller.signal);
  assert.equal(id.chip, 'esp32c3');
  assert.ok(resets >= 3, `${resets} resets: the noise outlasted two of them`);
});
