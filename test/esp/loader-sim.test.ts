import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CHIPS, CHIP_NAMES } from '../../src/esp/chips/index.ts';
import { EspLoader } from '../../src/esp/loader.ts';
import { EspError } from '../../src/esp/errors.ts';
import { classicReset, unixTightReset } from '../../src/esp/reset.ts';
import { writeRegions } from '../../src/esp/write-regions.ts';
import { FAST_CONNECT, pattern, region, simLink, simLoader } from './sim-link.ts';

test('connects to and identifies every chip: revision, MAC, flash id and size', async (t) => {
  for (const name of CHIP_NAMES) {
    const revision = name === 'esp8266' ? 0 : name === 'esp32' ? 301 : 101;
    const mac = '24:0A:C4:12:34:56';
    const { loader } = await simLoader(t, { chip: name, revision, mac, flashSize: '8MB' });
    assert.equal(loader.chip, CHIPS[name]);
    assert.equal(loader.isStub, false);
    const id = await loader.identify();
    assert.equal(id.chip, name);
    assert.equal(id.revision, revision, name);
    assert.equal(id.mac, mac, name);
    assert.equal((await loader.detectFlash()).flashSizeBytes, 8 * 1024 * 1024, name);
    assert.equal(id.secureBoot, false);
    assert.equal(id.flashEncryption, false);
  }
});

test('crystal: measured from the ROM UART divider on ESP8266/ESP32, fixed elsewhere', async (t) => {
  // (ESP32-C2 is measured too, but the simulated C2 has no UART divider register.)
  const cases = [
    ['esp32', 40, 40],
    ['esp32', 26, 26],
    ['esp8266', 26, 26],
    ['esp8266', 40, 40],
    ['esp32h2', 32, 32],
    ['esp32c3', 40, 40],
  ] as const;
  for (const [chip, boardMhz, expected] of cases) {
    const { loader } = await simLoader(t, { chip, crystalMhz: boardMhz });
    assert.equal((await loader.identify()).crystalMhz, expected, chip);
  }
});

test('security state is read from eFuse / security info', async (t) => {
  for (const chip of ['esp32', 'esp32c3', 'esp32s2'] as const) {
    const { loader } = await simLoader(t, { chip, faults: ['secure-boot', 'flash-encryption'] });
    const id = await loader.identify();
    assert.equal(id.secureBoot, true, chip);
    assert.equal(id.flashEncryption, true, chip);
  }
});

test('stub: compressed multi-region write verified by MD5; skipUnchanged skips the second time', async (t) => {
  const { loader, board } = await simLoader(t, { chip: 'esp32' });
  await loader.runStub();
  assert.equal(loader.isStub, true);
  assert.equal(loader.flashWriteSize, 0x4000);
  const regions = [
    region(0x1000, pattern(0x5000, 1), 'bootloader'),
    region(0x8000, new Uint8Array(0xc00).fill(0xaa), 'partition-table'),
    region(0x10000, pattern(150_000, 3), 'app'),
  ];
  const progress: number[] = [];
  const results = await writeRegions(loader, regions, { onProgress: (p) => progress.push(p.done) });
  assert.deepEqual(
    results.map((r) => [r.offset, r.size, r.md5Chip === r.md5Expected, r.skipped, r.compressed]),
    regions.map((r) => [r.offset, r.data.length, true, false, true]),
  );
  for (const r of regions) {
    assert.deepEqual(board.flash.read(r.offset, r.data.length), Buffer.from(r.data));
  }
  assert.ok(progress.length >= 3);
  const again = await writeRegions(loader, regions, { skipUnchanged: true });
  assert.deepEqual(
    again.map((r) => r.skipped),
    [true, true, true],
  );
});

test('ROM only (no stub): 1 KiB blocks, compressed and plain, unaligned offset padded down', async (t) => {
  const { loader, board } = await simLoader(t, { chip: 'esp32' });
  assert.equal(loader.flashWriteSize, 0x400);
  const a = region(0x20000, pattern(5000, 4));
  const b = region(0x30000 + 0x200, pattern(3000, 5));
  const [ra, rb] = await writeRegions(loader, [a, b], { compress: false });
  assert.equal(ra.compressed, false);
  assert.equal(rb.md5Chip, b.md5);
  assert.deepEqual(board.flash.read(b.offset, 3000), Buffer.from(b.data));
  // The pad below an unaligned ROM write is erased flash.
  assert.ok(board.flash.read(0x30000, 0x200).every((x: number) => x === 0xff));
  const c = region(0x40000, pattern(9000, 6));
  const [rc] = await writeRegions(loader, [c]);
  assert.equal(rc.compressed, true);
  assert.deepEqual(await loader.readFlash(0x40000, 200), Buffer.from(c.data.subarray(0, 200)));
});

test('ESP8266: the ROM cannot verify, so writing needs the stub', async (t) => {
  const { loader, board } = await simLoader(t, { chip: 'esp8266' });
  const r = region(0x0, pattern(4096, 7));
  await assert.rejects(writeRegions(loader, [r]), (e: EspError) => e.kind === 'unsupported');
  await loader.runStub();
  const [res] = await writeRegions(loader, [r]);
  assert.equal(res.md5Chip, r.md5);
  assert.deepEqual(board.flash.read(0, 4096), Buffer.from(r.data));
});

test('wrong boot mode is diagnosed from the boot log', async (t) => {
  const link = await simLink(t, { chip: 'esp32', faults: ['no-sync'] });
  const err = await EspLoader.connect(link.transport, {
    ...FAST_CONNECT,
    attempts: 2,
    strategies: [unixTightReset(50), classicReset(50)],
  }).catch((e: unknown) => e);
  assert.ok(err instanceof EspError);
  assert.equal(err.kind, 'wrong-boot-mode');
  assert.match(err.message, /boot:0x[0-9a-f]+.*did not enter download mode; check BOOT\/EN wiring/);
  assert.ok(err.bootLog && err.bootLog.length > 0);
});

test('a silent bad sector is caught by the MD5 check', async (t) => {
  const { loader } = await simLoader(t, { chip: 'esp32c3', faults: ['silent-corruption'] });
  await loader.runStub();
  const err = await writeRegions(loader, [region(0x10000, pattern(20000, 8))]).catch((e) => e);
  assert.ok(err instanceof EspError);
  assert.equal(err.kind, 'verify-mismatch');
  assert.match(err.message, /flash MD5 [0-9a-f]{32} does not match/);
});

test('a flash program failure reported by the chip is a write-error', async (t) => {
  for (const useStub of [true, false]) {
    const { loader } = await simLoader(t, { chip: 'esp32s3', faults: ['write-error'] });
    if (useStub) await loader.runStub();
    const err = await writeRegions(loader, [region(0x10000, pattern(40000, 9))]).catch((e) => e);
    assert.ok(err instanceof EspError, String(err));
    assert.equal(err.kind, 'write-error', `${useStub ? 'stub' : 'ROM'}: ${err.message}`);
  }
});

test('a vanished port ends the running write with a disconnected error, not a timeout', async (t) => {
  const { loader } = await simLoader(t, { chip: 'esp32', faults: ['disconnect:30000'] });
  await loader.runStub();
  const err = await writeRegions(loader, [region(0x10000, pattern(200_000, 10))]).catch((e) => e);
  assert.ok(err instanceof EspError);
  assert.equal(err.kind, 'disconnected');
});

test('unplugging while a command waits rejects it as disconnected', async (t) => {
  const { loader, binding, path } = await simLoader(t, { chip: 'esp32' });
  await loader.runStub();
  const writing = writeRegions(loader, [region(0x10000, pattern(300_000, 11))]);
  setImmediate(() => binding.unplug(path));
  await assert.rejects(writing, (e: EspError) => e.kind === 'disconnected');
  await assert.rejects(loader.readReg(0x40001000), (e: EspError) => e.kind === 'disconnected');
});

test('abort ends a write with an aborted error', async (t) => {
  const { loader } = await simLoader(t, { chip: 'esp32' });
  const ac = new AbortController();
  const writing = writeRegions(loader, [region(0x10000, pattern(100_000, 12))], {
    signal: ac.signal,
    onProgress: () => ac.abort(),
  });
  await assert.rejects(writing, (e: EspError) => e.kind === 'aborted');
});

test('a block whose checksum does not match is refused; the same seq is accepted when re-sent', async (t) => {
  const { loader, board } = await simLoader(t, { chip: 'esp32' });
  await loader.runStub();
  const r = region(0x10000, pattern(64 * 1024, 13));
  await loader.flashBegin(r.data.length, 4, 0x4000, 0x10000);
  const block = r.data.subarray(0, 0x4000);
  const bad = Buffer.from(block);
  bad[5] ^= 0xff;
  // A block whose bytes do not match its checksum is refused as a checksum error.
  await assert.rejects(
    loader.command(0x03, Buffer.concat([Buffer.from(new Uint32Array([0x4000, 0, 0, 0]).buffer), bad]), {
      check: 0xef ^ [...block].reduce((a, b) => a ^ b, 0),
    }),
    (e: EspError) => e.kind === 'checksum',
  );
  // and the same seq is accepted when re-sent intact
  await loader.flashData(block, 0, 3000);
  assert.ok(board.flash.read(0x10000, 16).equals(Buffer.from(block.subarray(0, 16))));
});

test('stub already running is recognised by the SYNC value, and the baud can change', async (t) => {
  const { loader, transport } = await simLoader(t, { chip: 'esp32c6' });
  await loader.runStub();
  assert.equal(await loader.changeBaud(921600), 921600);
  assert.equal(transport.baudRate, 921600);
  loader.dispose();
  // A new loader on the same link: no reset possible in between, SYNC answers with value 0.
  const again = await EspLoader.connect(transport, {
    ...FAST_CONNECT,
    strategies: [{ name: 'none', steps: [] }],
  });
  t.after(() => again.dispose());
  assert.equal(again.isStub, true);
  assert.equal(again.chip.name, 'esp32c6');
});

test('ESP32 ROM baud change compensates the ROM clock and still talks at the new rate', async (t) => {
  const { loader, transport } = await simLoader(t, { chip: 'esp32' });
  assert.equal(await loader.changeBaud(460800), 460800);
  assert.equal(transport.baudRate, 460800);
  assert.equal(await loader.readReg(0x40001000), 0x00f01d83);
});

test('USB-Serial/JTAG (303a:1001) boards connect with their own reset sequence', async (t) => {
  const link = await simLink(t, { chip: 'esp32c3', resetCircuit: 'usb-jtag' }, { vid: 0x303a, pid: 0x1001 });
  const loader = await EspLoader.connect(link.transport, FAST_CONNECT);
  t.after(() => loader.dispose());
  assert.equal(loader.chip.name, 'esp32c3');
});

test('bit flips on the wire: blocks refused for their checksum are re-sent and the region verifies', async (t) => {
  const { loader } = await simLoader(t, { chip: 'esp32', faults: ['bit-flip:0.00002'], seed: 1 });
  await loader.runStub();
  const r = region(0x10000, pattern(400_000, 3));
  const [res] = await writeRegions(loader, [r]);
  assert.ok(res.retries > 0, 'some blocks were re-sent');
  assert.equal(res.md5Chip, r.md5);
});

test('stub erase commands: ERASE_REGION clears a range, ERASE_FLASH the chip; the ROM refuses both', async (t) => {
  const { loader, board } = await simLoader(t, { chip: 'esp32c3', flashSize: '2MB' });
  await assert.rejects(loader.eraseRegion(0, 0x1000), (e: EspError) => e.kind === 'unsupported');
  await loader.runStub();
  await writeRegions(loader, [region(0x10000, pattern(0x3000, 30)), region(0x40000, pattern(0x1000, 31))]);
  await loader.eraseRegion(0x11000, 0x1000);
  assert.ok(board.flash.read(0x11000, 0x1000).every((b: number) => b === 0xff));
  assert.ok(!board.flash.read(0x10000, 0x1000).every((b: number) => b === 0xff));
  await assert.rejects(loader.eraseRegion(0x100, 0x1000), RangeError);
  await loader.eraseFlash();
  assert.ok(board.flash.read(0, 2 * 1024 * 1024).every((b: number) => b === 0xff));
});

test('two overlapping operations on one loader are refused instead of mixing replies', async (t) => {
  const { loader } = await simLoader(t, { chip: 'esp32' });
  const first = loader.readReg(0x40001000);
  await assert.rejects(loader.readReg(0x40001000), (e: EspError) => e.kind === 'protocol');
  assert.equal(await first, 0x00f01d83);
});
