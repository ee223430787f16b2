import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { SimBoard, type SimBoardOptions } from '../../src/sim/board.ts';
import { RawSimClient, romSession, sleep, u32 } from '../support/raw-sim-client.ts';
import { buildImage, buildPartitionTable, FACTORY_LAYOUT } from '../support/sim-image-builder.ts';
import { REAL_AT_DIR } from '../firmware/fixture-paths.ts';

const ESP_AT = REAL_AT_DIR;

function powered(t: { after(fn: () => void): void }, opts: SimBoardOptions = {}) {
  const board = new SimBoard({ chip: 'esp32', ...opts });
  board.powerOn();
  const client = new RawSimClient(board);
  t.after(() => board.powerOff());
  return { board, client };
}

test('ClassicReset (esptool) enters download mode with the ROM banner', async (t) => {
  const { board, client } = powered(t);
  client.text = '';
  await client.classicReset();
  await client.until(() => client.text.includes('waiting for download'));
  assert.equal(board.mode, 'download');
  assert.match(client.text, /rst:0x1 \(POWERON_RESET\),boot:0x3 \(DOWNLOAD_BOOT/);
  assert.equal((await client.sync()).length, 8);
});

test('UnixTightReset (atomic TIOCMSET steps) enters download mode', async (t) => {
  const { board, client } = powered(t);
  for (const [dtr, rts] of [
    [false, false],
    [true, true],
    [false, true],
  ])
    client.link.setLines({ dtr, rts });
  await sleep(5);
  client.link.setLines({ dtr: true, rts: false });
  await sleep(5);
  client.link.setLines({ dtr: false, rts: false });
  await client.until(() => board.mode === 'download');
  assert.equal(board.mode, 'download');
});

test('a plain RTS pulse (hard reset) boots flash: empty flash says so, SYNC goes unanswered', async (t) => {
  const { board, client } = powered(t);
  client.text = '';
  await client.hardReset();
  await client.until(() => client.text.includes('ets_main.c'));
  assert.equal(board.mode, 'app');
  assert.match(client.text, /boot:0x13 \(SPI_FAST_FLASH_BOOT\)\r\ninvalid header: 0xffffffff/);
  assert.equal((await client.sync(200)).length, 0);
});

test('DTR and RTS asserted together, or DTR alone, do not reset the chip', async (t) => {
  const { board, client } = powered(t);
  await client.until(() => board.mode === 'app');
  const modes: string[] = [];
  board.on('mode', (m) => modes.push(m));
  client.link.setLines({ dtr: true, rts: true });
  client.link.setLines({ dtr: true, rts: false });
  client.link.setLines({ dtr: false, rts: false });
  await sleep(10);
  assert.deepEqual(modes, []);
});

test('a reset with IO0 released too early (DTR dropped with EN) boots the app, not the loader', async (t) => {
  const { board, client } = powered(t);
  client.link.setLines({ dtr: false, rts: true });
  await sleep(5);
  client.link.setLines({ dtr: false, rts: false });
  // The straps are sampled a moment after EN rises; IO0 pulled low after that is too late.
  await sleep(10);
  client.link.setLines({ dtr: true, rts: false });
  await sleep(10);
  assert.equal(board.mode, 'app');
});

test('USB-Serial/JTAG boards latch the download request (esptool USBJTAGSerialReset)', async (t) => {
  const { board, client } = powered(t, { chip: 'esp32c3', resetCircuit: 'usb-jtag' });
  const l = (dtr: boolean, rts: boolean) => client.link.setLines({ dtr, rts });
  l(false, false);
  await sleep(2);
  l(true, false);
  await sleep(2);
  l(false, true);
  await sleep(2);
  l(false, false);
  await client.until(() => board.mode === 'download');
  assert.equal(board.mode, 'download');
});

test('hard reset with the ESP-AT v3.4 image set in flash boots it: the boot log on UART0, `ready` on the AT port', async (t) => {
  const { board, client } = powered(t);
  const files: [number, string][] = [
    [0x1000, 'bootloader/bootloader.bin'],
    [0x8000, 'partition_table/partition-table.bin'],
    [0x10000, 'ota_data_initial.bin'],
    [0x20000, 'at_customize.bin'],
    [0x21000, 'customized_partitions/mfg_nvs.bin'],
    [0x100000, 'esp-at.bin'],
  ];
  for (const [offset, file] of files) board.flash.program(offset, readFileSync(join(ESP_AT, file)));
  client.text = '';
  await client.hardReset();
  await client.until(() => client.text.includes('at param mode'));
  assert.match(client.text, /End of partition table/);
  assert.match(client.text, /Loaded app from partition at offset 0x100000/);
  assert.match(client.text, /\r\nat param mode: 1\r\n/);
  assert.doesNotMatch(client.text, /ready/);
  // The app reads itself and its mfg_nvs as ESP-AT does: Bin version from the app's rodata (not its
  // descriptor), module name and AT port from factory_param.
  const at = board.lastBoot?.atFirmware;
  assert.deepEqual(at && { ...at, mfg: undefined }, {
    binVersion: 'v3.4.0.0',
    sdkVersion: 'v5.0.6-dirty',
    compileTime: '(70ff5889):Jun  7 2024 04:45:55',
    paramMode: 1,
    mfg: undefined,
    uartPort: 1,
    baud: 115200,
    moduleName: 'WROOM-32',
  });
  assert.deepEqual(
    { bl: board.lastBoot?.bootloader, pt: board.lastBoot?.partitionTable, app: board.lastBoot?.app },
    { bl: true, pt: true, app: true },
  );
});

test('boot log tells a broken partition table and a corrupt app apart', async (t) => {
  const { board, client } = powered(t);
  board.flash.program(0x1000, buildImage({ hash: true }));
  const table = buildPartitionTable(FACTORY_LAYOUT);
  board.flash.program(0x8000, table);
  const app = buildImage({ project: 'esp-at', hash: true });
  board.flash.program(0x10000, app);
  await client.hardReset();
  await client.until(() => client.text.includes('at param mode'));
  assert.equal(board.lastBoot?.app, true);

  // One byte of the app cleared (as NOR corruption would): the SHA-256 no longer matches.
  board.flash.program(0x10000 + 32 + 0x10, Buffer.from([0x00]));
  client.text = '';
  await client.hardReset();
  await client.until(() => client.text.includes('No bootable app'));
  assert.match(client.text, /Image hash failed|Checksum failed/);
  assert.doesNotMatch(client.text, /at param mode/);
  assert.equal(board.lastBoot?.atFirmware, undefined);

  // Table MD5 line broken.
  board.flash.program(0x8000, Buffer.from([0x00]));
  client.text = '';
  await client.hardReset();
  await client.until(() => client.text.includes('load partition table error'));
  assert.match(client.text, /Incorrect MD5 checksum|invalid magic/);
});

test('a bootloader built for another chip is refused by the ESP32 ROM', async (t) => {
  const { client, board } = powered(t);
  board.flash.program(0x1000, buildImage({ chipId: 9 }));
  await client.hardReset();
  await client.until(() => client.text.includes('mismatch chip ID'));
  assert.match(client.text, /mismatch chip ID, expected 0, found 9/);
});

test("esptool's watchdog reset (ESP32-S3 RTC WDT via WRITE_REG) reboots the chip into its flash", async (t) => {
  const board = new SimBoard({ chip: 'esp32s3' });
  t.after(() => board.powerOff());
  const client = await romSession(board);
  const write = (addr: number, value: number) => client.command(0x09, u32(addr, value, 0xffffffff, 0));
  // Locked: enabling CONFIG0 does nothing.
  await write(0x60008098, (1 << 31) | (5 << 28) | (1 << 8) | 2);
  assert.equal(board.mode, 'download');
  client.text = '';
  await write(0x600080b0, 0x50d83aa1);
  await write(0x6000809c, 2000);
  await write(0x60008098, (1 << 31) | (5 << 28) | (1 << 8) | 2);
  await client.until(() => board.mode === 'app');
  await client.until(() => client.text.includes('RTCWDT'));
  assert.match(client.text, /rst:0x10 \(RTCWDT_RTC_RESET\),boot:0x8 \(SPI_FAST_FLASH_BOOT\)/);
});
