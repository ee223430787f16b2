/**
 * The deflate cache through the commands a production engineer runs: `esp-station check` packs the release
 * once and waits for it; `esp-station flash` then writes the packed streams to a simulated board, byte-exact.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateSync } from 'node:zlib';
import { openDeflateCache } from '../../src/firmware/deflate-cache.ts';
import type { PreparedRegion } from '../../src/firmware/prepared-region.ts';
import { packForNextStart } from '../../src/cli/station-deflate-fill.ts';
import type { StationEvent } from '../../src/station/events.ts';
import { SimBoard } from '../../src/sim/board.ts';
import { startSimServer } from '../../src/sim/tcp-server.ts';
import { REAL_AT_DIR, tempDir } from '../firmware/fixture-paths.ts';
import { md5hex } from '../support/md5.ts';

const BIN = fileURLToPath(new URL('../../bin/esp-station.mjs', import.meta.url));

function cli(args: string[], cache: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { timeout: 120_000, env: { ...process.env, ESP_STATION_DEFLATE_CACHE: cache } },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 99) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

async function served(t: TestContext) {
  const board = new SimBoard({ timing: 'fast', chip: 'esp32', flashSize: '4MB' });
  const server = await startSimServer({ board });
  t.after(() => server.close());
  return { board, port: `socket://127.0.0.1:${server.port}` };
}

test('check packs the ESP-AT release once (and says what it saves); flash then writes the packed streams byte-exact', async (t) => {
  const cache = path.join(await tempDir(t, 'esp-station-deflate-cli-'), 'cache');
  const first = await cli(['check', '--firmware', REAL_AT_DIR], cache);
  assert.equal(first.code, 0, first.stderr + first.stdout);
  assert.match(first.stdout, /^deflate cache: packing this image set once for this release/m);
  const packed =
    /^deflate cache: packed 6 regions in [\d.]+ s: ([\d,]+) → ([\d,]+) B \(−(\d+\.\d) %\); later runs send (\d+) KB less \((.*)\)$/m.exec(
      first.stdout,
    );
  assert.ok(packed, first.stdout);
  const [zlib9, zopfli] = [packed[1], packed[2]].map((n) => Number(n.replace(/,/g, '')));
  assert.equal(zlib9, 1_042_215, 'zlib-9 of what a fresh board is sent (blank sectors skipped)');
  assert.ok(zopfli < zlib9 * 0.98, `${zopfli} B packed`);
  assert.equal(packed[5], cache);
  assert.match(first.stdout, /\nOK\n$/);

  // The flash map shows the packed sizes; a second check has nothing left to pack.
  const second = await cli(['check', '--firmware', REAL_AT_DIR], cache);
  assert.equal(second.code, 0, second.stderr + second.stdout);
  assert.match(second.stdout, /^deflate cache: 6 regions already packed: /m);
  const recipe = (out: string) => /recipe:\s+([0-9a-f]{64})/.exec(out)?.[1];
  assert.equal(recipe(second.stdout), recipe(first.stdout), 'the recipe does not depend on the cache');

  const { board, port } = await served(t);
  const r = await cli(
    ['flash', '--port', port, '--firmware', path.join(REAL_AT_DIR, 'flasher_args.json')],
    cache,
  );
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.doesNotMatch(r.stderr, /deflate cache/, 'every entry was taken');
  const app = await readFile(path.join(REAL_AT_DIR, 'esp-at.bin'));
  assert.equal(md5hex(board.flash.read(0x100000, app.length)), md5hex(app));
  const nvs = await readFile(path.join(REAL_AT_DIR, 'customized_partitions/mfg_nvs.bin'));
  assert.equal(md5hex(board.flash.read(0x21000, nvs.length)), md5hex(nvs));
});

test('flash with a damaged entry in the cache: names the file on stderr, sends zlib-9, byte-exact', async (t) => {
  const cache = path.join(await tempDir(t, 'esp-station-deflate-cli-'), 'cache');
  const dir = await tempDir(t, 'esp-station-deflate-cli-set-');
  const table = await readFile(path.join(REAL_AT_DIR, 'partition_table/partition-table.bin'));
  await writeFile(path.join(dir, 'partition-table.bin'), table);
  // An entry cut short, as a power failure or a full disk could leave it (the table is already 4-byte padded).
  const file = openDeflateCache(cache).fileFor(table);
  await mkdir(path.dirname(file), { recursive: true });
  const stream = deflateSync(table);
  await writeFile(file, stream.subarray(0, stream.length - 3));
  const { board, port } = await served(t);
  const r = await cli(['flash', '--port', port, `0x8000=${path.join(dir, 'partition-table.bin')}`], cache);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.match(r.stderr, new RegExp(`deflate cache: ignoring ${file}: not a complete zlib stream`));
  assert.equal(md5hex(board.flash.read(0x8000, table.length)), md5hex(table));
});

test('the station packs its recipe in the background and logs what the next start saves; stopping ends it', async (t) => {
  const cache = path.join(await tempDir(t, 'esp-station-deflate-cli-'), 'cache');
  const data = new TextEncoder().encode('station slot board ledger verify '.repeat(3000));
  const before = process.env.ESP_STATION_DEFLATE_CACHE;
  process.env.ESP_STATION_DEFLATE_CACHE = cache;
  t.after(() => {
    if (before === undefined) delete process.env.ESP_STATION_DEFLATE_CACHE;
    else process.env.ESP_STATION_DEFLATE_CACHE = before;
  });
  const events: StationEvent[] = [];
  const logged = new Promise<void>((resolve) => {
    packForNextStart({ regions: [{ data } as PreparedRegion] }, (e) => (events.push(e), resolve()));
  });
  await logged;
  assert.equal(events.length, 1);
  const e = events[0];
  assert.ok(e.type === 'log' && e.level === 'info' && e.slot === '');
  assert.match(e.message, /^deflate cache: packed 1 region in [\d.]+ s: .* later runs send \d+ KB less/);
  assert.ok(openDeflateCache(cache).lookup(data), 'the next start finds the entry');

  // Stopped before it is done (the station stops): nothing is logged.
  const stop = packForNextStart({ regions: [{ data: data.map((b) => b ^ 0x20) } as PreparedRegion] }, (e) =>
    events.push(e),
  );
  stop();
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(events.length, 1);
});
