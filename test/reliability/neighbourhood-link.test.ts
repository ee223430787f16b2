/**
 * The neighbourhood, part 5: the wire between the station and the board. One byte lost from one reply (a
 * long cable, a flaky USB hub, a serial server under load) is line noise, not a station bug: the region is
 * retried and the board passes, or it fails with the link failure code — never `internal`. A remote port
 * that nobody serves is a link failure too. Real CLI children; a TCP proxy between station and board drops
 * exactly one byte of exactly one chosen reply.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, stopChild } from './child-processes.ts';
import type { LiveChild } from './child-processes.ts';
import { readLedger, simBoards, writeStationFiles } from './neighbourhood-rig.ts';
import { DEMO_PROFILE } from './station-rig.ts';
import { hostPort, startTcpProxy } from './tcp-proxy.ts';
import type { ReplyDrop } from './tcp-proxy.ts';

const FLASH_DEFL_DATA = 0x11;
const SPI_FLASH_MD5 = 0x13;

async function stationThroughLossyLink(
  t: { after(fn: () => Promise<void>): void },
  mac: string,
  drop: ReplyDrop,
): Promise<{
  records: Awaited<ReturnType<typeof readLedger>>;
  dropped: number;
  seen: number;
  stderr: string;
  code: number | null;
}> {
  const dir = mkdtempSync(join(tmpdir(), 'neighbourhood-link-'));
  const children: LiveChild[] = [];
  const [board] = await simBoards(1, mac, children);
  const proxy = await startTcpProxy(hostPort(board), { drop });
  t.after(async () => {
    for (const c of children) await stopChild(c, 'SIGKILL');
    await proxy.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const ledger = join(dir, 'ledger.jsonl');
  const r = await runCli([
    'run',
    '--headless',
    '--once',
    '--port-follows-baud',
    '--config',
    writeStationFiles(dir),
    '--ledger',
    ledger,
    '--port',
    `L1=${proxy.url}`,
  ]);
  return {
    records: await readLedger(ledger),
    dropped: proxy.dropped,
    seen: proxy.seen,
    stderr: r.stderr,
    code: r.code,
  };
}

function assertRetriedPass(r: Awaited<ReturnType<typeof stationThroughLossyLink>>): void {
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.dropped, 1, 'the proxy damaged exactly one reply');
  assert.equal(r.records.problems, 0);
  assert.equal(r.records.records.length, 1);
  const [rec] = r.records.records;
  assert.equal(rec.result, 'pass', `${rec.code}: ${rec.message}`);
  assert.ok(
    rec.regions.some((x) => x.retries > 0),
    `a region was retried: ${JSON.stringify(rec.regions.map((x) => [x.label, x.retries]))}`,
  );
}

test("one byte lost from one FLASH_DEFL_DATA reply: the region is retried and the board passes (never 'internal')", async (t) => {
  assertRetriedPass(await stationThroughLossyLink(t, '24:0A:C4:F1:00:01', { op: FLASH_DEFL_DATA, nth: 3 }));
});

test("one byte lost from the final verify's SPI_FLASH_MD5 reply: asked again, the board passes (never 'internal')", async (t) => {
  // A clean run counts the MD5 replies of one board (blank-sector checks, per-region checks, the final
  // verify); an identical fresh board then loses a byte of the last one: the final verify of the last region.
  const clean = await stationThroughLossyLink(t, '24:0A:C4:F2:00:01', { op: SPI_FLASH_MD5, nth: 0 });
  assert.equal(clean.records.records[0]?.result, 'pass', clean.stderr);
  const r = await stationThroughLossyLink(t, '24:0A:C4:F3:00:01', { op: SPI_FLASH_MD5, nth: clean.seen });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.dropped, 1, 'the proxy damaged exactly one reply');
  const [rec] = r.records.records;
  assert.equal(rec.result, 'pass', `${rec.code}: ${rec.message}`);
  assert.equal(r.seen, clean.seen + 1, 'the damaged MD5 was asked again, once');
});

test('a link that loses a reply byte on every try fails with the link code, not internal', async (t) => {
  const r = await stationThroughLossyLink(t, '24:0A:C4:F9:00:01', {
    op: FLASH_DEFL_DATA,
    nth: 2,
    every: true,
  });
  assert.equal(r.code, 0, r.stderr);
  assert.ok(r.dropped > 1);
  const [rec] = r.records.records;
  assert.equal(rec.result, 'fail');
  assert.equal(rec.code, 'link-error', rec.message);
  assert.match(rec.message ?? '', /lost or garbled bytes .*FLASH_DEFL_DATA/);
});

test('a remote port nobody serves is recorded as a link failure with what to check, not internal', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'neighbourhood-dead-port-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  // A port that was free a moment ago: nothing listens there.
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const a = server.address();
  const port = typeof a === 'object' && a ? a.port : 0;
  await new Promise((r) => server.close(r));
  const ledger = join(dir, 'ledger.jsonl');
  const url = `socket://127.0.0.1:${port}`;
  const r = await runCli([
    'run',
    '--headless',
    '--once',
    '--config',
    writeStationFiles(dir),
    '--ledger',
    ledger,
    '--port',
    `D1=${url}`,
  ]);
  assert.equal(r.code, 0, r.stderr);
  const { records } = await readLedger(ledger);
  assert.equal(records.length, 1);
  assert.equal(records[0].code, 'link-error', records[0].message);
  assert.match(records[0].message ?? '', /cannot be reached .*ECONNREFUSED.*serial server/);
  // Nothing to reset over TCP, and a refused connection is not a board that missed its sync.
  assert.doesNotMatch(r.stdout, /trying another reset/);
});

test('a port that floods SYNC-like reply frames is recorded as a link failure, not internal', async (t) => {
  // A serial server (or a confused bridge) that answers everything with a stream of well-formed SLIP frames
  // shaped like SYNC replies: none of them answers what the station asked.
  const syncReply = Buffer.from([0xc0, 0x01, 0x08, 0x02, 0x00, 0, 0, 0, 0, 0x00, 0x00, 0xc0]);
  const burst = Buffer.concat(Array<Buffer>(50).fill(syncReply));
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    const flood = setInterval(() => {
      if (!socket.destroyed) socket.write(burst);
    }, 5);
    socket.on('close', () => clearInterval(flood));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const dir = mkdtempSync(join(tmpdir(), 'neighbourhood-flood-'));
  t.after(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((r) => server.close(r));
    rmSync(dir, { recursive: true, force: true });
  });
  const a = server.address();
  const url = `socket://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`;
  const ledger = join(dir, 'ledger.jsonl');
  const r = await runCli([
    'run',
    '--headless',
    '--once',
    '--config',
    writeStationFiles(dir),
    '--ledger',
    ledger,
    '--port',
    `F1=${url}`,
  ]);
  assert.equal(r.code, 0, r.stderr);
  const { records } = await readLedger(ledger);
  assert.equal(records.length, 1);
  assert.equal(records[0].result, 'fail');
  assert.equal(records[0].code, 'link-error', records[0].message);
  assert.match(records[0].message ?? '', /no matching reply/);
  assert.doesNotMatch(r.stderr + r.stdout, /internal error/);
});

test('flash through a link that loses one reply byte fails or passes, but never as an internal error', async (t) => {
  const children: LiveChild[] = [];
  const [board] = await simBoards(1, '24:0A:C4:FA:00:01', children);
  const proxy = await startTcpProxy(hostPort(board), { drop: { op: FLASH_DEFL_DATA, nth: 3 } });
  t.after(async () => {
    for (const c of children) await stopChild(c, 'SIGKILL');
    await proxy.close();
  });
  const r = await runCli(['flash', '--port', proxy.url, '--baud', '921600', '--profile', DEMO_PROFILE]);
  assert.equal(proxy.dropped, 1);
  assert.ok(r.code === 0 || r.code === 1, `exit ${r.code}: ${r.stderr}`);
  assert.doesNotMatch(r.stderr, /internal error/);
  if (r.code === 1) assert.match(r.stderr, /^FAIL: .*FLASH_DEFL_DATA/m);
});
