/**
 * The simulated chip runs the stub release the host uploaded, as that release behaves on silicon
 * (esp-flasher-stub's src/main.c and src/command_handler.c; src/esp/stubs/ has the images): v1.1.0+ re-programs UART0
 * for the ROM's baud on record on ESP32/S2 and skips erasing blank sectors; v1.0.0 does neither; unknown code
 * does not start. And the ROM keeps the rate it measured on the first SYNC.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { deflateSync } from 'node:zlib';
import type { ChipName } from '../../src/esp/chips/chip.ts';
import { SimBoard, type SimBoardOptions } from '../../src/sim/board.ts';
import { KNOWN_STUB_RELEASES, knownStubImage } from '../../src/sim/stub-releases.ts';
import {
  checksum,
  loadStubJson,
  romSession,
  u32,
  uploadStub,
  type RawSimClient,
} from '../support/raw-sim-client.ts';

const SIM_CHIPS: ChipName[] = [
  'esp8266',
  'esp32',
  'esp32s2',
  'esp32s3',
  'esp32c2',
  'esp32c3',
  'esp32c6',
  'esp32h2',
];

function board(t: { after(fn: () => void): void }, opts: SimBoardOptions = {}): SimBoard {
  const b = new SimBoard({ chip: 'esp32', ...opts });
  t.after(() => b.powerOff());
  return b;
}

test("the simulator's release table matches the pinned stub images (entry, text MD5)", () => {
  assert.deepEqual([...KNOWN_STUB_RELEASES], ['v1.0.0', 'v1.2.2']);
  for (const release of ['v1.0.0', 'v1.2.2'] as const) {
    for (const chip of SIM_CHIPS) {
      const json = JSON.parse(
        readFileSync(
          new URL(`../../src/esp/stubs/esp-flasher-stub-${release}/${chip}.json`, import.meta.url),
          'utf8',
        ),
      ) as { entry: number; text: string };
      const md5 = createHash('md5').update(Buffer.from(json.text, 'base64')).digest('hex');
      assert.deepEqual(
        knownStubImage(chip, release),
        { entry: json.entry, textMd5: md5 },
        `${release} ${chip}`,
      );
    }
  }
});

test('the ROM keeps the rate of the first SYNC: a host that changes its baud without CHANGE_BAUDRATE is not understood', async (t) => {
  const b = board(t);
  const client = await romSession(b);
  assert.equal((await client.sync()).length, 8);
  client.link.setBaud(460800);
  assert.equal((await client.sync(300)).length, 0, 'the ROM answered at a rate it never agreed to');
  client.link.setBaud(115200);
  assert.equal((await client.sync()).length, 8, 'back at the agreed rate the ROM answers again');
  assert.equal(b.chipBaud, 115200);
});

async function romBaudThenStub(
  t: { after(fn: () => void): void },
  chip: ChipName,
  release: 'v1.0.0' | 'v1.2.2',
): Promise<{ b: SimBoard; client: RawSimClient; ohaiAt921600: boolean }> {
  const b = board(t, { chip });
  const client = await romSession(b);
  assert.equal((await client.sync()).length, 8);
  // The old esp-station path: CHANGE_BAUDRATE in the ROM (second word 0), then the stub at the raised rate.
  const reply = await client.command(0x0f, u32(921600, 0));
  assert.ok(reply, 'CHANGE_BAUDRATE reply');
  client.link.setBaud(921600);
  const ohaiAt921600 = await uploadStub(client, loadStubJson(b.chip.stubName, release));
  return { b, client, ohaiAt921600 };
}

test('ESP32, v1.2.2 uploaded after a ROM baud change: the stub comes up at the 115200 on record, no OHAI at 921600', async (t) => {
  const { b, client, ohaiAt921600 } = await romBaudThenStub(t, 'esp32', 'v1.2.2');
  assert.equal(ohaiAt921600, false, 'OHAI was readable at 921600');
  assert.equal(b.mode, 'stub');
  assert.equal(b.stubRelease, 'v1.2.2');
  assert.equal(b.chipBaud, 115200);
  client.link.setBaud(115200);
  const replies = await client.sync();
  assert.equal(replies.length, 8, 'the stub answers at 115200');
  for (const r of replies) assert.equal(r.value, 0);
});

test('ESP32, v1.0.0 keeps the UART as the ROM left it; ESP32-C3 v1.2.2 has no clock boost and keeps it too', async (t) => {
  for (const [chip, release] of [
    ['esp32', 'v1.0.0'],
    ['esp32c3', 'v1.2.2'],
  ] as const) {
    const { b, ohaiAt921600 } = await romBaudThenStub(t, chip, release);
    assert.equal(ohaiAt921600, true, `${chip} ${release}: OHAI at 921600`);
    assert.equal(b.stubRelease, release);
    assert.ok(Math.abs(b.chipBaud / 921600 - 1) < 0.01, `${chip} ${release} runs at ${b.chipBaud}`);
  }
});

test('an image that is no known stub release does not start: no OHAI, and the board says why', async (t) => {
  const b = board(t);
  const client = await romSession(b);
  await client.sync();
  const stub = loadStubJson('esp32', 'v1.2.2');
  const text = Buffer.from(stub.text, 'base64');
  text[100] ^= 0x01;
  const reasons: string[] = [];
  b.on('halted', (r) => reasons.push(r));
  assert.equal(await uploadStub(client, { ...stub, text: text.toString('base64') }), false, 'OHAI');
  assert.equal(b.mode, 'halted');
  assert.match(
    b.haltReason ?? '',
    /entry 0x400a902c, text MD5 [0-9a-f]{32}\) is not a known esp-flasher-stub release for esp32 \(known: v1\.0\.0, v1\.2\.2\): the simulated chip cannot run it, no OHAI/,
  );
  assert.deepEqual(reasons, [b.haltReason]);
  assert.equal((await client.sync(300)).length, 0, 'a halted chip answers nothing');
});

/** FLASH_DEFL_BEGIN/DATA/END of `image` at `offset` through the running stub; returns every status pair. */
async function deflWrite(client: RawSimClient, offset: number, image: Buffer): Promise<number[][]> {
  const payload = deflateSync(image);
  const blocks = Math.ceil(payload.length / 0x4000);
  const statuses: number[][] = [];
  const status = (r: { data: Buffer } | undefined) => {
    assert.ok(r, 'no reply');
    statuses.push([...r.data.subarray(r.data.length - 2)]);
  };
  status(await client.command(0x10, u32(image.length, blocks, 0x4000, offset, 0)));
  for (let seq = 0; seq < blocks; seq++) {
    const chunk = payload.subarray(seq * 0x4000, (seq + 1) * 0x4000);
    status(await client.command(0x11, Buffer.concat([u32(chunk.length, seq, 0, 0), chunk]), checksum(chunk)));
  }
  status(await client.command(0x12, u32(1), 0, 5000));
  return statuses;
}

async function stubOn(
  t: { after(fn: () => void): void },
  release: 'v1.0.0' | 'v1.2.2',
  opts: SimBoardOptions = {},
): Promise<{ b: SimBoard; client: RawSimClient }> {
  const b = board(t, opts);
  const client = await romSession(b);
  await client.sync();
  assert.equal(await uploadStub(client, loadStubJson('esp32', release)), true, `OHAI from ${release}`);
  return { b, client };
}

const IMAGE = Buffer.alloc(0x40000, 0x5a); // 256 KB = 64 sectors, compresses to a few hundred bytes

test('blank sectors: v1.2.2 skips their erase until the first non-blank one, v1.0.0 erases every sector', async (t) => {
  // Fresh flash: v1.2.2 erases nothing, v1.0.0 the whole 256 KB.
  for (const [release, erased] of [
    ['v1.2.2', 0],
    ['v1.0.0', IMAGE.length],
  ] as const) {
    const { b, client } = await stubOn(t, release);
    for (const s of await deflWrite(client, 0x10000, IMAGE)) assert.deepEqual(s, [0, 0], release);
    assert.equal(b.flashStats.erasedBytes, erased, `${release}: bytes erased on blank flash`);
    assert.ok(b.flash.read(0x10000, IMAGE.length).equals(IMAGE), `${release}: data written`);
  }
  // Old data in the 5th sector of the region: v1.2.2 skips the 4 blank ones, then erases everything after
  // without looking (a used chip is dirty from low addresses on), and the write is byte-exact.
  const { b, client } = await stubOn(t, 'v1.2.2');
  b.flash.program(0x14000, Buffer.from('old data'));
  for (const s of await deflWrite(client, 0x10000, IMAGE)) assert.deepEqual(s, [0, 0]);
  assert.equal(b.flashStats.erasedBytes, IMAGE.length - 4 * 0x1000);
  assert.ok(b.flash.read(0x10000, IMAGE.length).equals(IMAGE));
});

test('timing follows the release on the realistic model: v1.0.0 pays the erase of blank sectors, v1.2.2 does not', async (t) => {
  const timings: Record<string, { eraseMs: number; elapsedMs: number }> = {};
  for (const release of ['v1.0.0', 'v1.2.2'] as const) {
    const { b, client } = await stubOn(t, release, { timing: 'realistic' });
    const start = performance.now();
    await deflWrite(client, 0x10000, IMAGE);
    timings[release] = { eraseMs: b.flashStats.eraseMs, elapsedMs: performance.now() - start };
  }
  // Four 64 KB block erases at the model's 150 ms each: the chip is busy that long before the END reply.
  assert.equal(timings['v1.0.0'].eraseMs, 4 * 150);
  assert.ok(timings['v1.0.0'].elapsedMs >= 4 * 150, `v1.0.0 took ${timings['v1.0.0'].elapsedMs} ms`);
  assert.equal(timings['v1.2.2'].eraseMs, 0);
});
