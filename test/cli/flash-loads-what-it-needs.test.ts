/**
 * `esp-station flash --firmware …` is a one-shot command whose start-up counts in every board's time: it loads
 * the flasher and the firmware reader, not the profile schemas (zod), the station's builder or the simulator.
 * With --profile the profile's modules load (the check sees what it looks for). The CLI runs in a child that
 * lists every module it resolves; its port refuses the connection, so it stops right after loading and preparing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const REPO = resolve(import.meta.dirname, '../..');
const SRC = pathToFileURL(join(REPO, 'src')).href;
const FIRMWARE = join(REPO, 'test/fixtures/esp-at/ESP32-WROOM-32-AT-V3.4.0.0/flasher_args.json');
const PROFILE = join(REPO, 'stations/demo-esp32-at.yaml');

/** A local port nothing listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as { port: number };
  await new Promise<void>((done) => server.close(() => done()));
  return port;
}

async function modulesLoadedBy(args: string[]): Promise<{ loaded: Set<string>; stderr: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'flash-loads-'));
  try {
    const modulesFile = join(dir, 'modules.txt');
    const port = await closedPort();
    const child = spawn(
      process.execPath,
      [
        join(REPO, 'test/support/cli-recording-modules.mjs'),
        'flash',
        '--port',
        `socket://127.0.0.1:${port}`,
        '--after',
        'no-reset',
        ...args,
      ],
      { cwd: REPO, env: { ...process.env, RECORD_MODULES_FILE: modulesFile } },
    );
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.stdout.resume();
    const code = await new Promise<number | null>((done) => child.on('close', done));
    // The port refuses: a link failure (exit 1) after the firmware was loaded and prepared.
    assert.equal(code, 1, stderr);
    assert.match(stderr, /cannot be reached/, stderr);
    return { loaded: new Set(readFileSync(modulesFile, 'utf8').trim().split('\n')), stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const isZod = (u: string) => /\/node_modules\/zod\//.test(u);
const STATION_ONLY = ['cli/build-station.ts', 'station/station.ts', 'config/profile-schema.ts'];

test('flash --firmware loads the flasher and the image set reader, not zod, the station builder or the simulator', async () => {
  const { loaded } = await modulesLoadedBy(['--firmware', FIRMWARE]);
  // The list is real: the command, the preparation and the pipeline came through the hook.
  for (const m of [
    'cli/commands/flash.ts',
    'firmware/prepared.ts',
    'firmware/flasher-args.ts',
    'station/pipeline.ts',
  ]) {
    assert.ok(loaded.has(`${SRC}/${m}`), `${m} is in the list of loaded modules`);
  }
  assert.deepEqual([...loaded].filter(isZod), [], 'zod is not loaded');
  for (const m of STATION_ONLY) assert.ok(!loaded.has(`${SRC}/${m}`), `${m} is not loaded`);
  const simulated = [...loaded].filter(
    (u) => u.startsWith(`${SRC}/sim/`) || u.startsWith(`${SRC}/sim-station/`),
  );
  assert.deepEqual(simulated, [], 'no simulator module is loaded');
});

test('flash --profile loads the profile schema (zod) and the station policy it needs', async () => {
  const { loaded } = await modulesLoadedBy(['--profile', PROFILE]);
  assert.ok([...loaded].some(isZod), 'zod is loaded for a profile');
  assert.ok(loaded.has(`${SRC}/config/profile-schema.ts`));
  assert.ok(loaded.has(`${SRC}/cli/build-station.ts`));
});
