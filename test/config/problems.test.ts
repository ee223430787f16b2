import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatProblem, formatProblems, InputError } from '../../src/config/problems.ts';

test('a problem names file:line:column and the key', () => {
  assert.equal(
    formatProblem({
      file: 'config.yaml',
      line: 3,
      column: 5,
      key: 'slots.1',
      message: 'duplicate port path',
    }),
    'config.yaml:3:5: slots.1: duplicate port path',
  );
  assert.equal(formatProblem({ file: 'x.bin', message: 'missing' }), 'x.bin: missing');
});

test('InputError carries every problem', () => {
  const e = new InputError([
    { file: 'a', message: 'one' },
    { file: 'b', line: 1, column: 1, message: 'two' },
  ]);
  assert.equal(e.problems.length, 2);
  assert.match(formatProblems(e.problems), /^2 problems found:\n {2}a: one\n {2}b:1:1: two$/);
});
