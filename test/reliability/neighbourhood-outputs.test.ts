/**
 * The neighbourhood, part 1: the terminal and the pipes. A reader that goes away (`| head`, a dead log
 * collector) or a hang-up (terminal closed, SSH dropped) is a stop request: the board in flight is finished and
 * recorded, the exit code is 1 — never 0, never a silent death. `flash` exits 0 only after
 * a verified write. Real CLI children, real pipes, real signals; each board sits behind a TCP proxy that holds
 * its traffic, so it is certainly in flight when the test acts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCli, stopChild } from './child-processes.ts';
import type { LiveChild } from './child-processes.ts';
import { eventOf, readLedger, simBoards, writeStationFiles } from './neighbourhood-rig.ts';
import { hostPort, startTcpProxy } from './tcp-proxy.ts';
import type { TcpProxy } from './tcp-proxy.ts';
import { DEMO_PROFILE } from './station-rig.ts';

interface Setup {
  dir: string;
  ledger: string;
  config: string;
  proxy: TcpProxy;
  children: LiveChild[];
}

async function setUp(t: { after(fn: () => Promise<void> | void): void }, mac: string): Promise<Setup> {
  const dir = mkdtempSync(join(tmpdir(), 'neighbourhood-out-'));
  const children: LiveChild[] = [];
  const [board] = await simBoards(1, mac, children);
  const proxy = await startTcpProxy(hostPort(board));
  t.after(async () => {
    proxy.release();
    for (const c of children) await stopChild(c, 'SIGKILL');
    await proxy.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return {
    dir,
    ledger: join(dir, 'ledger.jsonl'),
    config: writeStationFiles(dir, { concurrency: 1 }),
    proxy,
    children,
  };
}

/** Starts `run --headless` on the proxied board; resolves once it writes. */
async function stationWriting(s: Setup): Promise<LiveChild> {
  const station = startCli([
    'run',
    '--headless',
    '--port-follows-baud',
    '--config',
    s.config,
    '--ledger',
    s.ledger,
    '--port',
    `A1=${s.proxy.url}`,
  ]);
  s.children.push(station);
  await station.waitForLine((l) => {
    const e = eventOf(l);
    return e?.type === 'progress' && e.slot === s.proxy.url && e.progress.overallDone > 0;
  });
  return station;
}

test('run --headless whose reader goes away mid-flash: the board in flight is finished and recorded, exit 1', async (t) => {
  const s = await setUp(t, '24:0A:C4:D0:00:01');
  const station = await stationWriting(s);
  s.proxy.hold(); // the board cannot finish while the reader goes away
  station.proc.stdout.destroy(); // `| head` has read enough
  await new Promise((r) => setTimeout(r, 300));
  s.proxy.release(); // the next event meets the closed pipe
  const end = await station.exited;
  assert.equal(end.signal, null, `the station was not killed: ${station.stderr()}`);
  assert.equal(end.code, 1, `a stop nobody asked for exits 1\n${station.stderr()}`);
  assert.match(station.stderr(), /closed output/);
  const { records, problems } = await readLedger(s.ledger);
  assert.equal(problems, 0);
  // The board in flight was finished and recorded.
  assert.deepEqual(
    records.map((r) => [r.slot, r.result, r.message]),
    [['A1', 'pass', undefined]],
  );
});

test('run --headless on SIGHUP (terminal closed, SSH dropped): the board in flight is recorded, exit 1', async (t) => {
  const s = await setUp(t, '24:0A:C4:D1:00:01');
  const station = await stationWriting(s);
  s.proxy.hold();
  station.proc.kill('SIGHUP');
  await new Promise((r) => setTimeout(r, 300));
  s.proxy.release();
  const end = await station.exited;
  assert.equal(end.signal, null, `SIGHUP did not kill the station outright: ${station.stderr()}`);
  assert.equal(end.code, 1, station.stderr());
  assert.match(station.stderr(), /hang-up/);
  const { records } = await readLedger(s.ledger);
  assert.deepEqual(
    records.map((r) => [r.slot, r.result]),
    [['A1', 'pass']],
  );
});

test('flash | head -1: the reader goes away before the write is verified, so flash exits 1, never 0', async (t) => {
  const s = await setUp(t, '24:0A:C4:D2:00:01');
  const flash = startCli(['flash', '--port', s.proxy.url, '--baud', '921600', '--profile', DEMO_PROFILE]);
  s.children.push(flash);
  await flash.waitForLine(() => true); // head -1
  s.proxy.hold();
  flash.proc.stdout.destroy();
  await new Promise((r) => setTimeout(r, 200));
  s.proxy.release();
  const end = await flash.exited;
  assert.equal(end.code, 1, `flash exits 1 without a verified write\n${flash.stderr()}`);
  assert.match(flash.stderr(), /FAIL: stopped: output closed; the board was not \(fully\) written/);
});

test('flash on SIGHUP mid-write: FAIL, exit 1', async (t) => {
  const s = await setUp(t, '24:0A:C4:D3:00:01');
  const flash = startCli(['flash', '--port', s.proxy.url, '--baud', '921600', '--profile', DEMO_PROFILE]);
  s.children.push(flash);
  await flash.waitForLine((l) => l.startsWith('Loader:'));
  s.proxy.hold();
  flash.proc.kill('SIGHUP');
  await new Promise((r) => setTimeout(r, 200));
  s.proxy.release();
  const end = await flash.exited;
  assert.equal(end.signal, null, flash.stderr());
  assert.equal(end.code, 1, flash.stderr());
  assert.match(flash.stderr(), /FAIL: stopped: hang-up/);
});
