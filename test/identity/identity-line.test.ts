/**
 * The identity acceptance run, short (the full 2,000 boards: `npm run soak:identity`): boards through 16 slots
 * with faults, operator pulls and retests; no serial or bundle to two MACs, none lost, every PASS readable back.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runIdentityLine } from './identity-line.ts';

test('identity line: faults, pulls and retests over 16 slots; issued once, none lost, every PASS on its flash', async (t) => {
  const f = await runIdentityLine({ boards: 128, slots: 16, faultRate: 0.3, retestRate: 0.6, seed: 3 });
  t.diagnostic(JSON.stringify(f));
  assert.deepEqual(f.serialsToTwoMacs, []);
  assert.deepEqual(f.credentialsToTwoMacs, []);
  assert.deepEqual(f.lost, []);
  assert.deepEqual(f.readBackWrong, []);
  assert.equal(f.passWithoutIdentity, 0);
  assert.equal(f.readBackChecked, f.passes);
  // The run exercised what it claims to: failures before and after the region, pulls and retests.
  assert.ok(f.pool.releases > 0, 'some identities went back to the pool');
  assert.ok(f.retests > 0 && f.pulls > 0, `${f.retests} retests, ${f.pulls} pulls`);
  assert.ok(f.passes > f.boards * 0.6, `${f.passes} PASS of ${f.boards}`);
});
