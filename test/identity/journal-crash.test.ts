/**
 * SIGKILL at random moments: a real child process runs four slots against one journal and is killed again
 * and again; each new process takes over the journal. Afterwards: no serial or bundle was ever given to two
 * MACs once written, nothing written was lost or released, every acknowledged step is in the journal.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { REPO_ROOT, tempDir } from '../firmware/fixture-paths.ts';
import { IdentityIssuer } from '../../src/identity/index.ts';
import { decodePartition, findEntry } from '../../src/nvs/index.ts';
import { makeBundleFolder, releaseRegion, settingsFor } from './identity-fixture.ts';

const ROUNDS = 10;
const BUNDLES = 60;

interface Ack {
  op: string;
  id: string;
  mac: string;
  serial: string;
  credential: string;
  attempt: number;
}

/**
 * Runs one child until it has acknowledged `writes` W steps, then kills it `delayMs` later: at a moment inside
 * its work that depends on progress, not on how fast a loaded machine runs it.
 */
function runUntilKilled(dir: string, seed: number, writes: number, delayMs: number): Promise<Ack[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', path.join(REPO_ROOT, 'test/identity/allocator-child.ts'), dir, String(seed)],
      {
        cwd: REPO_ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    let err = '';
    let timer: NodeJS.Timeout | undefined;
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const seen = out.split('\n').filter((l) => l.startsWith('W ')).length;
      if (!timer && out.includes('READY\n') && seen >= writes) {
        timer = setTimeout(() => child.kill('SIGKILL'), delayMs);
      }
    });
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (_code, signal) => {
      clearTimeout(timer);
      if (signal !== 'SIGKILL') return reject(new Error(`child ended on its own (${_code}): ${err}`));
      const acks = out
        .split('\n')
        .filter((l) => l && l !== 'READY')
        .map((l) => l.split(' '))
        .filter((f) => f.length === 6)
        .map(([op, id, mac, serial, credential, attempt]) => ({
          op,
          id,
          mac,
          serial,
          credential,
          attempt: Number(attempt),
        }));
      resolve(acks);
    });
  });
}

test(
  'killed at random moments, the journal never issues a written identity twice and loses nothing',
  { timeout: 240_000 },
  async (t) => {
    const dir = await tempDir(t, 'esp-station-identity-crash-');
    await makeBundleFolder(path.join(dir, 'pool'), BUNDLES);
    const acks: Ack[] = [];
    let seed = 1;
    for (let round = 0; round < ROUNDS; round++) {
      acks.push(...(await runUntilKilled(dir, seed++, 2 + (round % 3), (round * 37) % 60)));
    }
    assert.ok(acks.filter((a) => a.op === 'W').length >= 20, `only ${acks.length} steps acknowledged`);

    const settings = settingsFor(dir);
    const issuer = await IdentityIssuer.open(settings, await releaseRegion());
    t.after(() => issuer.close());
    const journal = (await readFile(settings.journal, 'utf8'))
      .split('\n')
      .filter(Boolean)
      .flatMap((l) => {
        try {
          return [
            JSON.parse(l) as {
              op: string;
              id: string;
              mac?: string;
              serial?: string;
              credential?: string;
              attempt: number;
            },
          ];
        } catch {
          return []; // a torn last line of a killed process
        }
      });

    // Every acknowledged step is in the journal.
    const journaled = new Set(journal.map((j) => `${j.op}:${j.id}:${j.attempt}`));
    const opName: Record<string, string> = { W: 'writing', C: 'commit', L: 'release', K: 'failed' };
    for (const a of acks) {
      if (a.op === 'R')
        assert.ok(
          journaled.has(`reserve:${a.id}:${a.attempt}`) || journaled.has(`reattach:${a.id}:${a.attempt}`),
          `reserve ${a.id} attempt ${a.attempt}`,
        );
      else
        assert.ok(
          journaled.has(`${opName[a.op]}:${a.id}:${a.attempt}`),
          `${a.op} ${a.id} attempt ${a.attempt} missing`,
        );
    }

    // Once written to a MAC, a serial or bundle is never handed to another MAC, and that MAC always gets it back.
    const writtenTo = new Map<string, string>();
    const macHolds = new Map<string, string>();
    for (const a of acks) {
      const identity = `${a.serial}|${a.credential}`;
      if (a.op === 'R' && macHolds.has(a.mac))
        assert.equal(
          identity,
          macHolds.get(a.mac),
          `MAC ${a.mac} got another identity after its region was written`,
        );
      for (const thing of [a.serial, a.credential]) {
        const owner = writtenTo.get(thing);
        if (owner)
          assert.equal(a.mac, owner, `${thing} was written to ${owner} and later issued to ${a.mac}`);
      }
      if (a.op === 'W') {
        writtenTo.set(a.serial, a.mac);
        writtenTo.set(a.credential, a.mac);
        macHolds.set(a.mac, identity);
      }
    }

    // The reopened journal agrees: every written MAC still holds its identity; nothing is merely reserved.
    const report = issuer.report();
    assert.equal(report.reserved, 0);
    assert.equal((report.free ?? 0) + report.burned + report.committed, BUNDLES);
    for (const [board, identity] of macHolds) {
      const again = await issuer.reserve(board, 'check', 1000);
      assert.equal(`${again.values.serial}|${again.values.credential}`, identity);
      assert.deepEqual(
        findEntry(decodePartition(again.regionBytes).partition, 'factory_param', 'sn')?.value,
        { type: 'string', value: identity.split('|')[0] },
      );
    }
    // No two live MACs share a serial or a bundle.
    const live = journal.filter((j) => j.op === 'reserve');
    const released = new Set(journal.filter((j) => j.op === 'release').map((j) => j.id));
    const holders = new Map<string, string>();
    for (const j of live.filter((j) => !released.has(j.id))) {
      for (const thing of [j.serial!, j.credential!]) {
        assert.equal(holders.get(thing) ?? j.mac, j.mac, `${thing} held by two MACs`);
        holders.set(thing, j.mac!);
      }
    }
    t.diagnostic(
      `${ROUNDS} kills, ${acks.length} acknowledged steps, ${journal.length} journal lines; ${report.committed} committed, ${report.burned} burned, ${report.free} free`,
    );
  },
);
