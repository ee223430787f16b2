/**
 * The identity acceptance run's crash half, short (the full loop: `npm run soak:identity`): a station process
 * SIGKILLed at random moments while flashing boards with per-board identities, then a last run to the end.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runIdentityKillLoop } from './identity-kill-loop.ts';

test('identity under SIGKILL: never two MACs, none lost, every board reads back its last PASS identity', async (t) => {
  const f = await runIdentityKillLoop({ boards: 6, slots: 6, kills: 3, seed: 11 });
  t.diagnostic(JSON.stringify(f));
  assert.deepEqual(f.serialsToTwoMacs, []);
  assert.deepEqual(f.credentialsToTwoMacs, []);
  assert.deepEqual(f.lost, []);
  assert.deepEqual(f.readBackWrong, []);
  assert.equal(f.readBackChecked, f.boards);
  assert.equal(f.midWriteAtKill.length, f.kills);
});
