// The final verify pass reads again only the regions a later region's erase could have clobbered (a shared 4 KB
// sector, src/esp/shared-sectors.ts); every region's MD5 is still read right after it is written. On the
// simulated chip (the stub erases whole sectors, as the real one does): a clobbered region is caught, and over
// many layouts a board never passes with flash that differs from the image — so a region not read again was
// never in danger.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { Op } from '../../src/esp/commands.ts';
import { prepareRawImages } from '../../src/firmware/raw-images.ts';
import { SimBinding } from '../../src/sim/binding.ts';
import { SimBoard } from '../../src/sim/board.ts';
import { EspBoardLink } from '../../src/station/esp-board-link.ts';
import { runPipeline, type AttemptOutcome, type PipelinePolicy } from '../../src/station/pipeline.ts';

const POLICY: PipelinePolicy = {
  chip: 'esp32',
  allowSecureBoot: false,
  allowFlashEncryption: false,
  baudLadder: [921600],
  regionRetries: 0,
  boardRetriesPerBaud: 0,
  stub: true,
  compress: true,
  skipUnchanged: false,
  eraseAll: false,
  resetAfter: false,
};

interface Layout {
  offset: number;
  data: Uint8Array;
}

interface Run {
  outcome: AttemptOutcome;
  board: SimBoard;
  /** SPI_FLASH_MD5 requests after the last region was written (the final pass). */
  finalMd5s: { offset: number }[];
  regions: { offset: number; rereadAfterAll: boolean }[];
}

let port = 0;
async function flash(dir: string, layout: readonly Layout[]): Promise<Run> {
  const pairs = [];
  for (const [i, r] of layout.entries()) {
    const file = path.join(dir, `${port}-${i}.bin`);
    await writeFile(file, r.data);
    pairs.push({ offset: r.offset, file });
  }
  const raw = await prepareRawImages(pairs, '<test>', 'esp32');
  const firmware = {
    ...raw,
    chip: 'esp32' as const,
    fingerprint: 'f'.repeat(64),
    demo: true,
    profileName: 't',
  };
  const binding = new SimBinding();
  const board = new SimBoard({ chip: 'esp32', timing: 'fast' });
  const tty = `/dev/ttyFINAL${port++}`;
  binding.plug(tty, board);
  const requests: { op: number; offset: number }[] = [];
  let verifyFrom = Number.POSITIVE_INFINITY;
  board.on('request', (op, _mode, payload) =>
    requests.push({ op, offset: payload.length >= 4 ? Buffer.from(payload).readUInt32LE(0) : -1 }),
  );
  try {
    const outcome = await runPipeline({
      slot: { portPath: tty, name: 'A1', tty, vid: '10c4', pid: 'ea60' },
      link: new EspBoardLink({ binding: binding as never, resetTimeScale: 0.02 }),
      policy: POLICY,
      firmware,
      signal: AbortSignal.timeout(60_000),
      // The final pass starts with the 'verifying' state.
      publish: (e) => {
        if (e.type === 'state' && e.state === 'verifying') verifyFrom = requests.length;
      },
      attemptNumberFor: () => 1,
    });
    return {
      outcome,
      board,
      finalMd5s: requests.slice(verifyFrom).filter((r) => r.op === Op.SPI_FLASH_MD5),
      regions: raw.regions.map((r) => ({ offset: r.offset, rereadAfterAll: r.rereadAfterAll })),
    };
  } finally {
    binding.unplug(tty);
  }
}

function bytes(n: number, seed: number): Uint8Array {
  let x = seed * 2654435761 + 1;
  return new Uint8Array(n).map(() => {
    x = (x * 1103515245 + 12345) >>> 0;
    return (x >>> 16) & 0xff;
  });
}

test('a region whose sector a later region erases is read again and the board fails', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'final-verify-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  // A ends half-way into sector 0x10000; B starts there, so B's FLASH_DEFL_BEGIN erases A's bytes.
  const run = await flash(dir, [
    { offset: 0x10000, data: bytes(0x800, 1) },
    { offset: 0x10800, data: bytes(0x1000, 2) },
  ]);
  assert.deepEqual(run.regions, [
    { offset: 0x10000, rereadAfterAll: true },
    { offset: 0x10800, rereadAfterAll: false },
  ]);
  assert.equal(run.outcome.result, 'fail', 'the clobbered region must not pass');
  assert.equal(run.outcome.code, 'verify-mismatch', run.outcome.message);
  assert.match(run.outcome.message ?? '', /0x10000/);
  assert.deepEqual(
    run.finalMd5s.map((r) => r.offset),
    [0x10000],
    'only the clobbered region is read again',
  );
  assert.notDeepEqual(new Uint8Array(run.board.flash.read(0x10000, 0x800)), bytes(0x800, 1));
});

test('regions in sectors of their own: no second read, and the flash holds every image byte for byte', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'final-verify-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const blankSector = new Uint8Array(0x1000).fill(0xff);
  const app = new Uint8Array([...bytes(0x3000, 3), ...blankSector, ...bytes(0x2100, 4)]);
  const layout = [
    { offset: 0x1000, data: bytes(0x6a30, 5) },
    { offset: 0x8000, data: bytes(0xc00, 6) },
    { offset: 0x10000, data: app },
  ];
  const run = await flash(dir, layout);
  assert.equal(run.outcome.result, 'pass', run.outcome.message);
  assert.deepEqual(run.finalMd5s, [], 'nothing is read a second time');
  for (const r of layout) {
    assert.deepEqual(new Uint8Array(run.board.flash.read(r.offset, r.data.length)), r.data);
  }
});

test('over many layouts with shared sectors, a board passes only when its flash equals the image', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'final-verify-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  let seed = 7;
  const rand = (n: number) => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return (seed >>> 8) % n;
  };
  let caught = 0;
  let passed = 0;
  for (let k = 0; k < 12; k++) {
    // 2–4 regions in ascending order, each starting at a 256-byte step after the last one's end: many share
    // a sector with the next, some do not; some hold a blank sector.
    const layout: Layout[] = [];
    let at = 0x10000 + rand(16) * 0x100;
    for (let i = 0, n = 2 + rand(3); i < n; i++) {
      const len = 0x100 * (1 + rand(40));
      const data = bytes(len, k * 10 + i);
      if (len >= 0x2000 && rand(2)) data.fill(0xff, 0x1000 - (at % 0x1000), 0x2000 - (at % 0x1000));
      layout.push({ offset: at, data });
      at += len + 0x100 * rand(24);
    }
    const run = await flash(dir, layout);
    const intact = layout.every((r) =>
      Buffer.from(run.board.flash.read(r.offset, r.data.length)).equals(Buffer.from(r.data)),
    );
    const rereadOffsets = run.regions.filter((r) => r.rereadAfterAll).map((r) => r.offset);
    assert.deepEqual(
      run.finalMd5s.map((r) => r.offset).slice(0, rereadOffsets.length),
      rereadOffsets.slice(0, run.finalMd5s.length),
      'the final pass reads the flagged regions, in order',
    );
    if (run.outcome.result === 'pass') {
      passed++;
      assert.ok(
        intact,
        `layout ${k} passed with flash that differs from the image: ${JSON.stringify(layout.map((r) => [r.offset, r.data.length]))}`,
      );
      assert.equal(run.finalMd5s.length, rereadOffsets.length);
    } else {
      caught++;
      assert.equal(run.outcome.code, 'verify-mismatch', run.outcome.message);
      assert.ok(!intact, `layout ${k} failed although its flash equals the image`);
    }
  }
  // The layouts exercise both sides.
  assert.ok(caught > 0 && passed > 0, `caught ${caught}, passed ${passed}`);
});
