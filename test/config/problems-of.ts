import assert from 'node:assert/strict';
import { InputError, type Problem } from '../../src/config/problems.ts';

/** The problems a loader reports for bad input; fails the test if it throws anything else or nothing. */
export function problemsOf(fn: () => unknown): Problem[] {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof InputError, `expected InputError, got ${String(err)}`);
    return err.problems;
  }
  assert.fail('expected problems');
}
