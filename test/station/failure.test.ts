import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EspError } from '../../src/esp/errors.ts';
import { FAILURE_CODES } from '../../src/ledger/failure-codes.ts';
import { classifyFailure, OPERATOR_ADVICE, StationAbort, StationFailure } from '../../src/station/failure.ts';

test('every flasher error kind maps to one failure code with a sentence that says what to do', () => {
  const cases: [EspError['kind'], string][] = [
    ['no-sync', 'no-sync'],
    ['wrong-boot-mode', 'wrong-boot-mode'],
    ['timeout', 'timeout'],
    ['disconnected', 'disconnected'],
    ['rom-error', 'write-error'],
    ['stub-error', 'write-error'],
    ['checksum', 'write-error'],
    ['write-error', 'write-error'],
    ['verify-mismatch', 'verify-mismatch'],
    ['unsupported', 'internal'],
    ['protocol', 'link-error'], // a reply that lost a byte on the way: the link's fault (#19 item 8)
  ];
  for (const [kind, code] of cases) {
    const c = classifyFailure(new EspError(kind, `detail of ${kind}`));
    assert.equal(c.code, code, kind);
    assert.ok(c.message.includes(`detail of ${kind}`), 'the flasher detail is kept');
    assert.ok(c.message.length > 40);
  }
  for (const code of FAILURE_CODES) assert.match(OPERATOR_ADVICE[code], /\.\s|\.$/);
});

test('why the station aborted wins over what the flasher saw', () => {
  const e = new EspError('aborted', 'aborted');
  assert.equal(classifyFailure(e, new StationAbort('unplugged', 'x')).code, 'disconnected');
  assert.equal(classifyFailure(e, new StationAbort('board-timeout', 'took 600 s')).message, 'took 600 s');
  assert.match(classifyFailure(e, new StationAbort('station-stop', 'x')).message, /station was stopped/);
  assert.deepEqual(classifyFailure(new StationFailure('wrong-chip', 'an S3')), {
    code: 'wrong-chip',
    message: 'an S3',
  });
});

test('port problems name the fix; anything unknown is internal with its message', () => {
  const denied = classifyFailure(
    Object.assign(new Error('Error: Permission denied, cannot open /dev/ttyUSB0'), {}),
  );
  assert.equal(denied.code, 'internal');
  assert.match(denied.message, /dialout/);
  assert.match(
    classifyFailure(new Error('Error Resource busy, cannot open /dev/ttyUSB1')).message,
    /in use by another program/,
  );
  const odd = classifyFailure(new TypeError('x is undefined'));
  assert.equal(odd.code, 'internal');
  assert.match(odd.message, /x is undefined/);
});
