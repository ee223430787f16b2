/**
 * The identity acceptance run, crash half: boards in an `esp-station sim` process (so they and their flash
 * outlive the station), a station process with the identity section flashing a random subset of them over
 * socket://, SIGKILLed at a random moment (after a random number of its event lines), again and again; then
 * one last station run that finishes every board. Checked at the end:
 *   - no serial or bundle in the ledger or the journal belongs to two MACs;
 *   - none lost: the journal's pool adds up (free + committed + burned), nothing is left reserved, and every
 *     burned identity is held by a MAC the journal and ledger know;
 *   - every board's identity read back from its flash (READ_FLASH through the stub, located through the
 *     board's own partition table) is the one its last PASS record names, hash for hash.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readPartitionFromBoard } from '../../src/cli/identity-read.ts';
import { openLoader } from '../../src/esp/link-options.ts';
import { LedgerReader } from '../../src/ledger/reader.ts';
import type { LedgerRecord } from '../../src/ledger/record.ts';
import { decodePartition } from '../../src/nvs/index.ts';
import { SeededRandom } from '../../src/sim/rng.ts';
import { runCli, startCli, stopChild } from '../reliability/child-processes.ts';
import type { LiveChild } from '../reliability/child-processes.ts';
import { writeIdentityStation } from './identity-station-files.ts';

export interface KillLoopOptions {
  boards: number;
  /** Boards each killed station is given (a random subset). */
  slots: number;
  kills: number;
  seed: number;
  log?: (line: string) => void;
}

export interface KillLoopFigures {
  boards: number;
  kills: number;
  /** Identity steps the killed stations had in flight when killed (per kill: boards mid-write). */
  midWriteAtKill: number[];
  records: number;
  passes: number;
  reusedOnRetest: number;
  pool: {
    total: number;
    free: number;
    committed: number;
    burned: number;
    reserved: number;
    releases: number;
  };
  serialsToTwoMacs: string[];
  credentialsToTwoMacs: string[];
  lost: string[];
  readBackChecked: number;
  readBackWrong: string[];
  seconds: number;
}

async function simBoards(n: number, mac: string, children: LiveChild[]): Promise<string[]> {
  const sim = startCli([
    'sim',
    '--listen',
    'tcp://127.0.0.1:0',
    '--boards',
    String(n),
    '--timing',
    'fast',
    '--mac',
    mac,
  ]);
  children.push(sim);
  const urls: string[] = [];
  for (let i = 0; i < n; i++) {
    const line = await sim.waitForLine((l) => l.includes('listening on') && !urls.some((u) => l.includes(u)));
    urls.push(/\((socket:\/\/[^)]+)\)/.exec(line)![1]);
  }
  return urls;
}

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

export async function runIdentityKillLoop(o: KillLoopOptions): Promise<KillLoopFigures> {
  const t0 = Date.now();
  const dir = mkdtempSync(join(tmpdir(), 'identity-kill-'));
  const children: LiveChild[] = [];
  try {
    const files = await writeIdentityStation(dir, { bundles: o.boards + 8 });
    const urls = await simBoards(o.boards, '24:0A:C4:7C:00:01', children);
    const ledger = join(dir, 'ledger.jsonl');
    const base = ['run', '--headless', '--port-follows-baud', '--config', files.config, '--ledger', ledger];
    const rng = new SeededRandom(o.seed);
    const midWriteAtKill: number[] = [];

    for (let k = 0; k < o.kills; k++) {
      const subset = [...urls].sort(() => rng.next() - 0.5).slice(0, o.slots);
      // Kill after this many event lines: anywhere from the first connects to boards finishing.
      const killAfter = 5 + rng.int(400);
      const writing = new Set<string>();
      let lines = 0;
      let results = 0;
      let killed = false;
      const station = startCli([...base, ...subset.flatMap((u) => ['--port', u])], {
        onLine: (line) => {
          lines++;
          try {
            const e = JSON.parse(line) as { type: string; slot: string; state?: string; message?: string };
            if (e.type === 'state' && e.state === 'flashing' && /^mfg_nvs/.test(e.message ?? ''))
              writing.add(e.slot);
            if (e.type === 'result') {
              writing.delete(e.slot);
              results++;
            }
          } catch {
            // not an event line
          }
          if (!killed && (lines >= killAfter || results >= subset.length)) {
            killed = true;
            midWriteAtKill.push(writing.size);
            station.proc.kill('SIGKILL');
          }
        },
      });
      children.push(station);
      // A station that ran out of lines before the kill (all boards done) is killed now.
      const done = await Promise.race([station.exited, new Promise((r) => setTimeout(r, 30_000))]);
      if (!done && !killed) {
        killed = true;
        midWriteAtKill.push(writing.size);
        station.proc.kill('SIGKILL');
      }
      await station.exited;
      o.log?.(
        `identity kill loop: kill ${k + 1}/${o.kills} after ${lines} lines, ${writing.size} mid-mfg_nvs`,
      );
    }
    // The last shift: every board, to the end.
    const last = await runCli([...base, '--once', ...urls.flatMap((u) => ['--port', u])], {
      limitMs: 180_000,
    });
    if (last.code !== 0)
      throw new Error(`the last station run failed (${last.code}): ${last.stderr.slice(-2000)}`);

    const records: LedgerRecord[] = [];
    const reader = new LedgerReader(ledger);
    for await (const r of reader) records.push(r);
    const pool = await runCli(['identity', 'pool', '--profile', files.profile, '--json']);
    if (pool.code !== 0) throw new Error(`identity pool failed: ${pool.stderr}`);
    const report = JSON.parse(pool.stdout) as {
      total: number;
      free: number;
      committed: number;
      burned: number;
      reserved: number;
      releases: number;
      burnedList: { mac: string; serial?: string }[];
    };

    const serialMacs = new Map<string, Set<string>>();
    const credentialMacs = new Map<string, Set<string>>();
    const add = (m: Map<string, Set<string>>, k: string | undefined, mac: string) => {
      if (k === undefined) return;
      m.set(k, (m.get(k) ?? new Set()).add(mac));
    };
    let reusedOnRetest = 0;
    for (const r of records) {
      if (!r.mac || !r.identity || r.identity.outcome === 'released') continue;
      add(serialMacs, r.identity.serial, r.mac);
      add(credentialMacs, r.identity.credential, r.mac);
      if (r.identity.reused) reusedOnRetest++;
    }
    const twice = (m: Map<string, Set<string>>) =>
      [...m].filter(([, s]) => s.size > 1).map(([k, s]) => `${k}: ${[...s].join(' ')}`);
    const lost: string[] = [];
    if (report.total !== report.free + report.committed + report.burned + report.reserved)
      lost.push(
        `pool ${report.total} != ${report.free} + ${report.committed} + ${report.burned} + ${report.reserved}`,
      );
    if (report.reserved !== 0) lost.push(`${report.reserved} left reserved`);
    const macs = new Set(records.map((r) => r.mac));
    for (const b of report.burnedList) if (!macs.has(b.mac)) lost.push(`burned by unknown MAC ${b.mac}`);

    // Every board's flash against its last PASS record.
    let readBackChecked = 0;
    const readBackWrong: string[] = [];
    for (const url of urls) {
      const lastPass = records.filter((r) => r.port === url && r.result === 'pass').at(-1);
      if (!lastPass?.identity) {
        readBackWrong.push(`${url}: no PASS with an identity`);
        continue;
      }
      const { transport, loader } = await openLoader(url);
      try {
        const signal = new AbortController().signal;
        await loader.identify(signal);
        await loader.runStub(signal);
        await loader.attachFlash(signal);
        const got = await readPartitionFromBoard(loader, 'mfg_nvs', signal);
        const decoded = decodePartition(got.bytes);
        const hashes = new Map<string, string>();
        let serial: string | undefined;
        for (const item of decoded.partition.items) {
          if (item.kind !== 'entry') continue;
          const v = item.value;
          const name = `${item.namespace}/${item.key}`;
          if (v.type === 'string') {
            hashes.set(name, sha256(Buffer.from(`${v.value}\0`)));
            if (name === 'factory_param/sn') serial = v.value;
          } else if (v.type === 'blob') hashes.set(name, sha256(v.value));
        }
        readBackChecked++;
        const ok =
          decoded.problems.length === 0 &&
          serial === lastPass.identity.serial &&
          lastPass.identity.values.every((v) => hashes.get(`${v.namespace}/${v.key}`) === v.sha256);
        if (!ok)
          readBackWrong.push(
            `${url} ${lastPass.mac}: flash holds ${serial}, record ${lastPass.identity.serial}`,
          );
      } finally {
        loader.dispose();
        await transport.close();
      }
    }
    return {
      boards: o.boards,
      kills: o.kills,
      midWriteAtKill,
      records: records.length,
      passes: records.filter((r) => r.result === 'pass').length,
      reusedOnRetest,
      pool: {
        total: report.total,
        free: report.free,
        committed: report.committed,
        burned: report.burned,
        reserved: report.reserved,
        releases: report.releases,
      },
      serialsToTwoMacs: twice(serialMacs),
      credentialsToTwoMacs: twice(credentialMacs),
      lost,
      readBackChecked,
      readBackWrong,
      seconds: (Date.now() - t0) / 1000,
    };
  } finally {
    for (const c of children) await stopChild(c, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}
