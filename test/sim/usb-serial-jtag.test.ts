import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CHIPS } from '../../src/esp/chips/index.ts';
import type { ChipName } from '../../src/esp/chips/chip.ts';
import { SimBinding } from '../../src/sim/binding.ts';
import { SimBoard, type SimBoardOptions } from '../../src/sim/board.ts';
import { VirtualUsbBus, type UsbDeviceInfo } from '../../src/sim/usb-bus.ts';
import { RawSimClient, sleep, u32 } from '../support/raw-sim-client.ts';
import { buildImage, buildPartitionTable, FACTORY_LAYOUT } from '../support/sim-image-builder.ts';

/** A bootable app set in flash: after power-up the board runs firmware, as a board from the line does. */
function withFirmware(board: SimBoard): SimBoard {
  const chipId = board.chip.imageChipId ?? 0;
  board.flash.program(board.chip.bootloaderOffset, buildImage({ hash: true, chipId }));
  board.flash.program(0x8000, buildPartitionTable(FACTORY_LAYOUT));
  board.flash.program(0x10000, buildImage({ project: 'esp-at', hash: true, chipId }));
  return board;
}

function usbJtagBoard(
  t: { after(fn: () => void): void },
  chip: ChipName,
  opts: SimBoardOptions = {},
): { board: SimBoard; client: RawSimClient } {
  const board = withFirmware(new SimBoard({ chip, resetCircuit: 'usb-jtag', ...opts }));
  board.powerOn();
  const client = new RawSimClient(board);
  t.after(() => board.powerOff());
  return { board, client };
}

/** esptool's USBJTAGSerialReset line sequence (waits shortened: the peripheral only needs the edges). */
async function usbJtagReset(client: RawSimClient): Promise<void> {
  const l = (dtr: boolean, rts: boolean) => client.link.setLines({ dtr, rts });
  l(false, false);
  await sleep(2);
  l(true, false);
  await sleep(2);
  l(false, true);
  await sleep(2);
  l(false, false);
}

async function writeReg(client: RawSimClient, addr: number, value: number, mask = 0xffffffff): Promise<void> {
  const reply = await client.command(0x09, u32(addr, value, mask, 0));
  assert.equal(reply?.data[0], 0, `WRITE_REG 0x${addr.toString(16)} accepted`);
}

test('the RTC watchdog the firmware left armed resets a USB-Serial/JTAG board a moment into download mode', async (t) => {
  const { board, client } = usbJtagBoard(t, 'esp32c3');
  await client.until(() => board.lastBoot?.app === true);
  await usbJtagReset(client);
  await client.until(() => board.mode === 'download');
  assert.equal(board.mode, 'download');
  assert.equal((await client.sync()).length, 8, 'the ROM answers at first');
  // It still counts: the reset through the USB peripheral spared the RTC domain. Then the chip restarts
  // (system reset: straps sampled again, IO0 high) and runs its firmware instead of the loader.
  await client.until(() => board.mode === 'app', board.timing.appWatchdogMs + 1000);
  assert.equal(board.mode, 'app');
});

test('disabling the RTC watchdog as esptool does keeps the board in download mode', async (t) => {
  for (const chip of ['esp32c3', 'esp32s3', 'esp32c6', 'esp32h2'] as const) {
    const { board, client } = usbJtagBoard(t, chip);
    await client.until(() => board.lastBoot?.app === true);
    await usbJtagReset(client);
    await client.until(() => board.mode === 'download');
    const wdt = CHIPS[chip].rtcWatchdog!;
    await writeReg(client, wdt.wprotect, 0x50d83aa1);
    await writeReg(client, wdt.config0, 0);
    await writeReg(client, wdt.wprotect, 0);
    await sleep(board.timing.appWatchdogMs + 150);
    assert.equal(board.mode, 'download', chip);
    assert.equal((await client.sync()).length, 8, chip);
    // Without the unlock key the write does not count (the register is write-protected).
    board.powerOff();
  }
});

test('a locked watchdog register ignores the write; an auto-reset board (EN resets the RTC domain) is unaffected', async (t) => {
  const { board, client } = usbJtagBoard(t, 'esp32c3');
  await client.until(() => board.lastBoot?.app === true);
  await usbJtagReset(client);
  await client.until(() => board.mode === 'download');
  await writeReg(client, CHIPS.esp32c3.rtcWatchdog!.config0, 0);
  await client.until(() => board.mode === 'app', board.timing.appWatchdogMs + 1000);
  assert.equal(board.mode, 'app', 'still reset: the config write was locked');

  const uart = withFirmware(new SimBoard({ chip: 'esp32c3' }));
  uart.powerOn();
  t.after(() => uart.powerOff());
  const host = new RawSimClient(uart);
  await host.until(() => uart.lastBoot?.app === true);
  await host.classicReset();
  await host.until(() => uart.mode === 'download');
  await sleep(uart.timing.appWatchdogMs + 150);
  assert.equal(uart.mode, 'download');
});

test('ESP32-S3: FORCE_DOWNLOAD_BOOT set by the firmware keeps the chip in download mode until cleared', async (t) => {
  const { board, client } = usbJtagBoard(t, 'esp32s3', {
    appSetsForceDownloadBoot: true,
    appLeavesWatchdogArmed: false,
  });
  await client.until(() => board.lastBoot?.app === true);
  // The firmware set the flag: even a plain hard reset (RTS pulse, IO0 released) lands in the ROM.
  await client.hardReset();
  await client.until(() => board.mode === 'download');
  assert.equal(board.mode, 'download');
  await client.hardReset();
  await client.until(() => board.mode === 'download');
  assert.equal(board.mode, 'download', 'the ROM does not clear it');
  const force = CHIPS.esp32s3.forceDownloadBoot!;
  await writeReg(client, force.addr, 0, force.mask);
  client.text = '';
  await client.hardReset();
  await client.until(() => board.mode === 'app' && client.text.includes('ready'));
  assert.equal(board.mode, 'app');
});

test('a native-USB board whose firmware owned the USB re-enumerates when reset: tty gone, then back', async (t) => {
  const bus = new VirtualUsbBus();
  const events: string[] = [];
  bus.on('attach', (d: UsbDeviceInfo) => events.push(`attach ${d.tty}`));
  bus.on('detach', (d: UsbDeviceInfo) => events.push(`detach ${d.tty}`));
  const board = withFirmware(
    new SimBoard({ chip: 'esp32c3', resetCircuit: 'usb-jtag', appOwnsUsb: true, timing: 'fast' }),
  );
  t.after(() => bus.unplug('1-1.1'));
  bus.plugBoard('1-1.1', board, { vidPid: '303a:1001' });
  await sleep(5);
  const port = await bus.binding.open({ path: '/dev/ttyACM0', baudRate: 115200 });
  const read = port.read(Buffer.alloc(256), 0, 256).catch((e: Error) => e);
  const set = (dtr: boolean, rts: boolean) => port.set({ dtr, rts });
  await set(false, false);
  await set(true, false);
  await set(false, true);
  // The chip resets out of its firmware: the device drops off the bus, the open port is dead.
  const err = await read;
  assert.ok(err instanceof Error && /disconnected/.test(err.message), String(err));
  await assert.rejects(set(false, false), /disconnected/);
  assert.deepEqual(bus.list(), []);
  // Closing the dead handle frees the number: the ROM's USB-Serial/JTAG comes back on the same tty.
  await port.close();
  await sleep(board.timing.usbReenumerateMs + 20);
  assert.deepEqual(events, ['attach /dev/ttyACM0', 'detach /dev/ttyACM0', 'attach /dev/ttyACM0']);
  assert.equal(board.mode, 'download', 'the download request latched before the reset still counts');
  // The ROM's own USB-Serial/JTAG stays on the bus through a reset it is asked for.
  const again = await bus.binding.open({ path: '/dev/ttyACM0', baudRate: 115200 });
  await again.set({ dtr: true, rts: false });
  await again.set({ dtr: false, rts: true });
  await again.set({ dtr: false, rts: false });
  await sleep(board.timing.usbReenumerateMs + 20);
  assert.equal(events.length, 3);
  assert.equal(board.mode, 'download');
  await again.close();
});

test('a re-enumerating board comes back renumbered while the old tty is still held open', async (t) => {
  const binding = new SimBinding();
  const board = withFirmware(new SimBoard({ chip: 'esp32s3', resetCircuit: 'usb-jtag', appOwnsUsb: true }));
  binding.plug('/dev/ttyACM0', board);
  t.after(() => board.powerOff());
  const moves: string[] = [];
  binding.on('usb-back', (from, to) => moves.push(`${from} -> ${to}`));
  await sleep(5);
  const port = await binding.open({ path: '/dev/ttyACM0', baudRate: 115200 });
  await port.set({ dtr: false, rts: true });
  await sleep(board.timing.usbReenumerateMs + 20);
  assert.deepEqual(moves, ['/dev/ttyACM0 -> /dev/ttyACM1']);
  assert.equal(binding.boardAt('/dev/ttyACM1'), board);
  assert.equal(binding.boardAt('/dev/ttyACM0'), undefined);
  await port.close();
  assert.equal(binding.isPathInUse('/dev/ttyACM0'), false, 'the old number is free once closed');
});
