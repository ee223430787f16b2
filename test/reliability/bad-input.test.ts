/**
 * Every entry of the bad input corpus (bad-inputs.ts) through the real CLI: exit 2, a location, a message
 * saying what to change, never a stack trace, and never a partial start (no ledger file, no port opened).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BAD_INPUTS, runArgs } from './bad-inputs.ts';
import type { BadInput, Workspace } from './bad-inputs.ts';
import { runCli } from './child-processes.ts';
import type { CliResult } from './child-processes.ts';
import { demoFirmware, REPO } from './station-rig.ts';
import { REAL_AT_DIR } from '../firmware/fixture-paths.ts';

const DEMO_SET = join(REPO, 'var/demo-firmware/esp-at');
const REAL_SET = REAL_AT_DIR;
const PARALLEL = 6;

function workspace(root: string, index: number, trapPort: string): Workspace {
  const dir = join(root, `case-${index}`);
  mkdirSync(dir);
  const release = join(dir, 'release');
  cpSync(DEMO_SET, release, { recursive: true });
  const config = join(dir, 'config.yaml');
  writeFileSync(config, 'station: bad-input\nprofile: profile.yaml\nledger:\n  dir: ledger\n');
  const profile = join(dir, 'profile.yaml');
  writeFileSync(
    profile,
    'name: rel-bad\nchip: esp32\nimageSet:\n  flasherArgs: release/flasher_args.json\nflash:\n  size: 4MB\nchecks:\n  expectChip: esp32\n',
  );
  return {
    dir,
    config,
    profile,
    release,
    trapPort,
    ledgerFile: join(dir, 'ledger', 'ledger.jsonl'),
    realRelease() {
      const real = join(dir, 'real');
      if (!existsSync(real)) cpSync(REAL_SET, real, { recursive: true });
      return real;
    },
  };
}

test('bad input corpus: exit 2, a location, what to change; no stack trace, no partial start', async (t) => {
  assert.ok(BAD_INPUTS.length >= 40, `${BAD_INPUTS.length} broken inputs`);
  await demoFirmware(); // the demo image set exists on disk before it is copied
  const root = mkdtempSync(join(tmpdir(), 'bad-input-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));

  // The trap: any connection means a bad input got as far as opening a port.
  const connections: string[] = [];
  const sockets = new Set<Socket>();
  const trap = createServer((s) => {
    connections.push(String(s.remotePort));
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => trap.listen(0, '127.0.0.1', r));
  t.after(
    () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        trap.close(() => r());
      }),
  );
  const address = trap.address();
  const trapPort = `socket://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;

  // A control: the untouched workspace is good, so each failure below comes from its one break.
  const good = workspace(root, -1 + 0, trapPort);
  const control = await runCli(['check', '--config', good.config]);
  assert.equal(control.code, 0, `the good workspace checks clean:\n${control.stdout}\n${control.stderr}`);

  const results: { input: BadInput; w: Workspace; r: CliResult }[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < BAD_INPUTS.length) {
      const index = next++;
      const input = BAD_INPUTS[index];
      const w = workspace(root, index, trapPort);
      input.setup?.(w);
      const r = await runCli(input.args?.(w) ?? runArgs(w), { cwd: w.dir, limitMs: 30_000 });
      results[index] = { input, w, r };
    }
  };
  await Promise.all(Array.from({ length: PARALLEL }, worker));

  const wrong: string[] = [];
  for (const { input, w, r } of results) {
    const problem = (what: string): void => {
      wrong.push(
        `${input.name}: ${what}\n      stderr: ${r.stderr.trim().split('\n').join('\n              ')}`,
      );
    };
    if (r.signal) problem(`hung (killed with ${r.signal})`);
    else if (r.code !== 2) problem(`exit ${r.code}, expected 2`);
    if (/\n\s+at /.test(r.stderr) || /\n\s+at /.test(r.stdout)) problem('printed a stack trace');
    const where = typeof input.where === 'function' ? input.where(w) : input.where;
    if (!where.test(r.stderr)) problem(`no location matching ${where}`);
    if (!input.says.test(r.stderr)) problem(`the message does not match ${input.says}`);
    if (existsSync(w.ledgerFile) || existsSync(join(w.dir, 'ledger')))
      problem('a ledger was created (partial start)');
  }
  t.diagnostic(`${results.length} broken inputs, ${wrong.length} answered wrongly`);
  assert.deepEqual(wrong, []);
  assert.deepEqual(connections, [], 'no bad input opened a port');
});
