/**
 * The deflate cache (src/firmware/deflate-cache.ts, deflate-fill.ts): streams packed once by zopfli on a worker
 * thread, used by prepareFirmware only when they inflate to exactly the bytes they are for. The suite runs with
 * the cache off (scripts/run-tests.mjs); these tests turn it on with a temporary directory.
 */
import { after, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { deflateSync, inflateSync } from 'node:zlib';
import {
  DEFAULT_DEFLATE_CACHE_DIR,
  DEFLATE_CACHE_ENV,
  deflateCacheFromEnv,
  openDeflateCache,
  readEntry,
  storeEntry,
} from '../../src/firmware/deflate-cache.ts';
import { fillPieces, formatFillSummary, startDeflateFill } from '../../src/firmware/deflate-fill.ts';
import { KEEP_ALL } from '../../src/firmware/flash-settings.ts';
import type { ImageSet } from '../../src/firmware/image-set.ts';
import { prepareFirmware, zlibLevel9, type PreparedFirmware } from '../../src/firmware/prepared.ts';
import { writeRegion } from '../../src/esp/write-regions.ts';
import { simLoader } from '../esp/sim-link.ts';
import { tempDir } from './fixture-paths.ts';

/** Text-like bytes: where zopfli's better parsing beats zlib-9 by a few per cent, as on real firmware. */
function words(size: number, seed: number): Uint8Array {
  const vocabulary = [
    'flash',
    'stub',
    'region',
    'sector',
    'baud',
    'chip',
    'verify',
    'ledger',
    'board',
    'erase',
  ];
  let x = seed;
  let s = '';
  while (s.length < size) {
    x = (x * 1103515245 + 12345) >>> 0;
    s += `${vocabulary[(x >>> 16) % vocabulary.length]}${(x >>> 8) % 7 === 0 ? '\n' : ' '}${x % 97} `;
  }
  return new TextEncoder().encode(s.slice(0, size));
}

/** An app, and an NVS-like region with blank sectors in the middle (the plan's two parts), read from memory. */
function smallSet(): { set: ImageSet; files: Map<string, Uint8Array> } {
  const nvs = new Uint8Array(0x4000).fill(0xff);
  nvs.set(words(0x1000, 7), 0);
  nvs.set(words(0x1000, 8), 0x3000);
  const files = new Map<string, Uint8Array>([
    ['/set/app.bin', words(48 * 1024, 1)],
    ['/set/nvs.bin', nvs],
  ]);
  const region = (offset: number, file: string, label: string) => ({
    offset,
    file,
    label,
    encrypted: false,
    declaredAt: { file: '/set/list' },
  });
  return {
    files,
    set: {
      kind: 'files',
      sourceFile: '/set/list',
      chip: 'esp32',
      settings: {},
      regions: [region(0x9000, '/set/nvs.bin', 'nvs'), region(0x10000, '/set/app.bin', 'app')],
    },
  };
}

/** prepareFirmware as the product calls it: the compressor from the environment (the cache it names). */
function prepareWithEnv(setting: string, warnings?: string[]): PreparedFirmware {
  const { set, files } = smallSet();
  const before = process.env[DEFLATE_CACHE_ENV];
  process.env[DEFLATE_CACHE_ENV] = setting;
  const write = process.stderr.write.bind(process.stderr);
  if (warnings) {
    process.stderr.write = ((chunk: string | Uint8Array) => (warnings.push(String(chunk)), true)) as never;
  }
  try {
    return prepareFirmware(set, KEEP_ALL, { readFile: (f) => files.get(f)! });
  } finally {
    process.stderr.write = write;
    if (before === undefined) delete process.env[DEFLATE_CACHE_ENV];
    else process.env[DEFLATE_CACHE_ENV] = before;
  }
}

/** Every compressed piece of a prepared set: whole regions and the parts between blank sectors. */
function pieces(fw: PreparedFirmware): { data: Uint8Array; compressed: Uint8Array }[] {
  return fw.regions.flatMap((r) => [r, ...(r.erasedPlan?.parts ?? [])]);
}

/** The small set's cache, filled once by zopfli for this file; each test gets its own copy. */
let template: Promise<string> | undefined;
after(async () => {
  if (template) await rm(path.dirname(await template), { recursive: true, force: true });
});

async function filled(t: TestContext): Promise<string> {
  template ??= (async () => {
    const dir = path.join(await mkdtemp(path.join(tmpdir(), 'esp-station-deflate-')), 'cache');
    const fw = prepareWithEnv('off');
    const summary = await startDeflateFill(fw.regions, { cache: openDeflateCache(dir) }).done;
    assert.equal(summary.failure, undefined);
    assert.equal(summary.filled, 4, 'the app, the NVS region and the two parts between its blank sectors');
    assert.ok(summary.packedBytes < summary.zlib9Bytes, formatFillSummary(summary));
    return dir;
  })();
  const dir = path.join(await tempDir(t, 'esp-station-deflate-'), 'cache');
  await cp(await template, dir, { recursive: true });
  return dir;
}

test('a filled cache: prepareFirmware sends its smaller streams, each inflating to its piece; the recipe is unchanged', async (t) => {
  const dir = await filled(t);
  const plain = prepareWithEnv('off');
  const warm = prepareWithEnv(dir);
  const cache = openDeflateCache(dir);
  for (const [i, p] of pieces(warm).entries()) {
    assert.deepEqual(p.compressed, new Uint8Array(await readFile(cache.fileFor(p.data))), `piece ${i}`);
    assert.deepEqual(inflateSync(p.compressed), Buffer.from(p.data));
    assert.deepEqual(pieces(plain)[i].compressed, zlibLevel9(p.data));
  }
  const app = warm.regions.find((r) => r.label === 'app')!;
  assert.ok(app.compressed.length < zlibLevel9(app.data).length, 'zopfli beats zlib-9 on the app');
  // What a board gets and what the ledger records are the same with and without the cache.
  assert.equal(warm.fingerprint, plain.fingerprint);
  assert.deepEqual(
    warm.regions.map((r) => [r.offset, r.md5, r.sha256, r.data.length]),
    plain.regions.map((r) => [r.offset, r.md5, r.sha256, r.data.length]),
  );
});

test('a second fill finds every entry valid and packs nothing; the summary says what later runs save', async (t) => {
  const dir = await filled(t);
  const fw = prepareWithEnv('off');
  const again = await startDeflateFill(fw.regions, { cache: openDeflateCache(dir) }).done;
  assert.deepEqual([again.filled, again.had, again.failure], [0, 4, undefined]);
  const sent = fillPieces(fw.regions).sent;
  assert.equal(
    again.zlib9Bytes,
    sent.reduce((n, d) => n + zlibLevel9(d).length, 0),
  );
  assert.match(
    formatFillSummary(again),
    /^deflate cache: 2 regions already packed: [\d,]+ → [\d,]+ B \(−\d+\.\d %\); later runs send \d+ KB less \(/,
  );
});

test('damaged, foreign or wrong entries are refused: zlib-9 is sent, each file named once on stderr, the next fill replaces them', async (t) => {
  const dir = await filled(t);
  const cache = openDeflateCache(dir);
  const fw = prepareWithEnv('off');
  const app = fw.regions.find((r) => r.label === 'app')!;
  const nvs = fw.regions.find((r) => r.label === 'nvs')!;
  const [part0, part1] = nvs.erasedPlan!.parts;
  const appStream = await readFile(cache.fileFor(app.data));
  // Another piece's valid stream of the same length: used unchecked, the board would get wrong bytes.
  const otherSameLength = deflateSync(part1.data.subarray(0, part0.data.length).map((b) => b ^ 1));
  await writeFile(cache.fileFor(app.data), appStream.subarray(0, appStream.length - 9)); // truncated
  await writeFile(cache.fileFor(part0.data), otherSameLength);
  await writeFile(cache.fileFor(part1.data), Buffer.concat([deflateSync(part1.data), Buffer.from('junk')]));
  await writeFile(cache.fileFor(nvs.data), "someone else's notes, not a zlib stream\n");

  const warnings: string[] = [];
  const used = prepareWithEnv(dir, warnings);
  for (const p of pieces(used)) assert.deepEqual(p.compressed, zlibLevel9(p.data));
  const said = warnings.join('');
  for (const [piece, why] of [
    [app.data, /not a complete zlib stream/],
    [part0.data, /inflates to other bytes/],
    [part1.data, /4 bytes follow the end of the stream/],
    [nvs.data, /not a complete zlib stream/],
  ] as const) {
    const line = said.split('\n').find((l) => l.includes(cache.fileFor(piece)));
    assert.ok(line, `${cache.fileFor(piece)} named: ${said}`);
    assert.match(line, why);
    assert.match(line, /sending zlib-9 for this piece/);
  }
  // Said once per file, not on every preparation.
  const again: string[] = [];
  prepareWithEnv(dir, again);
  assert.deepEqual(again, []);

  const refill = await startDeflateFill(fw.regions, { cache }).done;
  assert.deepEqual([refill.filled, refill.had, refill.failure], [4, 0, undefined]);
  for (const p of pieces(prepareWithEnv(dir)))
    assert.ok('stream' in readEntry(cache.fileFor(p.data), p.data));
});

test('an entry that is a directory, or bigger than any stream of its piece, is refused without reading it', async (t) => {
  const dir = await tempDir(t, 'esp-station-deflate-');
  const warnings: string[] = [];
  const cache = openDeflateCache(dir, { warn: (m) => warnings.push(m) });
  const a = words(5000, 3);
  const b = words(6000, 4);
  await mkdir(cache.fileFor(a), { recursive: true });
  await writeFile(cache.fileFor(b), Buffer.alloc(7000));
  assert.equal(cache.lookup(a), undefined);
  assert.equal(cache.lookup(b), undefined);
  assert.equal(cache.lookup(words(100, 5)), undefined, 'absent: quietly a miss');
  assert.equal(warnings.length, 2);
  assert.match(warnings[0], /not a regular file/);
  assert.match(warnings[1], /7000 bytes is too large for a stream of 6000 bytes/);
});

test('two fillers at once: both finish, every entry is one complete stream, no temporary file is left', async (t) => {
  const dir = path.join(await tempDir(t, 'esp-station-deflate-'), 'cache');
  const fw = prepareWithEnv('off');
  const [one, two] = await Promise.all([
    startDeflateFill(fw.regions, { cache: openDeflateCache(dir) }).done,
    startDeflateFill(fw.regions, { cache: openDeflateCache(dir) }).done,
  ]);
  assert.deepEqual([one.failure, two.failure], [undefined, undefined]);
  assert.equal(one.filled + one.had, 4);
  assert.equal(two.filled + two.had, 4);
  const cache = openDeflateCache(dir);
  for (const p of pieces(fw)) assert.ok('stream' in readEntry(cache.fileFor(p.data), p.data));
  assert.deepEqual(
    (await readdir(path.join(dir, cache.tag))).filter((n) => !n.endsWith('.zlib')),
    [],
  );
});

test('writes are atomic: while entries are replaced over and over, every read sees one whole stream', async (t) => {
  const dir = await tempDir(t, 'esp-station-deflate-');
  const data = words(200_000, 9);
  const file = openDeflateCache(dir).fileFor(data);
  const streams = [deflateSync(data, { level: 1 }), deflateSync(data, { level: 9 })];
  await storeEntry(file, streams[0]);
  let reads = 0;
  const writers = Array.from({ length: 40 }, (_, i) => storeEntry(file, streams[i % 2]));
  const reader = (async () => {
    for (let i = 0; i < 200; i++) {
      assert.ok('stream' in readEntry(file, data), `read ${i} saw a whole stream`);
      reads++;
      await new Promise((r) => setImmediate(r));
    }
  })();
  await Promise.all([...writers, reader]);
  assert.equal(reads, 200);
  assert.deepEqual(await readdir(path.dirname(file)), [path.basename(file)]);
});

test('a cache that cannot be written: preparation sends zlib-9 quietly, the fill says why and nothing throws', async (t) => {
  const root = await tempDir(t, 'esp-station-deflate-');
  await writeFile(path.join(root, 'a-file'), 'not a directory');
  const dir = path.join(root, 'a-file', 'cache');
  const warnings: string[] = [];
  const fw = prepareWithEnv(dir, warnings);
  assert.deepEqual(warnings, []);
  for (const p of pieces(fw)) assert.deepEqual(p.compressed, zlibLevel9(p.data));
  const summary = await startDeflateFill(fw.regions, { cache: openDeflateCache(dir) }).done;
  assert.match(summary.failure ?? '', /cannot write .*a-file\/cache.*(ENOTDIR|EEXIST)/);
  assert.match(
    formatFillSummary(summary),
    /^deflate cache: not filled \(cannot write .*\); runs send zlib-9 streams/,
  );
});

test('off, unset and a directory: where the cache is, and an off cache fills nothing', async () => {
  assert.equal(deflateCacheFromEnv({ [DEFLATE_CACHE_ENV]: 'off' }), undefined);
  assert.equal(deflateCacheFromEnv({})?.dir, DEFAULT_DEFLATE_CACHE_DIR);
  assert.match(DEFAULT_DEFLATE_CACHE_DIR, /\/var\/deflate-cache$/);
  assert.equal(deflateCacheFromEnv({ [DEFLATE_CACHE_ENV]: '/srv/cache' })?.dir, '/srv/cache');
  const off = await startDeflateFill(
    smallSet().set.regions.map(() => ({ data: words(10, 1) })),
    {
      cache: undefined,
    },
  ).done;
  assert.equal(off.dir, undefined);
  assert.match(formatFillSummary(off), /^deflate cache: off \(ESP_STATION_DEFLATE_CACHE=off\)/);
});

test('stop(): the filler ends at once and its finished entries stay valid', async (t) => {
  const dir = await tempDir(t, 'esp-station-deflate-');
  const big = { data: words(3_000_000, 11) };
  const fill = startDeflateFill([{ data: words(1000, 12) }, big], { cache: openDeflateCache(dir) });
  const t0 = performance.now();
  setTimeout(() => fill.stop(), 1500);
  const summary = await fill.done;
  assert.equal(summary.failure, 'stopped');
  assert.ok(performance.now() - t0 < 10_000, 'zopfli on 3 MB takes far longer than the stop');
  const cache = openDeflateCache(dir);
  assert.deepEqual(readEntry(cache.fileFor(big.data), big.data), {}, 'the unfinished piece has no entry');
  assert.equal(summary.filled, 1, 'the small piece was packed before the stop');
});

test('written on the simulated chip with cached zopfli streams: the stub inflates them, flash byte-exact', async (t) => {
  const dir = await filled(t);
  const fw = prepareWithEnv(dir);
  const cache = openDeflateCache(dir);
  const { loader, board } = await simLoader(t, { chip: 'esp32' });
  await loader.runStub();
  const sent: Uint8Array[] = [];
  const data = loader.flashDeflData.bind(loader);
  loader.flashDeflData = (chunk, ...rest) => (sent.push(chunk.slice()), data(chunk, ...rest));
  for (const r of fw.regions) {
    const before = sent.length;
    const res = await writeRegion(loader, r, { skipErasedSectors: true });
    assert.equal(res.md5Chip, r.md5);
    assert.ok(board.flash.read(r.offset, r.data.length).equals(Buffer.from(r.data)), r.label);
    // What went over the wire is the cache's entries (the parts' for the NVS region, around its blank sectors).
    const pieces = r.erasedPlan ? r.erasedPlan.parts.map((p) => p.data) : [r.data];
    const entries = await Promise.all(pieces.map((p) => readFile(cache.fileFor(p))));
    assert.deepEqual(Buffer.concat(sent.slice(before)), Buffer.concat(entries));
  }
});

test('a background fill leaves out what preparing found valid: warm, no worker; one entry lost, only it is packed', async (t) => {
  const dir = await filled(t);
  const cache = openDeflateCache(dir);
  const warm = prepareWithEnv(dir);
  const none = await startDeflateFill(warm.regions, { cache, onlyMissing: true }).done;
  assert.deepEqual([none.filled, none.had, none.ms, none.failure], [0, 4, 0, undefined]);

  const other = await filled(t);
  const app = warm.regions.find((r) => r.label === 'app')!;
  await rm(openDeflateCache(other).fileFor(app.data));
  const fw = prepareWithEnv(other);
  const one = await startDeflateFill(fw.regions, { cache: openDeflateCache(other), onlyMissing: true }).done;
  assert.deepEqual([one.filled, one.had, one.failure], [1, 0, undefined]);
  assert.ok(openDeflateCache(other).lookup(app.data));
});
