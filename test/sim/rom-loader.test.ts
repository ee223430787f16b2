import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { SimBoard } from '../../src/sim/board.ts';
import { checksum, romSession, u32, type RawSimClient } from '../support/raw-sim-client.ts';

const ESP32_EFUSE = 0x3ff5a000;

async function esp32(
  t: { after(fn: () => void): void },
  opts: ConstructorParameters<typeof SimBoard>[0] = {},
) {
  const board = new SimBoard({ chip: 'esp32', mac: '24:0a:c4:aa:bb:cc', ...opts });
  const client = await romSession(board);
  t.after(() => board.powerOff());
  return { board, client };
}

function status(reply: { data: Buffer } | undefined): number[] {
  assert.ok(reply, 'no reply');
  return [...reply.data.subarray(reply.data.length - 4)];
}

/** Only the first status byte says a command worked: the second keeps the last refusal's error. */
async function attach(client: RawSimClient): Promise<void> {
  assert.equal(status(await client.command(0x0d, u32(0, 0)))[0], 0);
}

test('reset into download mode prints the ROM banner; SYNC gets 8 replies with a non-zero value', async (t) => {
  const { client } = await esp32(t);
  assert.match(
    client.text,
    /boot:0x3 \(DOWNLOAD_BOOT\(UART0\/UART1\/SDIO_REI_REO_V2\)\)\r\nwaiting for download/,
  );
  const replies = await client.sync();
  assert.equal(replies.length, 8);
  for (const r of replies) {
    assert.equal(r.value, 0x20120707);
    assert.deepEqual([...r.data], [0, 0, 0, 0]);
  }
});

test('READ_REG: detect magic, eFuse MAC, revision, RTC calibration and eFuse word 4 (ESP32)', async (t) => {
  const { client } = await esp32(t);
  const reply = await client.command(0x0a, u32(0x40001000));
  // The exact bytes of the ESP32 trace in esptool issue #613.
  assert.deepEqual(reply?.raw, Buffer.from('010a0400831df00000000000', 'hex'));
  const w1 = (await client.readReg(ESP32_EFUSE + 4))!;
  const w2 = (await client.readReg(ESP32_EFUSE + 8))!;
  const mac = [w2 >>> 8, w2, w1 >>> 24, w1 >>> 16, w1 >>> 8, w1].map((b) =>
    (b & 0xff).toString(16).padStart(2, '0'),
  );
  assert.equal(mac.join(':'), '24:0a:c4:aa:bb:cc');
  // Revision 3: rev bits in word3[15], word5[20] and APB_CTL_DATE[31] all set.
  assert.equal(((await client.readReg(ESP32_EFUSE + 12))! >>> 15) & 1, 1);
  assert.equal(((await client.readReg(ESP32_EFUSE + 20))! >>> 20) & 1, 1);
  assert.equal((await client.readReg(0x3ff6607c))! >>> 31, 1);
  // esptool's ROM crystal estimate: cali * 15625 * ck8m / 40 must be close to (but not exactly) 40 MHz.
  const cali = ((await client.readReg(0x3ff5f06c))! >>> 7) & 0x1ffffff;
  const ck8m = (await client.readReg(ESP32_EFUSE + 16))! & 0xff;
  const romHz = (cali * 15625 * ck8m) / 40;
  assert.ok(romHz > 39.5e6 && romHz < 40.5e6 && romHz !== 40e6, `ROM clock ${romHz}`);
  // UART_CLKDIV gives the crystal estimate esptool prints: baud * div / 1e6 ≈ 40.
  const div = (await client.readReg(0x3ff40014))! & 0xfffff;
  assert.ok(Math.abs((115200 * div) / 1e6 - 40) < 0.5);
});

test('SPI USR registers run RDID, SFDP and status reads against the flash chip', async (t) => {
  const { client } = await esp32(t, { flashSize: '8MB' });
  const base = 0x3ff42000;
  const run = async (cmd: number, bits: number, addr?: number) => {
    await client.command(0x09, u32(base + 0x2c, bits - 1, 0xffffffff, 0));
    await client.command(
      0x09,
      u32(base + 0x1c, (1 << 31) | (1 << 28) | (addr !== undefined ? 1 << 30 : 0), 0xffffffff, 0),
    );
    await client.command(0x09, u32(base + 0x24, (7 << 28) | cmd, 0xffffffff, 0));
    if (addr !== undefined) await client.command(0x09, u32(base + 4, addr, 0xffffffff, 0));
    await client.command(0x09, u32(base + 0x80, 0, 0xffffffff, 0));
    await client.command(0x09, u32(base, 1 << 18, 0xffffffff, 0));
    assert.equal(((await client.readReg(base))! >>> 18) & 1, 0, 'USR bit cleared');
    return client.readReg(base + 0x80);
  };
  assert.equal(await run(0x9f, 24), 0x1740ef);
  assert.equal(await run(0x5a, 32, 0), 0x50444653);
  assert.equal(await run(0x05, 8), 0);
});

test('ESP32 ROM: GET_SECURITY_INFO is unsupported (8 invalid-message replies with another opcode)', async (t) => {
  const { client } = await esp32(t);
  client.frames = [];
  await client.send(0x14);
  await client.until(() => client.frames.length >= 8);
  assert.equal(client.frames.length, 8);
  for (const f of client.frames) {
    assert.notEqual(f[1], 0x14);
    assert.deepEqual([...f.subarray(8)], [1, 0x05, 0, 0]);
  }
});

test('ESP32 ROM: FLASH_BEGIN takes 16 bytes (20 is rejected), needs SPI_ATTACH, erases at once', async (t) => {
  const { board, client } = await esp32(t);
  board.flash.program(0x10000, Buffer.alloc(0x2000, 0x00));
  assert.equal(status(await client.command(0x02, u32(0x2000, 2, 0x1000, 0x10000)))[0], 1, 'no attach yet');
  await attach(client);
  assert.deepEqual(status(await client.command(0x02, u32(0x2000, 2, 0x1000, 0x10000, 0))), [1, 0x05, 0, 0]);
  assert.deepEqual(status(await client.command(0x02, u32(0x2000, 2, 0x1000, 0x10000))), [0, 0x05, 0, 0]);
  assert.deepEqual(
    board.flash.read(0x10000, 0x2000),
    Buffer.alloc(0x2000, 0xff),
    'erased inside FLASH_BEGIN',
  );
});

test('ESP32-S3 ROM: FLASH_BEGIN takes 20 bytes; GET_SECURITY_INFO answers 20 bytes with chip id 9', async (t) => {
  const board = new SimBoard({ chip: 'esp32s3' });
  const client = await romSession(board);
  t.after(() => board.powerOff());
  await attach(client);
  assert.deepEqual(status(await client.command(0x02, u32(0x1000, 1, 0x400, 0))), [1, 0x05, 0, 0]);
  assert.deepEqual(status(await client.command(0x02, u32(0x1000, 1, 0x400, 0, 0))), [0, 0x05, 0, 0]);
  const info = await client.command(0x14);
  assert.equal(info?.data.length, 24);
  assert.equal(info?.data.readUInt32LE(12), 9);
  assert.equal(await client.readReg(0x40001000), 9);
});

test('ESP32-S2 ROM answers GET_SECURITY_INFO with 12 bytes (no chip id)', async (t) => {
  const board = new SimBoard({ chip: 'esp32s2' });
  const client = await romSession(board);
  t.after(() => board.powerOff());
  assert.equal((await client.command(0x14))?.data.length, 16);
});

test('ESP8266 ROM: 2 status bytes, only opcodes 0x02-0x0A', async (t) => {
  const board = new SimBoard({ chip: 'esp8266' });
  const client = await romSession(board);
  t.after(() => board.powerOff());
  const reply = await client.command(0x0a, u32(0x40001000));
  assert.deepEqual(reply?.raw, Buffer.from('010a020001c1f0ff0000', 'hex'));
  client.frames = [];
  await client.send(0x0f, u32(921600, 0));
  await client.until(() => client.frames.length >= 8);
  assert.deepEqual([...client.frames[0].subarray(8)], [1, 0x05]);
});

test('FLASH_DATA: a bad checksum is 0x07 and stores nothing, yet the block counts (as on the real ROMs); MD5 answers 32 hex chars', async (t) => {
  // Measured on the ESP32 and ESP32-C3 ROMs under QEMU: the same seq again is refused with 0x05; the next seq
  // lands where the refused block belonged; only a new FLASH_BEGIN starts the count again.
  const { board, client } = await esp32(t);
  await attach(client);
  const data = Buffer.alloc(0x400, 0xa5);
  data.write('esp-station', 0);
  const next = Buffer.alloc(0x400, 0x3c);
  const block = (seq: number, bytes: Buffer) => Buffer.concat([u32(0x400, seq, 0, 0), bytes]);
  assert.deepEqual(status(await client.command(0x02, u32(0x800, 2, 0x400, 0x20000))), [0, 0, 0, 0]);
  assert.deepEqual(status(await client.command(0x03, block(0, data), checksum(data) ^ 1)), [1, 0x07, 0, 0]);
  assert.deepEqual(board.flash.read(0x20000, 4), Buffer.alloc(4, 0xff));
  assert.deepEqual(status(await client.command(0x03, block(0, data), checksum(data))), [1, 0x05, 0, 0]);
  assert.deepEqual(status(await client.command(0x03, block(1, next), checksum(next))), [0, 0x05, 0, 0]);
  assert.deepEqual(board.flash.read(0x20000, 0x400), next, 'seq 1 landed where seq 0 belonged');
  assert.ok(board.flash.read(0x20400, 0x400).every((b) => b === 0xff));
  // A new FLASH_BEGIN erases and counts from 0 again.
  assert.equal(status(await client.command(0x02, u32(0x400, 1, 0x400, 0x20000)))[0], 0);
  assert.equal(status(await client.command(0x03, block(0, data), checksum(data)))[0], 0);
  assert.deepEqual(board.flash.read(0x20000, 0x400), data);
  const md5 = await client.command(0x13, u32(0x20000, 0x400, 0, 0));
  assert.equal(md5?.data.subarray(0, 32).toString('latin1'), createHash('md5').update(data).digest('hex'));
  const slow = await client.command(0x0e, u32(0x20000, 16));
  assert.equal(slow?.data.length, 68);
  assert.deepEqual(slow?.data.subarray(0, 16), data.subarray(0, 16));
});

test('MEM_DATA: the ROM counts a block refused for its checksum; only MEM_BEGIN starts the count again', async (t) => {
  // As measured on the ESP32 and ESP32-C3 ROMs (QEMU): RAM read back with READ_REG.
  const { client } = await esp32(t);
  const addr = 0x3ffb0000;
  const a = Buffer.alloc(0x100, 0xa1);
  const b = Buffer.alloc(0x100, 0xb2);
  const mem = (seq: number, bytes: Buffer, check = checksum(bytes)) =>
    client.command(0x07, Buffer.concat([u32(0x100, seq, 0, 0), bytes]), check);
  assert.equal(status(await client.command(0x05, u32(0x200, 2, 0x100, addr)))[0], 0);
  assert.deepEqual(status(await mem(0, a, checksum(a) ^ 1)), [1, 0x07, 0, 0]);
  assert.deepEqual(status(await mem(0, a)), [1, 0x05, 0, 0], 'the same seq again');
  assert.deepEqual(status(await mem(3, a)), [1, 0x05, 0, 0], 'a seq out of order');
  assert.deepEqual(status(await mem(1, b)), [0, 0x05, 0, 0]);
  assert.equal(await client.readReg(addr), 0xb2b2b2b2, 'seq 1 landed where seq 0 belonged');
  assert.equal(status(await client.command(0x05, u32(0x200, 2, 0x100, addr)))[0], 0);
  assert.equal(status(await mem(0, a))[0], 0);
  assert.equal(status(await mem(1, b))[0], 0);
  assert.equal(await client.readReg(addr), 0xa1a1a1a1);
  assert.equal(await client.readReg(addr + 0x100), 0xb2b2b2b2);
});

test('FLASH_DEFL_*: ROM inflates the zlib stream and writes it before replying', async (t) => {
  const { deflateSync } = await import('node:zlib');
  const { board, client } = await esp32(t);
  await attach(client);
  const image = Buffer.alloc(0x3000);
  for (let i = 0; i < image.length; i++) image[i] = (i * 31) & 0xff;
  const z = deflateSync(image, { level: 9 });
  const blocks = Math.ceil(z.length / 0x400);
  assert.deepEqual(status(await client.command(0x10, u32(0x3000, blocks, 0x400, 0x30000))), [0, 0, 0, 0]);
  for (let seq = 0; seq < blocks; seq++) {
    const chunk = z.subarray(seq * 0x400, (seq + 1) * 0x400);
    assert.deepEqual(
      status(
        await client.command(0x11, Buffer.concat([u32(chunk.length, seq, 0, 0), chunk]), checksum(chunk)),
      ),
      [0, 0, 0, 0],
    );
  }
  assert.deepEqual(board.flash.read(0x30000, 0x3000), image);
});

test('CHANGE_BAUDRATE: reply at the old rate, then the ESP32 ROM runs at its (slightly off) idea of the rate', async (t) => {
  const { board, client } = await esp32(t);
  await client.command(0x0f, u32(921600, 0));
  // The ROM's 8 MHz-calibrated clock is 0.26 % fast, so it divides for a rate 0.26 % slow (§2.2).
  assert.ok(board.chipBaud < 921600 && board.chipBaud > 915000, `chip baud ${board.chipBaud}`);
  // A host still at 115200 now reads garbage and gets no answer.
  assert.equal(await client.command(0x0a, u32(0x40001000), 0, 300), undefined);
  client.link.setBaud(921600);
  assert.equal(await client.readReg(0x40001000), 0x00f01d83);
});

test('ESP8266 ROM FLASH_BEGIN erases too much unless the host applies esptool’s erase-size workaround', async (t) => {
  const board = new SimBoard({ chip: 'esp8266' });
  const client = await romSession(board);
  t.after(() => board.powerOff());
  board.flash.program(0x10000, Buffer.alloc(0x8000, 0));
  // Asked for 2 sectors at 0x10000: the ROM erases 4.
  assert.deepEqual((await client.command(0x02, u32(0x2000, 2, 0x1000, 0x10000)))?.data, Buffer.from([0, 0]));
  assert.deepEqual(board.flash.read(0x13000, 0x1000), Buffer.alloc(0x1000, 0xff));
  assert.deepEqual(board.flash.read(0x14000, 4), Buffer.alloc(4, 0));
  // esptool's get_erase_size(0x14000, 0x2000) = 0x1000: exactly the 2 sectors wanted.
  assert.ok(await client.command(0x02, u32(0x1000, 2, 0x1000, 0x14000)));
  assert.deepEqual(board.flash.read(0x14000, 0x2000), Buffer.alloc(0x2000, 0xff));
  assert.deepEqual(board.flash.read(0x16000, 4), Buffer.alloc(4, 0));
});
