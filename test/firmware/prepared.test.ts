import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { inflateSync } from 'node:zlib';
import { loadProfile } from '../../src/config/profile.ts';
import { readFlasherArgs as flasherArgsSet } from '../../src/firmware/flasher-args.ts';
import { prepareFirmware, zlibLevel9 } from '../../src/firmware/prepared.ts';
import type { PreparedRegion } from '../../src/firmware/prepared.ts';
import { inspectProfileFirmware } from '../../src/firmware/profile-firmware.ts';
import { demoCopy } from './broken-image-sets.ts';
import { REAL_AT_DIR, tempDir } from './fixture-paths.ts';
import { md5hex } from '../support/md5.ts';

function countingDeflate() {
  const counter = { calls: 0, bytes: 0 };
  const deflate = (d: Uint8Array) => {
    counter.calls++;
    counter.bytes += d.length;
    return zlibLevel9(d);
  };
  return { counter, deflate };
}

function planParts(regions: readonly PreparedRegion[]): number {
  return regions.reduce((n, r) => n + (r.erasedPlan?.parts.length ?? 0), 0);
}

test('real release: each region padded, hashed, compressed once; bootloader patched; others byte-identical', async () => {
  const set = await flasherArgsSet(path.join(REAL_AT_DIR, 'flasher_args.json'));
  const { counter, deflate } = countingDeflate();
  const fw = prepareFirmware(
    set,
    { mode: 'qio', freq: '80m', size: '4MB' },
    { profileName: 'real', deflate },
  );
  // Once per region, plus once per part between whole blank sectors (the plan the stub writes around).
  assert.equal(counter.calls, 6 + planParts(fw.regions));
  assert.deepEqual(
    fw.regions.filter((r) => r.erasedPlan).map((r) => r.label),
    ['otadata', 'mfg_nvs'],
  );
  for (const r of fw.regions) {
    for (const part of r.erasedPlan?.parts ?? [])
      assert.deepEqual(inflateSync(part.compressed), Buffer.from(part.data));
  }
  assert.equal(fw.chip, 'esp32');
  assert.equal(fw.requiredFlashBytes, 0x400000);
  for (const r of fw.regions) {
    const file = new Uint8Array(readFileSync(r.file));
    assert.equal(r.data.length % 4, 0);
    assert.deepEqual(inflateSync(r.compressed), Buffer.from(r.data));
    assert.equal(r.md5, md5hex(r.data));
    assert.equal(r.sha256, createHash('sha256').update(r.data).digest('hex'));
    if (r.offset === 0x1000) {
      assert.equal(r.data[2], 0x00); // qio
      assert.equal(r.data[3], 0x2f); // 4MB | 80m
      assert.deepEqual(r.header, {
        mode: 'qio',
        freq: '80m',
        size: '4MB',
        patched: true,
        shaUpdated: true,
        note: undefined,
      });
    } else {
      assert.deepEqual(Buffer.from(r.data), Buffer.from(file), r.label); // the app header is never patched
    }
  }
  assert.deepEqual(
    fw.regions.map((r) => [r.label, r.partition?.label]),
    [
      ['bootloader', undefined],
      ['partition-table', undefined],
      ['otadata', 'otadata'],
      ['at_customize', 'at_customize'],
      ['mfg_nvs', 'mfg_nvs'],
      ['app', 'ota_0'],
    ],
  );
  assert.ok(Object.isFrozen(fw) && Object.isFrozen(fw.regions) && Object.isFrozen(fw.regions[0]));
});

test('a file whose length is not a multiple of 4 is padded with 0xFF, and the MD5 covers the padding', async (t) => {
  const dir = await tempDir(t);
  writeFileSync(path.join(dir, 'odd.bin'), Uint8Array.from([1, 2, 3, 4, 5]));
  const set = {
    kind: 'files' as const,
    sourceFile: path.join(dir, 'p.yaml'),
    settings: {},
    regions: [
      {
        offset: 0x200000,
        file: path.join(dir, 'odd.bin'),
        label: 'odd',
        encrypted: false,
        declaredAt: { file: 'p.yaml' },
      },
    ],
  };
  const fw = prepareFirmware(set, { mode: 'keep', freq: 'keep', size: 'keep' }, { chip: 'esp32' });
  assert.deepEqual([...fw.regions[0].data], [1, 2, 3, 4, 5, 0xff, 0xff, 0xff]);
  assert.equal(fw.regions[0].md5, md5hex(Uint8Array.from([1, 2, 3, 4, 5, 0xff, 0xff, 0xff])));
});

test('the recipe fingerprint depends on chip, settings, offsets and file contents, and nothing else', async (t) => {
  const c = await demoCopy(t);
  const set = await flasherArgsSet(c.flasherArgs);
  const s = { mode: 'dio' as const, freq: '40m', size: '4MB' };
  const a = prepareFirmware(set, s, { profileName: 'a' });
  assert.match(a.fingerprint, /^[0-9a-f]{64}$/);
  assert.equal(prepareFirmware(set, s, { profileName: 'b', demo: true }).fingerprint, a.fingerprint);
  assert.notEqual(prepareFirmware(set, { ...s, freq: '80m' }).fingerprint, a.fingerprint);
  const moved = {
    ...set,
    regions: set.regions.map((r) => (r.label === 'mfg_nvs' ? { ...r, offset: 0x22000 } : r)),
  };
  assert.notEqual(prepareFirmware(moved, s).fingerprint, a.fingerprint);
  const nvs = path.join(c.dir, 'customized_partitions/mfg_nvs.bin');
  const bytes = readFileSync(nvs);
  bytes[5000] ^= 1;
  writeFileSync(nvs, bytes);
  assert.notEqual(prepareFirmware(set, s).fingerprint, a.fingerprint);
});

test('32 workers share one prepared copy: same objects, no extra zlib work, no memory growth', async (t) => {
  const c = await demoCopy(t);
  const { counter, deflate } = countingDeflate();
  const r = await inspectProfileFirmware(await loadProfile(await c.profile()), { deflate });
  const fw = r.prepared!;
  assert.equal(counter.calls, fw.regions.length + planParts(fw.regions));
  const callsAfterPrepare = counter.calls;
  const before = process.memoryUsage().arrayBuffers;
  // Each worker walks its regions the way the flasher does: 16 KB blocks of the compressed stream.
  const seen = await Promise.all(
    Array.from({ length: 32 }, async () => {
      const regions = fw.regionsFor(4 * 1024 * 1024);
      let sum = 0;
      for (const region of regions) {
        for (let off = 0; off < region.compressed.length; off += 0x4000)
          sum += region.compressed.subarray(off, off + 0x4000)[0];
      }
      await Promise.resolve();
      return { regions, sum };
    }),
  );
  const growth = process.memoryUsage().arrayBuffers - before;
  assert.equal(counter.calls, callsAfterPrepare, 'no worker compresses anything');
  assert.ok(
    seen.every((w) => w.regions === fw.regions),
    'every worker gets the very same region list',
  );
  assert.ok(seen.every((w) => w.sum === seen[0].sum));
  const total = fw.regions.reduce((n, x) => n + x.data.length + x.compressed.length, 0);
  // 32 private copies would add ~32 × 2.6 MB; sharing adds nothing but views.
  assert.ok(growth < total, `array buffers grew by ${growth} bytes with 32 workers (one copy is ${total})`);
});

test("flash size 'detect': the bootloader is patched per detected size, once per size, other regions shared", async (t) => {
  const c = await demoCopy(t, 'esp-at-legacy');
  const { counter, deflate } = countingDeflate();
  const r = await inspectProfileFirmware(await loadProfile(await c.profile()), { deflate });
  const fw = r.prepared!;
  assert.equal(fw.settings.size, 'detect');
  const base = counter.calls;
  const boot = (list: readonly PreparedRegion[]) => list.find((x) => x.offset === 0x1000)!;
  assert.equal(boot(fw.regions).data[3], 0x20); // the set's own header (4MB|40m) until a size is known
  const lists4 = Array.from({ length: 32 }, () => fw.regionsFor(4 * 1024 * 1024));
  const lists16 = Array.from({ length: 32 }, () => fw.regionsFor(16 * 1024 * 1024));
  assert.equal(counter.calls, base + 2, 'one recompression per distinct flash size, not per worker');
  assert.ok(lists4.every((l) => l === lists4[0]) && lists16.every((l) => l === lists16[0]));
  assert.equal(boot(lists4[0]).data[3], 0x20);
  assert.equal(boot(lists16[0]).data[3], 0x40); // 16MB | 40m
  assert.notEqual(boot(lists16[0]).md5, boot(lists4[0]).md5);
  for (let i = 0; i < fw.regions.length; i++) {
    if (fw.regions[i].offset !== 0x1000) assert.equal(lists16[0][i], fw.regions[i]);
  }
});

test('a board with secure boot gets the bootloader exactly as built (esptool does not patch then)', async () => {
  const set = await flasherArgsSet(path.join(REAL_AT_DIR, 'flasher_args.json'));
  const fw = prepareFirmware(set, { mode: 'qio', freq: '80m', size: '4MB' });
  const original = readFileSync(set.regions[0].file);
  assert.equal(fw.regions[0].data[2], 0x00); // qio for ordinary boards
  const secure = fw.regionsFor(4 * 1024 * 1024, { secureBoot: true });
  assert.deepEqual(Buffer.from(secure[0].data), original);
  assert.equal(secure[0].md5, md5hex(original));
  assert.equal(fw.regionsFor(4 * 1024 * 1024, { secureBoot: true }), secure, 'prepared once');
  assert.equal(secure[5], fw.regions[5], 'the app is shared');
});

test('the revision range comes from the bootloader and app headers', async (t) => {
  const real = prepareFirmware(await flasherArgsSet(path.join(REAL_AT_DIR, 'flasher_args.json')), {
    mode: 'keep',
    freq: 'keep',
    size: 'keep',
  });
  assert.deepEqual(real.revisionRange, { min: 0, max: 399 }); // v0.0 .. v3.99 in both real headers
  const c = await demoCopy(t);
  const app = path.join(c.dir, 'esp-at.bin');
  const { buildFirmwareImage } = await import('../../src/firmware/image-builder.ts');
  writeFileSync(
    app,
    buildFirmwareImage({
      chipId: 0,
      flashMode: 2,
      flashSizeNibble: 2,
      flashFreqNibble: 0,
      entry: 0x40080000,
      hashAppended: true,
      minRevFull: 300,
      maxRevFull: 399,
      segments: [{ loadAddress: 0x3f400020, data: new Uint8Array(256) }],
    }),
  );
  const fw = prepareFirmware(await flasherArgsSet(c.flasherArgs), {
    mode: 'keep',
    freq: 'keep',
    size: 'keep',
  });
  assert.deepEqual(fw.revisionRange, { min: 300, max: 399 });
});

test('only the image at the chip bootloader offset is patched (0x0 on ESP32-S3, 0x1000 on ESP32)', async (t) => {
  const dir = await tempDir(t);
  const { buildFirmwareImage } = await import('../../src/firmware/image-builder.ts');
  const img = (chipId: number) =>
    buildFirmwareImage({
      chipId,
      flashMode: 2,
      flashSizeNibble: 2,
      flashFreqNibble: 0,
      entry: 0x40370000,
      hashAppended: true,
      segments: [{ loadAddress: 0x3fc80000, data: new Uint8Array(512).fill(3) }],
    });
  const region = (offset: number, name: string, chipId: number) => {
    const file = path.join(dir, `${name}-${chipId}.bin`);
    writeFileSync(file, img(chipId));
    return { offset, file, label: name, encrypted: false, declaredAt: { file: 'p.yaml' } };
  };
  const settings = { mode: 'qio' as const, freq: '80m', size: '8MB' };
  const s3 = prepareFirmware(
    {
      kind: 'files',
      sourceFile: 'p.yaml',
      settings: {},
      regions: [region(0x0, 'boot', 9), region(0x10000, 'app', 9)],
    },
    settings,
    { chip: 'esp32s3' },
  );
  assert.deepEqual([s3.regions[0].data[2], s3.regions[0].data[3]], [0x00, 0x3f]);
  assert.deepEqual([s3.regions[1].data[2], s3.regions[1].data[3]], [0x02, 0x20]);
  const esp32 = prepareFirmware(
    {
      kind: 'files',
      sourceFile: 'p.yaml',
      settings: {},
      regions: [region(0x0, 'x', 0), region(0x1000, 'boot', 0)],
    },
    settings,
    { chip: 'esp32' },
  );
  assert.deepEqual([esp32.regions[0].data[2], esp32.regions[0].data[3]], [0x02, 0x20]);
  assert.deepEqual([esp32.regions[1].data[2], esp32.regions[1].data[3]], [0x00, 0x3f]);
});
