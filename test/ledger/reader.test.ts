import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatLedgerProblem, LedgerReader } from '../../src/ledger/reader.ts';
import { LedgerWriter } from '../../src/ledger/writer.ts';
import type { LedgerRecord } from '../../src/ledger/record.ts';
import { mac, makeRecord } from './record-builder.ts';

async function tempDir(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'ledger-reader-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function readAll(reader: LedgerReader): Promise<LedgerRecord[]> {
  const out: LedgerRecord[] = [];
  for await (const r of reader) out.push(r);
  return out;
}

const line = (r: LedgerRecord) => `${JSON.stringify(r)}\n`;

test('corrupt, invalid and torn lines are counted with file:line and the records around them still come through', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'st1.jsonl');
  const recs = [1, 2, 3, 4].map((n) => makeRecord({ mac: mac(n) }));
  await writeFile(
    file,
    line(recs[0]) +
      'this is not json\n' +
      '\n' +
      line(recs[1]) +
      JSON.stringify({ ...recs[2], v: 2 }) +
      '\n' +
      JSON.stringify(recs[2]).slice(0, 80) +
      '\n' +
      line(recs[3]) +
      line(makeRecord({ mac: mac(5) })).slice(0, 200),
  );
  const reader = new LedgerReader(file);
  const got = await readAll(reader);
  assert.deepEqual(
    got.map((r) => r.mac),
    [mac(1), mac(2), mac(4)],
  );
  assert.equal(reader.records, 3);
  assert.equal(reader.problemCount, 4);
  assert.deepEqual(
    reader.problems.map((p) => [p.line, p.kind]),
    [
      [2, 'corrupt'],
      [5, 'invalid'],
      [6, 'torn'],
      [8, 'torn'],
    ],
  );
  assert.match(reader.problems[1].message, /^not a ledger record: v: /);
  assert.equal(
    formatLedgerProblem(reader.problems[0]),
    `${file}:2: corrupt line: not JSON: "this is not json"`,
  );
});

test('a directory is read file by file in name order, ignoring non-ledger files', async (t) => {
  const dir = await tempDir(t);
  await writeFile(join(dir, 'st1-2026-11-22.jsonl'), line(makeRecord({ mac: mac(2) })));
  await writeFile(join(dir, 'st1-2026-11-21.jsonl'), line(makeRecord({ mac: mac(1) })));
  await writeFile(join(dir, 'notes.txt'), 'not a ledger\n');
  await mkdir(join(dir, 'old.jsonl'));
  const reader = new LedgerReader(dir);
  const entries = [];
  for await (const e of reader.entries()) entries.push([e.file, e.line, e.record.mac]);
  assert.deepEqual(entries, [
    [join(dir, 'st1-2026-11-21.jsonl'), 1, mac(1)],
    [join(dir, 'st1-2026-11-22.jsonl'), 1, mac(2)],
  ]);
  assert.equal(reader.problemCount, 0);
});

test('problems beyond the kept maximum are counted, not stored', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'junk.jsonl');
  await writeFile(file, 'junk\n'.repeat(50) + line(makeRecord()));
  const reader = new LedgerReader(file, { maxProblemsKept: 5 });
  assert.equal((await readAll(reader)).length, 1);
  assert.equal(reader.problemCount, 50);
  assert.equal(reader.problems.length, 5);
});

test('an aborted read stops', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'a.jsonl');
  await writeFile(file, line(makeRecord()).repeat(10));
  const ac = new AbortController();
  ac.abort();
  await assert.rejects(readAll(new LedgerReader(file, { signal: ac.signal })), { name: 'AbortError' });
});

test('crash: a writer SIGKILLed mid-stream loses no acknowledged record, leaves at most one torn line, and a new writer appends cleanly', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'crash.jsonl');
  const script = fileURLToPath(new URL('./fixtures/append-forever.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', script, file], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let acknowledged = 0;
  await new Promise<void>((resolve, reject) => {
    let buf = '';
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      const m = [...buf.matchAll(/durable (\d+)\n/g)];
      if (m.length > 0) acknowledged = Number(m[m.length - 1][1]);
      if (acknowledged >= 40 && child.signalCode === null) {
        child.kill('SIGKILL');
        resolve();
      }
    });
    child.on('exit', (code, signal) => {
      if (signal !== 'SIGKILL') reject(new Error(`writer exited early: ${code} ${signal}`));
    });
  });
  await new Promise((r) => child.once('close', r));

  const reader = new LedgerReader(file);
  const records = await readAll(reader);
  assert.ok(
    records.length >= acknowledged,
    `${records.length} records on disk, ${acknowledged} acknowledged`,
  );
  // Records are complete and in order: 1..n with no gap.
  assert.deepEqual(
    records.map((r) => r.mac),
    records.map((_, i) => mac(i + 1)),
  );
  assert.ok(reader.problemCount <= 1, `problems: ${reader.problems.map(formatLedgerProblem).join('; ')}`);
  if (reader.problemCount === 1) assert.equal(reader.problems[0].kind, 'torn');

  const w = await LedgerWriter.open({ file, station: 'crash' });
  assert.equal(w.scanProblemCount, reader.problemCount);
  const after = makeRecord({ mac: mac(9999) });
  await w.append(after);
  await w.close();
  const again = new LedgerReader(file);
  const all = await readAll(again);
  assert.equal(all.length, records.length + 1);
  assert.deepEqual(all.at(-1), after);
  assert.equal(again.problemCount, reader.problemCount);
});

test('a multi-byte character split across read chunks survives, and an over-long line is skipped, not buffered', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'utf8.jsonl');
  const rec = makeRecord({
    mac: mac(1),
    result: 'fail',
    code: 'internal',
    message: 'Prüfung 😀 fehlgeschlagen',
  });
  const json = JSON.stringify(rec);
  const emojiAt = Buffer.byteLength(json.slice(0, json.indexOf('😀')));
  // Pad the first line so that the 4-byte emoji starts one byte before the 1 MiB chunk boundary.
  const pad = 'x'.repeat((1 << 20) - 1 - emojiAt - 1);
  const long = 'y'.repeat(5 << 20);
  await writeFile(file, `${pad}\n${json}\n${long}\n${line(makeRecord({ mac: mac(2) }))}`);
  const reader = new LedgerReader(file);
  const got = await readAll(reader);
  assert.deepEqual(got[0], rec);
  assert.equal(got[1].mac, mac(2));
  assert.deepEqual(
    reader.problems.map((p) => [p.line, p.kind, p.message.slice(0, 16)]),
    [
      [1, 'corrupt', 'not JSON: "xxxxx'],
      [3, 'corrupt', 'line longer than'],
    ],
  );
});
