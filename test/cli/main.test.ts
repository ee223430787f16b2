import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';

test('unknown command exits 2 with usage, no stack trace', () => {
  const r = spawnSync(process.execPath, ['bin/esp-station.mjs', 'frobnicate'], { encoding: 'utf8' });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /unknown command 'frobnicate'/);
  assert.match(r.stderr, /usage: esp-station <command>/);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
});

test('a reader that closes stdout early (| head) is not an error', () => {
  // `true` exits at once, long before node writes: every write then meets a closed pipe (EPIPE).
  const r = spawnSync(
    'bash',
    ['-c', 'node bin/esp-station.mjs check --schema profile | true; exit ${PIPESTATUS[0]}'],
    {
      encoding: 'utf8',
    },
  );
  assert.equal(r.status, 0, r.stderr);
  assert.doesNotMatch(r.stderr, /EPIPE|Error/);
});
