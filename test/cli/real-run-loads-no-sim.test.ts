/**
 * A real `run` (no --simulate) never loads the simulator: the CLI runs in a child process that lists every
 * module it resolves, flashes one board on a remote port (served by this test process), and the list must
 * hold nothing under src/sim or src/sim-station.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { SimBoard } from '../../src/sim/board.ts';
import { startSimServers } from '../../src/sim/tcp-server.ts';

const REPO = resolve(import.meta.dirname, '../..');

test('a real run (remote port, no --simulate) flashes a board without loading src/sim or src/sim-station', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'real-run-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const [server] = await startSimServers({
    boards: [new SimBoard({ chip: 'esp32', timing: 'fast', seed: 3 })],
  });
  t.after(() => server.close());
  const modulesFile = join(dir, 'modules.txt');
  const ledgerFile = join(dir, 'ledger.jsonl');
  const child = spawn(
    process.execPath,
    [
      join(REPO, 'test/support/cli-recording-modules.mjs'),
      'run',
      '--headless',
      '--once',
      '--port-follows-baud',
      '--port',
      `socket://127.0.0.1:${server.port}`,
      '--ledger',
      ledgerFile,
    ],
    { cwd: REPO, env: { ...process.env, RECORD_MODULES_FILE: modulesFile } },
  );
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  child.stdout.resume();
  const kill = setTimeout(() => child.kill('SIGKILL'), 100_000);
  const code = await new Promise<number | null>((done) => child.on('close', done));
  clearTimeout(kill);
  assert.equal(code, 0, stderr);
  const records = readFileSync(ledgerFile, 'utf8').trim().split('\n');
  assert.equal(records.length, 1);
  // The board was really flashed and verified (its boot check cannot pass: no reset lines over TCP).
  const rec = JSON.parse(records[0]) as {
    chip?: string;
    regions: { md5Expected: string; md5Chip?: string }[];
  };
  assert.equal(rec.chip, 'esp32', records[0]);
  assert.ok(rec.regions.length > 0 && rec.regions.every((r) => r.md5Chip === r.md5Expected), records[0]);

  const src = pathToFileURL(join(REPO, 'src')).href;
  const loaded = new Set(readFileSync(modulesFile, 'utf8').trim().split('\n'));
  // The list is real: the station and the flasher were loaded through the hook.
  for (const m of ['station/station.ts', 'esp/loader.ts', 'cli/build-station.ts']) {
    assert.ok(loaded.has(`${src}/${m}`), `${m} is in the list of loaded modules`);
  }
  const simulated = [...loaded].filter(
    (u) => u.startsWith(`${src}/sim/`) || u.startsWith(`${src}/sim-station/`),
  );
  assert.deepEqual(simulated, [], 'a real run loads no simulator module');
});
