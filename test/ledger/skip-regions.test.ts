import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LedgerRecordSchema } from '../../src/ledger/record.ts';
import type { LedgerRecord } from '../../src/ledger/record.ts';
import { parseSkippingRegions } from '../../src/ledger/skip-regions.ts';
import { LedgerReader } from '../../src/ledger/reader.ts';
import { mac, makeRecord } from './record-builder.ts';

const regions: LedgerRecord['regions'] = [
  {
    offset: 4096,
    label: 'boot "loader" ]}\\',
    size: 26768,
    md5Expected: 'a'.repeat(32),
    md5Chip: 'a'.repeat(32),
    seconds: 0.41,
    retries: 0,
  },
  {
    offset: 65536,
    label: 'app',
    size: 1843200,
    md5Expected: 'b'.repeat(32),
    seconds: 1e-7,
    retries: 2,
    skipped: true,
  },
];

/** The same regions without a retry: the shortcut's usual case (a retried region is read in full). */
const unretried = regions.map((r) => ({ ...r, retries: 0 }));

/** The line as the writer writes it: serialised from the schema's output (schema key order). */
const line = (r: LedgerRecord) => JSON.stringify(LedgerRecordSchema.parse(r));

test('writer-form lines parse to the same record with regions left out', () => {
  for (const r of [
    makeRecord({ mac: mac(1), regions: unretried }),
    makeRecord({ mac: undefined, regions: [], result: 'fail', code: 'no-sync', message: '"regions":[oops' }),
    makeRecord({ regions: [unretried[1]], message: 'x","regions":[]' }),
  ]) {
    assert.deepEqual(parseSkippingRegions(line(r)), JSON.parse(JSON.stringify({ ...r, regions: [] })));
  }
});

test('a record with a retried region is left to the full parse (reports count passes after a retry)', () => {
  assert.equal(parseSkippingRegions(line(makeRecord({ mac: mac(1), regions }))), undefined);
  assert.equal(
    parseSkippingRegions(line(makeRecord({ regions: [{ ...unretried[0], retries: 10 }] }))),
    undefined,
  );
});

test('anything unusual is left to the full parse', () => {
  const r = makeRecord({ regions });
  const good = line(r);
  const cases = [
    good.replace('"md5Expected":"aaaa', '"md5Expected":"AAAA'), // upper-case MD5: schema says no
    good.replace('"offset":4096', '"offset":-4096'),
    good.replace('"offset":4096', '"offset":4096.5'),
    good.replace('"seconds":0.41', '"seconds":1e999'),
    good.replace('"regions":[', '"regions": ['), // whitespace: not the writer's form
    good.replace('{"offset":4096,"label"', '{"label":"x","offset":4096,"label"'), // other key order
    good.replace('"retries":0}', '"retries":0,"extra":1}'),
    good.replace(/}$/, ',"regions":[{"bad":1}]}'), // a later duplicate key wins in JSON.parse
    good.slice(0, -1), // torn
    good.replace('"result":"pass"', '"result":"maybe"'),
  ];
  for (const c of cases) assert.equal(parseSkippingRegions(c), undefined, c);
});

function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

test('on randomly damaged lines the shortcut never accepts what a full parse rejects, nor gives a different record', () => {
  const rand = prng(7);
  const base = line(makeRecord({ mac: mac(3), regions: unretried, message: 'plain' }));
  const pieces = ['"', '\\', ']', '[', '{', '}', ',', '0', '9', '-', 'e', ' ', '"regions":[', 'a'];
  let shortcut = 0;
  for (let i = 0; i < 4000; i++) {
    let s = base;
    const edits = 1 + Math.floor(rand() * 2);
    for (let e = 0; e < edits; e++) {
      const at = Math.floor(rand() * s.length);
      const piece = pieces[Math.floor(rand() * pieces.length)];
      s = rand() < 0.5 ? s.slice(0, at) + piece + s.slice(at) : s.slice(0, at) + piece + s.slice(at + 1);
    }
    const quick = parseSkippingRegions(s);
    if (quick === undefined) continue;
    shortcut++;
    const full = LedgerRecordSchema.safeParse(JSON.parse(s));
    assert.ok(full.success, `shortcut accepted an invalid line: ${s}`);
    assert.deepEqual(quick, { ...full.data, regions: [] }, s);
  }
  assert.ok(shortcut > 200, `only ${shortcut} damaged lines took the shortcut`);
});

test('a reader with skipRegions gives the same records, regions empty unless retried, and the same problems', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'skip-regions-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'l.jsonl');
  const recs = [
    makeRecord({ mac: mac(1), regions }),
    makeRecord({ mac: mac(2), regions: [] }),
    makeRecord({ mac: mac(3), regions: unretried }),
  ];
  await writeFile(
    file,
    `${line(recs[0])}\n{"v":1,"regions":[]}\n${JSON.stringify(recs[1], null, 0).replace('"v":1', '"v": 1')}\n${line(recs[2])}\n`,
  );
  const read = async (skipRegions: boolean) => {
    const reader = new LedgerReader(file, { skipRegions });
    const out: LedgerRecord[] = [];
    for await (const r of reader) out.push(r);
    return { out, problems: reader.problems };
  };
  const full = await read(false);
  const skip = await read(true);
  assert.deepEqual(
    skip.out,
    full.out.map((r) => (r.regions.some((x) => x.retries > 0) ? r : { ...r, regions: [] })),
  );
  assert.equal(full.out.length, 3);
  assert.equal(skip.out[0]!.regions.length, 2, 'the retried record keeps its regions');
  assert.equal(skip.out[2]!.regions.length, 0);
  assert.deepEqual(skip.problems, full.problems);
  assert.equal(skip.problems.length, 1);
});
