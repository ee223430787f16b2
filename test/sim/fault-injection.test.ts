/**
 * One test per fault option, each showing what a real client sees: esptool-js (Espressif's client) or raw
 * protocol frames written here from the spec. The flasher's own view of these faults is tested in test/esp.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SerialPortStream } from '@serialport/stream';
import { ESPLoader, Transport } from 'esptool-js';
import { SimBinding } from '../../src/sim/binding.ts';
import { SimBoard, type SimBoardOptions } from '../../src/sim/board.ts';
import { VirtualUsbBus, type UsbDeviceInfo } from '../../src/sim/usb-bus.ts';
import { EsptoolJsPort } from '../support/esptool-js-port.ts';
import { checksum, RawSimClient, romSession, sleep, u32 } from '../support/raw-sim-client.ts';
import { buildImage, buildPartitionTable, FACTORY_LAYOUT } from '../support/sim-image-builder.ts';
import { md5hex } from '../support/md5.ts';

async function esptoolJs(t: { after(fn: () => Promise<void> | void): void }, opts: SimBoardOptions) {
  const binding = new SimBinding();
  const board = new SimBoard({ chip: 'esp32', ...opts });
  binding.plug('/dev/ttyUSB0', board);
  const transport = new Transport(new EsptoolJsPort(binding, '/dev/ttyUSB0') as never, false);
  const terminal = { clean() {}, writeLine() {}, write() {} };
  const loader = new ESPLoader({ transport, baudrate: 921600, terminal });
  t.after(async () => {
    await transport.disconnect().catch(() => {});
    binding.unplug('/dev/ttyUSB0');
  });
  return { board, loader };
}

const IMAGE = new Uint8Array(0x30000).map((_, i) => ((i * 2654435761) >>> 13) & 0xff);

async function writeImage(loader: ESPLoader): Promise<void> {
  await loader.writeFlash({
    fileArray: [{ address: 0x10000, data: IMAGE }],
    flashMode: 'keep',
    flashFreq: 'keep',
    flashSize: 'keep',
    eraseAll: false,
    compress: true,
    calculateMD5Hash: md5hex,
  });
}

test('no-sync: the reset boots the app (wrong boot mode); esptool-js cannot connect', async (t) => {
  const { board, loader } = await esptoolJs(t, { faults: ['no-sync'] });
  await assert.rejects(loader.connect('default_reset', 1, false), /Failed to connect with the device/);
  assert.equal(board.mode, 'app');
  const raw = new RawSimClient(board);
  await raw.classicReset();
  await raw.until(() => raw.text.includes('ets_main.c'));
  assert.match(raw.text, /boot:0x13 \(SPI_FAST_FLASH_BOOT\)/, 'boot log shows the wrong boot mode');
  assert.equal((await raw.sync(200)).length, 0);
});

test('drop-bytes: some requests or replies vanish or arrive short', async (t) => {
  const board = new SimBoard({ chip: 'esp32', faults: ['drop-bytes:0.02'], seed: 7 });
  t.after(() => board.powerOff());
  const client = await romSession(board);
  let intact = 0;
  let damaged = 0;
  for (let i = 0; i < 60; i++) {
    const r = await client.command(0x0a, u32(0x40001000), 0, 100);
    if (!r) continue;
    // A reply that lost a byte inside the frame is shorter than 12 bytes: a host's length check rejects it.
    if (r.raw.length === 12 && r.value === 0x00f01d83) intact++;
    else damaged++;
  }
  const answered = intact;
  assert.ok(intact + damaged < 60, 'some exchanges got no reply at all');
  assert.ok(answered > 0 && answered < 60, `answered ${answered} of 60`);
});

test('bit-flip: corrupted FLASH_DATA is caught by the checksum (ROM error 0x07), replies can be corrupt too', async (t) => {
  const board = new SimBoard({ chip: 'esp32', faults: ['bit-flip:0.001'], seed: 3 });
  t.after(() => board.powerOff());
  const client = await romSession(board);
  for (let i = 0; i < 5 && (await client.command(0x0d, u32(0, 0), 0, 200)) === undefined; i++);
  await client.command(0x02, u32(0x1000, 1, 0x1000, 0x20000), 0, 200);
  const data = Buffer.alloc(0x1000, 0x3c);
  const seen = new Set<number>();
  for (let i = 0; i < 10 && !seen.has(0x07); i++) {
    const r = await client.command(
      0x03,
      Buffer.concat([u32(data.length, 0, 0, 0), data]),
      checksum(data),
      200,
    );
    if (r) seen.add(r.data[1]);
  }
  assert.ok(seen.has(0x07), `statuses seen: ${[...seen]}`);
});

test('write-error: the stub reports the failed write on the next command; esptool-js ends in an MD5 mismatch', async (t) => {
  const { board, loader } = await esptoolJs(t, { faults: ['write-error'] });
  await loader.main();
  await assert.rejects(writeImage(loader), /MD5 of file does not match data in flash|status 196/);
  assert.notDeepEqual(board.flash.read(0x10000, IMAGE.length), Buffer.from(IMAGE));
});

test('silent-corruption: every command succeeds, only the MD5 check catches it', async (t) => {
  const { board, loader } = await esptoolJs(t, { faults: ['silent-corruption:0x20000'] });
  await loader.main();
  await assert.rejects(writeImage(loader), /MD5 of file does not match data in flash!/);
  const stored = board.flash.read(0x10000, IMAGE.length);
  const diff = [...stored].findIndex((b, i) => b !== IMAGE[i]);
  assert.equal(Math.floor((0x10000 + diff) / 0x1000) * 0x1000, 0x20000, 'corruption is in the chosen sector');
});

test('disconnect: after N bytes the serial port closes as disconnected and the USB bus reports a detach', async (t) => {
  const bus = new VirtualUsbBus();
  const board = new SimBoard({ chip: 'esp32', faults: ['disconnect:300'] });
  const detached: UsbDeviceInfo[] = [];
  bus.on('detach', (d) => detached.push(d));
  const dev = bus.plugBoard('1-1.2', board);
  const port = new SerialPortStream({ binding: bus.binding, path: dev.tty, baudRate: 115200 });
  t.after(() => {
    if (port.isOpen) port.close();
  });
  const closed = new Promise<Error & { disconnected?: boolean }>((resolve) => port.on('close', resolve));
  port.on('error', () => {});
  await new Promise<void>((resolve) => port.on('open', () => resolve()));
  const sync = Buffer.from('c0000824000000000007071220' + '55'.repeat(32) + 'c0', 'hex');
  for (let i = 0; i < 20 && port.isOpen; i++) {
    port.write(sync);
    await sleep(5);
  }
  const err = await closed;
  assert.equal(err?.disconnected, true);
  assert.match(err.message, /EIO: device disconnected/);
  assert.deepEqual(
    detached.map((d) => d.portPath),
    ['1-1.2'],
  );
  assert.deepEqual(await bus.binding.list(), []);
  assert.equal(board.mode, 'off');
});

test('slow-flash: a ROM erase outlasts the client timeout', async (t) => {
  const board = new SimBoard({ chip: 'esp32', timing: 'realistic', faults: ['slow-flash:1000'] });
  t.after(() => board.powerOff());
  const client = await romSession(board);
  assert.ok(await client.command(0x0d, u32(0, 0)));
  // 64 KB block erase: ~150 ms typical, ×1000 = 150 s; esptool would give it max(3 s, 40 s/MB) = 3 s.
  assert.equal(await client.command(0x02, u32(0x10000, 16, 0x1000, 0x10000), 0, 1000), undefined);
});

test('brownout: the chip resets mid-transfer, prints its boot log and stops answering', async (t) => {
  const board = new SimBoard({ chip: 'esp32', faults: ['brownout:400'] });
  t.after(() => board.powerOff());
  const client = await romSession(board);
  let replies = 0;
  for (let i = 0; i < 20; i++) replies += (await client.sync(100)).length > 0 ? 1 : 0;
  assert.ok(replies > 0 && replies < 20, `answered ${replies} SYNCs`);
  assert.match(client.text, /rst:0xf \(BROWNOUT_RST\),boot:0x13 \(SPI_FAST_FLASH_BOOT\)/);
  assert.equal(board.mode, 'app');
});

test('secure-boot and flash-encryption: eFuse words say so (ESP32 READ_REG) and plaintext does not boot', async (t) => {
  const board = new SimBoard({ chip: 'esp32', faults: ['secure-boot', 'flash-encryption'] });
  t.after(() => board.powerOff());
  const client = await romSession(board);
  const cryptCnt = ((await client.readReg(0x3ff5a000))! >>> 20) & 0x7f;
  assert.equal(
    cryptCnt.toString(2).replace(/0/g, '').length % 2,
    1,
    'FLASH_CRYPT_CNT has an odd number of bits',
  );
  // An ESP32 v3.0 (the default) gets Secure Boot V2: ABS_DONE_1 (bit 5), not V1's ABS_DONE_0 (bit 4).
  assert.equal(((await client.readReg(0x3ff5a018))! >>> 4) & 3, 0b10, 'ABS_DONE_1 only');
  board.flash.program(0x1000, buildImage({ hash: true }));
  board.flash.program(0x8000, buildPartitionTable(FACTORY_LAYOUT));
  board.flash.program(0x10000, buildImage({ project: 'esp-at', hash: true }));
  client.text = '';
  await client.hardReset();
  await client.until(() => client.text.includes('ets_main.c'));
  assert.match(client.text, /flash read err/);
  assert.doesNotMatch(client.text, /ready/);
});

test('secure-boot alone: GET_SECURITY_INFO flags on an ESP32-C3 (raw ROM client)', async (t) => {
  const board = new SimBoard({ chip: 'esp32c3', faults: ['secure-boot'] });
  t.after(() => board.powerOff());
  const client = await romSession(board);
  const info = await client.command(0x14);
  assert.equal(info!.data.readUInt32LE(0) & 1, 1, 'SECURE_BOOT_EN');
  assert.equal(info!.data[4], 0, 'flash_crypt_cnt');
  assert.equal(info!.data.readUInt32LE(12), 5, 'chip id');
});

test('wrong chip comes from the chip option: an ESP32-S3 is detected as such by esptool-js', async (t) => {
  const { loader } = await esptoolJs(t, { chip: 'esp32s3' });
  await loader.connect('default_reset', 2, true);
  assert.equal(loader.chip.CHIP_NAME, 'ESP32-S3');
});

test('armFault: a disconnect armed on a running board counts from power-up and drops the link there', async (t) => {
  const board = new SimBoard({ chip: 'esp32' });
  t.after(() => board.powerOff());
  const client = await romSession(board);
  assert.ok((await client.sync(200)).length > 0, 'the board answers before the fault is armed');
  const at = board.stats.toChip + board.stats.toHost + 100;
  board.armFault(`disconnect:${at}`);
  assert.deepEqual(
    board.faults.map((f) => f.name),
    ['disconnect'],
  );
  const lost = new Promise<void>((resolve) => board.once('link-lost', resolve));
  for (let i = 0; i < 20 && !client.lost; i++) await client.sync(100);
  await lost;
  assert.match(client.lost?.message ?? '', /EIO: device disconnected/);
  const { toChip, toHost } = board.stats;
  assert.ok(
    toChip + toHost >= at && toChip + toHost < at + 100,
    `dropped at ${toChip + toHost}, armed at ${at}`,
  );
  assert.equal(board.mode, 'off');
});

test('armFault: only byte-counted faults can be armed later, one of a kind', () => {
  const board = new SimBoard({ chip: 'esp32', faults: ['bit-flip:0.01'] });
  assert.throws(() => board.armFault('secure-boot'), /fixed when the board is made/);
  assert.throws(() => board.armFault('slow-flash:4'), /fixed when the board is made/);
  assert.throws(() => board.armFault('bit-flip:1@100+8'), /already has a 'bit-flip' fault/);
  board.armFault('drop-bytes:1@100+8');
  assert.deepEqual(
    board.faults.map((f) => f.name),
    ['bit-flip', 'drop-bytes'],
  );
});
