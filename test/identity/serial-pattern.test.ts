import { test } from 'node:test';
import assert from 'node:assert/strict';
import { largestSeq, parseSerialPattern, renderSerial } from '../../src/identity/index.ts';
import { pattern } from './identity-fixture.ts';

test('placeholders render: prefix, lot, zero-padded seq, MAC digits', () => {
  const mac = '24:0A:C4:12:34:56';
  assert.equal(
    renderSerial(pattern('{prefix}-{lot}-{seq:06}'), { prefix: 'ACME', lot: 'L7', seq: 42, mac }),
    'ACME-L7-000042',
  );
  assert.equal(renderSerial(pattern('SN{seq}'), { prefix: '', lot: '', seq: 1234567, mac }), 'SN1234567');
  assert.equal(renderSerial(pattern('{prefix}{mac}'), { prefix: 'W', lot: '', mac }), 'W240AC4123456');
  assert.equal(
    renderSerial(pattern('{lot}/{mac:6}/{seq:04}'), { prefix: '', lot: 'B', seq: 7, mac }),
    'B/123456/0007',
  );
  assert.equal(largestSeq(pattern('{seq:06}')), 999999);
  assert.equal(largestSeq(pattern('{seq}')), undefined);
});

test('bad patterns say what to write', () => {
  const message = (s: string) => {
    const p = parseSerialPattern(s);
    return p.ok ? 'accepted' : p.message;
  };
  assert.match(
    message('{prefix}-{lot}'),
    /needs \{seq\} or \{mac\}, or every board would get the same serial/,
  );
  assert.match(message('{serial}'), /'\{serial\}' is not a placeholder; use \{prefix\}, \{lot\}, \{seq\}/);
  assert.match(message('{seq:6}'), /'\{seq:6\}' is not a placeholder/);
  assert.match(message('{mac:13}'), /not a placeholder/);
  assert.match(message('{seq}{seq}'), /use \{seq\} once/);
  assert.match(message('A{seq'), /a brace is not closed/);
});
