import assert from 'node:assert/strict';
import { deflateSync } from 'node:zlib';
import { test } from 'node:test';
import { SimBoard, type SimBoardOptions } from '../../src/sim/board.ts';
import { checksum, romSession, u32, type RawSimClient } from '../support/raw-sim-client.ts';

const ESP32_EFUSE = 0x3ff5a000;
const SPI1 = 0x3ff42000;
/** ESP32-PICO-D4-like wiring: flash on GPIO 6, 17, 8, 11, 16 (CLK, Q, D, HD, CS). */
const PICO_PADS = { clk: 6, q: 17, d: 8, hd: 11, cs: 16 };
const PICO_PACKED = ((11 << 24) | (16 << 18) | (8 << 12) | (17 << 6) | 6) >>> 0;

async function esp32(t: { after(fn: () => void): void }, opts: SimBoardOptions = {}) {
  const board = new SimBoard({ chip: 'esp32', ...opts });
  const client = await romSession(board);
  t.after(() => board.powerOff());
  return { board, client };
}

function status(reply: { data: Buffer } | undefined): number[] {
  assert.ok(reply, 'no reply');
  return [...reply.data.subarray(reply.data.length - 4)];
}

/** RDID (0x9F) through the SPI1 user-command registers, as esptool's run_spiflash_command does. */
async function rdid(client: RawSimClient): Promise<number> {
  const w = async (addr: number, value: number) => client.command(0x09, u32(addr, value, 0xffffffff, 0));
  await w(SPI1 + 0x2c, 23);
  await w(SPI1 + 0x1c, 0x90000000);
  await w(SPI1 + 0x24, (7 << 28) | 0x9f);
  await w(SPI1 + 0x80, 0);
  await w(SPI1, 1 << 18);
  return (await client.readReg(SPI1 + 0x80))! & 0xffffff;
}

test('eFuse SPI_PAD_CONFIG names the pins of custom-wired flash (esptool get_chip_spi_pads layout)', async (t) => {
  const { client } = await esp32(t, { spiPads: PICO_PADS });
  const w5 = (await client.readReg(ESP32_EFUSE + 0x14))!;
  const w3 = (await client.readReg(ESP32_EFUSE + 0x0c))!;
  assert.deepEqual(
    [w5 & 0x1f, (w5 >> 5) & 0x1f, (w5 >> 10) & 0x1f, (w3 >> 4) & 0x1f, (w5 >> 15) & 0x1f],
    [6, 17, 8, 11, 16],
  );
  // The package/revision bits sharing word 3 are untouched.
  assert.equal((w3 >> 9) & 1, 1);
});

test('custom-wired flash: attached with 0 (default pins) the ROM does not reach it; with its pins it does', async (t) => {
  const { board, client } = await esp32(t, { spiPads: PICO_PADS, flashSize: '4MB' });
  assert.deepEqual(status(await client.command(0x0d, u32(0, 0))), [0, 0, 0, 0]);
  assert.equal(await rdid(client), 0xffffff, 'nobody drives MISO: RDID reads all ones');
  const md5 = await client.command(0x13, u32(0, 0x1000, 0, 0));
  board.flash.program(0, Buffer.from('not blank'));
  const md5After = await client.command(0x13, u32(0, 0x1000, 0, 0));
  assert.deepEqual(md5?.data, md5After?.data, 'the MD5 does not see the flash either');
  // FLASH_BEGIN: the ROM erases and polls a status register that reads busy forever: no reply at all.
  assert.equal(await client.command(0x02, u32(0x1000, 4, 0x400, 0x10000), 0, 300), undefined);

  // After a reset, attaching with the eFuse pins reaches the flash.
  const again = await esp32(t, { spiPads: PICO_PADS, flashSize: '4MB' });
  assert.deepEqual(status(await again.client.command(0x0d, u32(PICO_PACKED, 0))), [0, 0, 0, 0]);
  assert.equal(await rdid(again.client), 0x1640ef);
  assert.deepEqual(status(await again.client.command(0x02, u32(0x1000, 4, 0x400, 0x10000))), [0, 0, 0, 0]);
});

test('a board on the default pins is reached with 0 and not with other pins', async (t) => {
  const { client } = await esp32(t);
  assert.deepEqual(status(await client.command(0x0d, u32(PICO_PACKED, 0))), [0, 0, 0, 0]);
  assert.equal(await rdid(client), 0xffffff);
  const again = await esp32(t);
  assert.deepEqual(status(await again.client.command(0x0d, u32(0, 0))), [0, 0, 0, 0]);
  assert.equal(await rdid(again.client), 0x1640ef);
});

test('rom-error fault: the ROM refuses the chosen data block with error 0x05 and writes nothing', async (t) => {
  for (const block of [0, 2]) {
    const { board, client } = await esp32(t, { faults: [`rom-error:${block}`] });
    assert.deepEqual(status(await client.command(0x0d, u32(0, 0))), [0, 0, 0, 0]);
    const data = Buffer.alloc(0x1000, 0x5a);
    const z = deflateSync(data);
    // Plain blocks count as well as compressed ones: blocks 0 and 1 are plain here.
    assert.deepEqual(status(await client.command(0x02, u32(0x800, 2, 0x400, 0x20000))), [0, 0, 0, 0]);
    const statuses: number[][] = [];
    for (let seq = 0; seq < 2; seq++) {
      const part = data.subarray(seq * 0x400, (seq + 1) * 0x400);
      const r = await client.command(0x03, Buffer.concat([u32(0x400, seq, 0, 0), part]), checksum(part));
      statuses.push(status(r));
    }
    assert.equal(status(await client.command(0x10, u32(0x1000, 1, 0x400, 0x10000)))[0], 0);
    const r = await client.command(0x11, Buffer.concat([u32(z.length, 0, 0, 0), z]), checksum(z));
    statuses.push(status(r));
    // After the refusal, successes still carry its error byte (as on the real ROMs).
    const expected = [0, 1, 2].map((i) => (i === block ? [1, 5, 0, 0] : [0, i > block ? 5 : 0, 0, 0]));
    assert.deepEqual(statuses, expected, `block ${block}`);
    const written = board.flash.read(block === 2 ? 0x10000 : 0x20000, 0x400);
    assert.ok(
      written.every((b) => b === 0xff),
      'the refused block is not written',
    );
  }
});
