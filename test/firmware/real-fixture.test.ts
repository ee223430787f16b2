// The real ESP-AT release kept as a test fixture must stay exactly Espressif's bytes: every file is held to the
// checksum lists beside it, and the lists cover every file in the folder (nothing added, nothing missing).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { REAL_AT_DIR } from './fixture-paths.ts';

function filesUnder(dir: string, prefix = '.'): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? filesUnder(path.join(dir, e.name), `${prefix}/${e.name}`) : [`${prefix}/${e.name}`],
  );
}

function sums(file: string): Map<string, string> {
  return new Map(
    readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((line) => {
        const [hash, name] = line.split(/\s+/);
        return [name!, hash!];
      }),
  );
}

for (const algorithm of ['md5', 'sha256'] as const) {
  test(`the ESP-AT v3.4.0.0 fixture matches its ${algorithm} list, file for file`, () => {
    const expected = sums(`${REAL_AT_DIR}.${algorithm}`);
    const present = filesUnder(REAL_AT_DIR).sort();
    assert.deepEqual(present, [...expected.keys()].sort());
    for (const [name, hash] of expected) {
      const actual = createHash(algorithm)
        .update(readFileSync(path.join(REAL_AT_DIR, name)))
        .digest('hex');
      assert.equal(actual, hash, name);
    }
  });
}
