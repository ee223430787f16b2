/**
 * The conformance run's CPU account: which share of the machine the hypervisor stole and other processes used
 * during a timed run, and which pairs of runs are compared at all.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import {
  cpuShare,
  likeConditions,
  parsePidStat,
  parseProcStat,
  startCpuAccount,
} from '../../scripts/conformance/cpu-share.ts';

const stat = (user: number, idle: number, steal: number) =>
  `cpu  ${user} 0 0 ${idle} 0 0 0 ${steal} 0 0\ncpu0 1 2 3 4 5 6 7 8 0 0\nintr 12\n`;

test('/proc/stat: total counts every state once (guest time is already in user), idle includes iowait', () => {
  const t = parseProcStat('cpu  10 1 5 100 4 2 3 7 9 9\ncpu0 0 0 0 0 0 0 0 0 0 0\n');
  assert.deepEqual(t, { total: 10 + 1 + 5 + 100 + 4 + 2 + 3 + 7, idle: 104, steal: 7 });
  assert.throws(() => parseProcStat('intr 1\n'), /no "cpu " line/);
});

test('/proc/PID/stat: utime, stime and the waited-for children, even with spaces and parentheses in the name', () => {
  const fields = ['S', '1', '2', '3', '0', '-1', '0', '10', '0', '0', '0', '70', '30', '8', '2', '20', '0'];
  assert.equal(parsePidStat(`4242 (node (a) b) ${fields.join(' ')}`), 70 + 30 + 8 + 2);
  assert.throws(() => parsePidStat('4242 (x) S 1'), /cannot read/);
});

test('shares: steal over all ticks; others are busy ticks that were not this process tree', () => {
  // 200 ticks on the machine: 20 stolen, 100 idle, 80 busy of which 60 were ours.
  const s = cpuShare(parseProcStat(stat(0, 0, 0)), parseProcStat(stat(80, 100, 20)), 60);
  assert.equal(s.steal, 0.1);
  assert.equal(s.others, 0.1);
  // Our own ticks can run ahead of /proc/stat's by a tick: never a negative share.
  assert.equal(cpuShare(parseProcStat(stat(0, 0, 0)), parseProcStat(stat(10, 90, 0)), 12).others, 0);
});

test('like conditions: little steal in each run, close together, and nothing else busy', () => {
  const quiet = { steal: 0.02, others: 0.01 };
  assert.equal(likeConditions(quiet, { steal: 0.04, others: 0.02 }), true);
  assert.equal(likeConditions(quiet, { steal: 0.1, others: 0.01 }), false, 'steal 8 points apart');
  assert.equal(
    likeConditions({ steal: 0.16, others: 0 }, { steal: 0.16, others: 0 }),
    false,
    'both stolen from',
  );
  assert.equal(
    likeConditions(quiet, { steal: 0.02, others: 0.3 }),
    false,
    'a CPU burner beside the emulator',
  );
});

test('a tool this process ran and waited for counts as its own, not as another process', () => {
  const own = () => parsePidStat(readFileSync('/proc/self/stat', 'utf8'));
  const before = own();
  // A child that uses 0.3 s of CPU (by its own clock, whatever else the machine does), waited for.
  const r = spawnSync(process.execPath, ['-e', 'while (process.cpuUsage().user < 300_000);']);
  assert.equal(r.status, 0);
  // Clock ticks are 1/100 s on Linux: at least 30 of them must be this process's own.
  assert.ok(
    own() - before >= 30,
    `own ticks grew by ${own() - before}: the child's CPU leaked out of the account`,
  );
});

test('an account over real /proc figures gives shares between 0 and 1', () => {
  const account = startCpuAccount();
  const t = Date.now();
  while (Date.now() - t < 50);
  const s = account.finish();
  for (const v of [s.steal, s.others]) assert.ok(v >= 0 && v <= 1, JSON.stringify(s));
});
