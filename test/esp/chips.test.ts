import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CHIPS,
  CHIP_NAMES,
  chipByImageChipId,
  chipByMagic,
  chipByName,
  type ChipName,
} from '../../src/esp/chips/index.ts';
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

test('revision bit positions of every chip, from esptool v5.3.1 targets/*.py get_major/minor_chip_version', async () => {
  // Each case: eFuse words written from esptool's formula (independently of src/esp/chips), and what it reads.
  const cases: [ChipName, [number, number][], number][] = [
    // S2: BLOCK1 0x3F41A044; major = w3[19:18], minor = w3[20] << 3 | w4[6:4].
    [
      'esp32s2',
      [
        [0x3f41a044 + 12, (1 << 18) | (1 << 20)],
        [0x3f41a044 + 16, 2 << 4],
      ],
      110,
    ],
    // S3: BLOCK1 0x60007044; major = w5[25:24], minor = w5[23] << 3 | w3[20:18].
    [
      'esp32s3',
      [
        [0x60007044 + 20, (1 << 24) | (1 << 23)],
        [0x60007044 + 12, 1 << 18],
      ],
      109,
    ],
    // C2: BLOCK2 0x60008840; major = w1[21:20], minor = w1[19:16].
    ['esp32c2', [[0x60008840 + 4, (1 << 20) | (1 << 16)]], 101],
    // C3: as S3 at BLOCK1 0x60008844.
    [
      'esp32c3',
      [
        [0x60008844 + 20, 0],
        [0x60008844 + 12, 4 << 18],
      ],
      4,
    ],
    // C6: BLOCK1 0x600B0844; major = w3[23:22], minor = w3[21:18].
    ['esp32c6', [[0x600b0844 + 12, (1 << 22) | (2 << 18)]], 102],
    // H2: BLOCK1 0x600B0844; major = w3[22:21], minor = w3[20:18].
    ['esp32h2', [[0x600b0844 + 12, (1 << 21) | (1 << 18)]], 101],
  ];
  for (const [name, words, expected] of cases) {
    assert.equal(await CHIPS[name].readRevision(regReader(new Map(words))), expected, name);
  }
});

test('ESP32-S3 "ECO0" (esptool is_eco0): block version v1.1 with raw minor & 7 = 0 reads v0.0', async () => {
  const BLOCK1 = 0x60007044;
  const BLOCK2 = 0x6000705c;
  // Raw major 2 (w5[25:24]), raw minor 0, block version major 1 (BLOCK2 w4[1:0]) and minor 1 (BLOCK1 w3[26:24]).
  const eco0 = new Map([
    [BLOCK1 + 4 * 5, 2 << 24],
    [BLOCK1 + 4 * 3, 1 << 24],
    [BLOCK2 + 4 * 4, 1],
  ]);
  assert.equal(await CHIPS.esp32s3.readRevision(regReader(eco0)), 0);
  // The same words with raw minor 2 are an ordinary v2.2; without the block version, an ordinary v2.0.
  const v22 = new Map([...eco0, [BLOCK1 + 4 * 3, (1 << 24) | (2 << 18)]]);
  assert.equal(await CHIPS.esp32s3.readRevision(regReader(v22)), 202);
  assert.equal(await CHIPS.esp32s3.readRevision(regReader(new Map([[BLOCK1 + 4 * 5, 2 << 24]]))), 200);
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
