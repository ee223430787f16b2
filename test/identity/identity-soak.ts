/**
 * `npm run soak:identity` (not part of `npm test`): the identity acceptance run in full — 2,000 boards with
 * per-board identities through 16 slots of one Station (faults, operator pulls, retests), then a station
 * process SIGKILLed at random moments over boards in an `esp-station sim` process. Prints the figures; exit 1
 * when a serial or bundle went to two MACs, one was lost, or a PASS board's flash does not hold its identity.
 *
 *   npm run soak:identity [-- --boards N --slots N --fault-rate R --kills N --kill-boards N --seed S]
 */
import { parseArgs } from 'node:util';
import { runIdentityKillLoop } from './identity-kill-loop.ts';
import { runIdentityLine } from './identity-line.ts';

const { values } = parseArgs({
  options: {
    boards: { type: 'string', default: '2000' },
    slots: { type: 'string', default: '16' },
    'fault-rate': { type: 'string', default: '0.1' },
    kills: { type: 'string', default: '20' },
    'kill-boards': { type: 'string', default: '24' },
    seed: { type: 'string', default: '1' },
  },
});
const log = (line: string) => process.stdout.write(`${line}\n`);
const line = await runIdentityLine({
  boards: Number(values.boards),
  slots: Number(values.slots),
  faultRate: Number(values['fault-rate']),
  retestRate: 0.5,
  seed: Number(values.seed),
  log,
});
const kill = await runIdentityKillLoop({
  boards: Number(values['kill-boards']),
  slots: Number(values.slots),
  kills: Number(values.kills),
  seed: Number(values.seed),
  log,
});
const problems = [
  ...line.serialsToTwoMacs.map((s) => `line: serial to two MACs: ${s}`),
  ...line.credentialsToTwoMacs.map((s) => `line: bundle to two MACs: ${s}`),
  ...line.lost.map((s) => `line: ${s}`),
  ...line.readBackWrong.map((s) => `line: read-back: ${s}`),
  ...(line.passWithoutIdentity > 0 ? [`line: ${line.passWithoutIdentity} PASS without identity`] : []),
  ...kill.serialsToTwoMacs.map((s) => `kill: serial to two MACs: ${s}`),
  ...kill.credentialsToTwoMacs.map((s) => `kill: bundle to two MACs: ${s}`),
  ...kill.lost.map((s) => `kill: ${s}`),
  ...kill.readBackWrong.map((s) => `kill: read-back: ${s}`),
];
const failures = Object.entries(line.failures)
  .sort((a, b) => b[1] - a[1])
  .map(([c, n]) => `${c} ${n}`)
  .join(', ');
console.log(
  [
    `identity soak, line: ${line.boards} boards through ${values.slots} slots, ${Number(values['fault-rate']) * 100} % faults, seed ${values.seed}: ${line.attempts} attempts (${line.retests} retests, ${line.pulls} operator pulls) in ${line.seconds.toFixed(0)} s`,
    `  results:        ${line.passes} PASS; FAIL ${failures}`,
    `  pool:           ${line.pool.total} bundles: ${line.pool.committed} committed, ${line.pool.burned} burned, ${line.pool.free} free, ${line.pool.reserved} reserved; ${line.pool.releases} releases`,
    `  two MACs:       ${line.serialsToTwoMacs.length} serials, ${line.credentialsToTwoMacs.length} bundles`,
    `  lost:           ${line.lost.length}`,
    `  read-back:      ${line.readBackChecked} PASS boards' flash decoded, ${line.readBackWrong.length} differ from their record; ${line.passWithoutIdentity} PASS without identity`,
    `identity soak, SIGKILL: ${kill.boards} boards in esp-station sim, ${kill.kills} kills (boards past their mfg_nvs start at each kill: ${kill.midWriteAtKill.join(' ')}), then a last run: ${kill.records} records, ${kill.passes} PASS, ${kill.reusedOnRetest} retests got their identity again, ${kill.seconds.toFixed(0)} s`,
    `  pool:           ${kill.pool.total} bundles: ${kill.pool.committed} committed, ${kill.pool.burned} burned, ${kill.pool.free} free, ${kill.pool.reserved} reserved; ${kill.pool.releases} releases`,
    `  two MACs:       ${kill.serialsToTwoMacs.length} serials, ${kill.credentialsToTwoMacs.length} bundles; lost ${kill.lost.length}`,
    `  read-back:      ${kill.readBackChecked} boards read through READ_FLASH, ${kill.readBackWrong.length} differ from their last PASS record`,
    problems.length === 0
      ? 'identity soak: OK'
      : `identity soak: FAILED\n  ${problems.slice(0, 20).join('\n  ')}`,
  ].join('\n'),
);
process.exitCode = problems.length === 0 ? 0 : 1;
