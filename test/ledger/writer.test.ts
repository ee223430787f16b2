import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFile, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LedgerWriter } from '../../src/ledger/writer.ts';
import { LedgerReader } from '../../src/ledger/reader.ts';
import type { LedgerRecord } from '../../src/ledger/record.ts';
import { mac, makeRecord } from './record-builder.ts';

async function tempDir(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'ledger-writer-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function readAll(path: string): Promise<{ records: LedgerRecord[]; reader: LedgerReader }> {
  const reader = new LedgerReader(path);
  const records: LedgerRecord[] = [];
  for await (const r of reader) records.push(r);
  return { records, reader };
}

test('append writes each record as exactly one JSON line and the reader gets it back unchanged', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'ledger.jsonl');
  const w = await LedgerWriter.open({ file, station: 'st1' });
  const a = makeRecord({ mac: mac(1), message: 'line1\nline2 "quoted"', result: 'fail', code: 'timeout' });
  const b = makeRecord({ mac: mac(2) });
  await w.append(a);
  await w.append(b);
  await w.close();
  const text = await readFile(file, 'utf8');
  const lines = text.split('\n');
  assert.equal(lines.length, 3);
  assert.equal(lines[2], '');
  assert.deepEqual(JSON.parse(lines[0]), a);
  const { records, reader } = await readAll(file);
  assert.deepEqual(records, [a, b]);
  assert.equal(reader.problemCount, 0);
});

test('append rejects a record that does not match the schema and writes nothing', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'ledger.jsonl');
  const w = await LedgerWriter.open({ file, station: 'st1' });
  t.after(() => w.close());
  const bad = { ...makeRecord(), result: 'maybe' } as unknown as LedgerRecord;
  await assert.rejects(w.append(bad), /result/);
  const extra = { ...makeRecord(), surprise: 1 } as unknown as LedgerRecord;
  await assert.rejects(w.append(extra), /rejected/);
  // The queue survives rejected records.
  await w.append(makeRecord());
  assert.equal((await readFile(file, 'utf8')).split('\n').length, 2);
});

test('concurrent appends from many workers never interleave', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'ledger.jsonl');
  const w = await LedgerWriter.open({ file, station: 'st1' });
  const recs = Array.from({ length: 200 }, (_, i) =>
    makeRecord({
      mac: mac(i),
      slot: `S${i % 8}`,
      message: 'x'.repeat(i * 50),
      result: 'fail',
      code: 'timeout',
    }),
  );
  await Promise.all(recs.map((r) => w.append(r)));
  await w.close();
  const { records, reader } = await readAll(file);
  assert.equal(reader.problemCount, 0);
  assert.deepEqual(records, recs);
});

test('rotation by day: one file per UTC day of the record end, old files kept across reopen', async (t) => {
  const dir = await tempDir(t);
  const day = (d: number, h: number) => Date.UTC(2026, 10, d, h, 0, 0);
  let w = await LedgerWriter.open({ dir, station: 'line 1/st', rotate: { by: 'day' } });
  await w.append(makeRecord({ startMs: day(21, 23), durationMs: 30_000 }));
  await w.append(makeRecord({ startMs: day(22, 10) }));
  await w.close();
  w = await LedgerWriter.open({ dir, station: 'line 1/st', rotate: { by: 'day' } });
  await w.append(makeRecord({ startMs: day(22, 11) }));
  await w.append(makeRecord({ startMs: day(23, 0) }));
  assert.equal(w.currentFile, join(dir, 'line_1_st-2026-11-23.jsonl'));
  await w.close();
  assert.deepEqual((await readdir(dir)).sort(), [
    'line_1_st-2026-11-21.jsonl',
    'line_1_st-2026-11-22.jsonl',
    'line_1_st-2026-11-23.jsonl',
    'line_1_st.lock', // the station's lock on its files in this folder
  ]);
  assert.equal((await readFile(join(dir, 'line_1_st-2026-11-22.jsonl'), 'utf8')).split('\n').length, 3);
  const { records, reader } = await readAll(dir);
  assert.equal(records.length, 4);
  assert.equal(reader.files.length, 3);
});

test('rotation by size: no file grows past maxBytes, every record survives, sequence continues after reopen', async (t) => {
  const dir = await tempDir(t);
  const one = Buffer.byteLength(JSON.stringify(makeRecord({ mac: mac(1) }))) + 1;
  const maxBytes = one * 3 + 10;
  let w = await LedgerWriter.open({ dir, station: 'st1', rotate: { by: 'size', maxBytes } });
  for (let i = 0; i < 7; i++) await w.append(makeRecord({ mac: mac(i) }));
  await w.close();
  w = await LedgerWriter.open({ dir, station: 'st1', rotate: { by: 'size', maxBytes } });
  for (let i = 7; i < 10; i++) await w.append(makeRecord({ mac: mac(i) }));
  await w.close();
  const names = (await readdir(dir)).sort();
  assert.deepEqual(names, [
    'st1-000001.jsonl',
    'st1-000002.jsonl',
    'st1-000003.jsonl',
    'st1-000004.jsonl',
    'st1.lock',
  ]);
  for (const n of names.filter((n) => n.endsWith('.jsonl')))
    assert.ok((await stat(join(dir, n))).size <= maxBytes, n);
  const { records } = await readAll(dir);
  assert.deepEqual(
    records.map((r) => r.mac),
    Array.from({ length: 10 }, (_, i) => mac(i)),
  );
});

test('a torn last line from a crash is kept, reported, and never glued to the next record', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'ledger.jsonl');
  const good = makeRecord({ mac: mac(1) });
  const torn = JSON.stringify(makeRecord({ mac: mac(2) })).slice(0, 150);
  await writeFile(file, `${JSON.stringify(good)}\n${torn}`);
  const w = await LedgerWriter.open({ file, station: 'st1' });
  assert.equal(w.scanProblemCount, 1);
  assert.equal(w.scanProblems[0].kind, 'torn');
  const next = makeRecord({ mac: mac(3) });
  await w.append(next);
  await w.close();
  const text = await readFile(file, 'utf8');
  assert.ok(text.startsWith(`${JSON.stringify(good)}\n${torn}\n`), 'old bytes untouched');
  const { records, reader } = await readAll(file);
  assert.deepEqual(records, [good, next]);
  assert.equal(reader.problemCount, 1);
  assert.deepEqual(
    reader.problems.map((p) => [p.line, p.kind]),
    [[2, 'torn']],
  );
});

test('attemptNumberFor counts attempts per MAC across restarts, case-insensitive, ignoring unidentified boards', async (t) => {
  const dir = await tempDir(t);
  let w = await LedgerWriter.open({ dir, station: 'st1' });
  assert.equal(w.attemptNumberFor(mac(1)), 1);
  await w.append(makeRecord({ mac: mac(1), attempt: 1, result: 'fail', code: 'timeout' }));
  assert.equal(w.attemptNumberFor(mac(1)), 2);
  await w.append(makeRecord({ mac: mac(1), attempt: 2 }));
  await w.append(makeRecord({ mac: undefined, attempt: 1, result: 'fail', code: 'no-sync' }));
  await w.close();
  // Another station writing into the same directory counts too: the ledger is the directory.
  const other = await LedgerWriter.open({ dir, station: 'st2' });
  await other.append(makeRecord({ station: 'st2', mac: mac(2), attempt: 1 }));
  await other.close();
  await appendFile(join(dir, 'st1-2026-11-23.jsonl'), 'garbage\n');
  w = await LedgerWriter.open({ dir, station: 'st1' });
  t.after(() => w.close());
  assert.equal(w.attemptNumberFor(mac(1)), 3);
  assert.equal(w.attemptNumberFor(mac(1).toLowerCase()), 3);
  assert.equal(w.attemptNumberFor(mac(2)), 2);
  assert.equal(w.attemptNumberFor(mac(3)), 1);
  assert.equal(w.scanProblemCount, 1);
});

test('open refuses ambiguous options and append after close fails', async (t) => {
  const dir = await tempDir(t);
  await assert.rejects(LedgerWriter.open({ station: 'x' }), /exactly one/);
  await assert.rejects(LedgerWriter.open({ dir, file: join(dir, 'a'), station: 'x' }), /exactly one/);
  await assert.rejects(
    LedgerWriter.open({ file: join(dir, 'a.jsonl'), station: 'x', rotate: { by: 'day' } }),
    /rotation needs a ledger directory/,
  );
  await assert.rejects(
    LedgerWriter.open({ dir, station: 'x', rotate: { by: 'size', maxBytes: 0 } }),
    /maxBytes/,
  );
  const w = await LedgerWriter.open({ dir, station: 'x' });
  await w.close();
  await assert.rejects(w.append(makeRecord()), /closed/);
});

test('an append aborted while still queued is not written; the others are', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'ledger.jsonl');
  const w = await LedgerWriter.open({ file, station: 'st1' });
  const ac = new AbortController();
  const first = w.append(makeRecord({ mac: mac(1) }));
  const second = w.append(makeRecord({ mac: mac(2) }), ac.signal);
  const third = w.append(makeRecord({ mac: mac(3) }));
  ac.abort();
  const results = await Promise.allSettled([first, second, third]);
  await w.close();
  assert.deepEqual(
    results.map((r) => r.status),
    ['fulfilled', 'rejected', 'fulfilled'],
  );
  const { records } = await readAll(file);
  assert.deepEqual(
    records.map((r) => r.mac),
    [mac(1), mac(3)],
  );
});

test('a directory without rotation holds one file per station', async (t) => {
  const dir = await tempDir(t);
  const w = await LedgerWriter.open({ dir, station: 'line 2', rotate: { by: 'none' } });
  await w.append(makeRecord({ startMs: Date.UTC(2026, 10, 21) }));
  await w.append(makeRecord({ startMs: Date.UTC(2026, 10, 23) }));
  await w.close();
  assert.deepEqual((await readdir(dir)).sort(), ['line_2.jsonl', 'line_2.jsonl.lock']);
  assert.equal((await readAll(dir)).records.length, 2);
});
