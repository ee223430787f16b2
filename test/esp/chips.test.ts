import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CHIPS, CHIP_NAMES, chipByImageChipId, chipByMagic, chipByName } from '../../src/esp/chips/index.ts';
import { STUB_RELEASES, stubFile } from '../../src/esp/stub.ts';

test('every chip is registered under its own name', () => {
  assert.deepEqual(CHIP_NAMES.sort(), [
    'esp32',
    'esp32c2',
    'esp32c3',
    'esp32c6',
    'esp32h2',
    'esp32s2',
    'esp32s3',
    'esp8266',
  ]);
  for (const name of CHIP_NAMES) assert.equal(CHIPS[name].name, name);
});

test('chipByMagic finds each chip by each of its magic values and nothing else', () => {
  for (const name of CHIP_NAMES) {
    for (const magic of CHIPS[name].magicValues) {
      assert.equal(chipByMagic(magic)?.name, name, `magic 0x${magic.toString(16)}`);
    }
  }
  assert.equal(chipByMagic(0x00f01d83)?.name, 'esp32');
  assert.equal(chipByMagic(0xfff0c101)?.name, 'esp8266');
  assert.equal(chipByMagic(0x1b31506f)?.name, 'esp32c3');
  assert.equal(chipByMagic(0xdeadbeef), undefined);
  // Negative numbers from a signed read still match.
  assert.equal(chipByMagic(0xfff0c101 | 0)?.name, 'esp8266');
});

test('magic values are unique across chips', () => {
  const seen = new Map<number, string>();
  for (const name of CHIP_NAMES) {
    for (const magic of CHIPS[name].magicValues) {
      assert.equal(seen.get(magic), undefined, `0x${magic.toString(16)} shared`);
      seen.set(magic, name);
    }
  }
});

test('chipByImageChipId follows §8.2', () => {
  const expected: Record<number, string> = {
    0: 'esp32',
    2: 'esp32s2',
    5: 'esp32c3',
    9: 'esp32s3',
    12: 'esp32c2',
    13: 'esp32c6',
    16: 'esp32h2',
  };
  for (const [id, name] of Object.entries(expected)) {
    assert.equal(chipByImageChipId(Number(id))?.name, name);
  }
  assert.equal(chipByImageChipId(18), undefined);
});

test('chipByName accepts display spellings', () => {
  assert.equal(chipByName('ESP32-S3')?.name, 'esp32s3');
  assert.equal(chipByName('esp32_c3')?.name, 'esp32c3');
  assert.equal(chipByName('esp32'), CHIPS.esp32);
  assert.equal(chipByName('esp32p4'), undefined);
  assert.equal(chipByName('toString'), undefined);
});

test('protocol shape facts per chip (§1.3, §2.1, §11.1)', () => {
  assert.equal(CHIPS.esp8266.romStatusBytes, 2);
  for (const name of CHIP_NAMES.filter((n) => n !== 'esp8266')) {
    assert.equal(CHIPS[name].romStatusBytes, 4, name);
    assert.equal(CHIPS[name].romHasEsp32Commands, true, name);
  }
  assert.equal(CHIPS.esp32.romFlashBeginHasEncryptedWord, false);
  assert.equal(CHIPS.esp32s2.romFlashBeginHasEncryptedWord, true);
  assert.equal(CHIPS.esp32s2.romSecurityInfoBytes, 12);
  assert.equal(CHIPS.esp32c3.romSecurityInfoBytes, 20);
  assert.equal(CHIPS.esp32.romSecurityInfoBytes, 0);
  assert.equal(CHIPS.esp32.bootloaderOffset, 0x1000);
  assert.equal(CHIPS.esp32s2.bootloaderOffset, 0x1000);
  assert.equal(CHIPS.esp32s3.bootloaderOffset, 0);
  assert.equal(CHIPS.esp32c6.flashFreq['80m'], 0);
  assert.equal(CHIPS.esp32c2.flashFreq['60m'], 0xf);
  assert.equal(CHIPS.esp32h2.flashFreq['48m'], 0xf);
  assert.equal(CHIPS.esp32.flashSize['4MB'], 2);
  assert.equal(CHIPS.esp8266.flashSize['4MB'], 4);
});

test('stub JSON exists for every chip in every pinned release', async () => {
  const { readFile } = await import('node:fs/promises');
  for (const release of STUB_RELEASES) {
    for (const name of CHIP_NAMES) {
      const stub = JSON.parse(await readFile(stubFile(CHIPS[name], release), 'utf8')) as { entry: number };
      assert.equal(typeof stub.entry, 'number', `${release} ${name}`);
    }
  }
});

function regReader(regs: ReadonlyMap<number, number>) {
  return (addr: number) => Promise.resolve(regs.get(addr) ?? 0);
}

test('revision round-trips through revisionRegisters for every chip', async () => {
  const revs: Record<string, number[]> = {
    esp8266: [0],
    esp32: [0, 100, 200, 300, 301, 303],
    esp32s2: [0, 1, 9, 100, 115],
    esp32s3: [0, 1, 2, 100, 115],
    esp32c2: [0, 100, 104, 115],
    esp32c3: [0, 3, 4, 101, 115],
    esp32c6: [0, 1, 100, 315],
    esp32h2: [0, 1, 101, 107],
  };
  for (const name of CHIP_NAMES) {
    for (const rev of revs[name]) {
      const regs = CHIPS[name].revisionRegisters(rev);
      assert.equal(await CHIPS[name].readRevision(regReader(regs)), rev, `${name} v${rev}`);
    }
  }
});

test('ESP32 revision from hand-made eFuse words (§8.4)', async () => {
  // rev bits 0,1,2 all set → major 3; word5[25:24] = 1 → minor 1.
  const regs = new Map([
    [0x3ff5a00c, 1 << 15],
    [0x3ff5a014, (1 << 20) | (1 << 24)],
    [0x3ff6607c, 0x80000000],
  ]);
  assert.equal(await CHIPS.esp32.readRevision(regReader(regs)), 301);
  // only bit0 → major 1
  assert.equal(await CHIPS.esp32.readRevision(regReader(new Map([[0x3ff5a00c, 1 << 15]]))), 100);
  assert.throws(() => CHIPS.esp32.revisionRegisters(400));
});

test('ESP32-C3 revision from hand-made eFuse words (§8.4)', async () => {
  // w5 = 0x60008858: major bits 25:24 = 1, bit 23 = 1; w3 = 0x60008850: bits 20:18 = 3 → minor 11.
  const regs = new Map([
    [0x60008858, (1 << 24) | (1 << 23)],
    [0x60008850, 3 << 18],
  ]);
  assert.equal(await CHIPS.esp32c3.readRevision(regReader(regs)), 111);
});

test('ESP32-C6 revision from hand-made eFuse words (§8.4)', async () => {
  // BLOCK1 word3 = 0x600B0850: major = bits 23:22, minor = bits 21:18.
  const regs = new Map([[0x600b0850, (0 << 22) | (1 << 18)]]);
  assert.equal(await CHIPS.esp32c6.readRevision(regReader(regs)), 1);
});
