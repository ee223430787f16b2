/**
 * A generated factory floor for the report tests and the bench: several stations, boards retested (sometimes
 * at another station), every failure code, thousands of distinct failure messages, boards that never
 * identified, demo firmware, several lots, recipes, profiles and operators, over several days — written as
 * each station's rotated ledger in one directory. Deterministic for a seed.
 */
import { createHash } from 'node:crypto';
import { appendFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FAILURE_CODES } from '../../src/ledger/failure-codes.ts';
import type { LedgerRecord } from '../../src/ledger/record.ts';
import { LedgerWriter } from '../../src/ledger/writer.ts';
import { makeRecord, mac } from '../ledger/record-builder.ts';

export const FLOOR_STATIONS = ['line-1', 'line-2', 'line-3', 'rework'];
export const FLOOR_RECIPES = ['1a2b3c4d'.repeat(8), '5e6f7a8b'.repeat(8), '9c0d1e2f'.repeat(8)];

/** mulberry32: small, fast, good enough to spread test data. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface Floor {
  byStation: Map<string, LedgerRecord[]>;
  all: LedgerRecord[];
}

export function generateFloor(boards: number, seed = 1): Floor {
  const rnd = random(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
  const codes = FAILURE_CODES.filter((c) => c !== 'internal');
  const t0 = Date.UTC(2026, 10, 23, 6);
  const byStation = new Map<string, LedgerRecord[]>(FLOOR_STATIONS.map((s) => [s, []]));
  let seq = 0;
  const add = (station: string, over: Partial<LedgerRecord> & { startMs: number }) => {
    const r = makeRecord({
      id: `${station}/${over.startMs}/${++seq}`,
      station,
      portPath: `1-1.${seq % 8}`,
      ...over,
    });
    byStation.get(station)?.push(r);
  };
  for (let b = 0; b < boards; b++) {
    const board = mac(b + 1);
    const recipeIndex = Math.min(FLOOR_RECIPES.length - 1, Math.floor((b / boards) * FLOOR_RECIPES.length));
    const lot = `LOT-${1 + Math.floor((b / boards) * 5)}`;
    let start = t0 + Math.floor((b / boards) * 3 * 86_400_000) + Math.floor(rnd() * 60_000);
    let station = pick(FLOOR_STATIONS.slice(0, 3));
    const tries = rnd() < 0.25 ? 2 + Math.floor(rnd() * 3) : 1;
    for (let attempt = 1; attempt <= tries; attempt++) {
      const last = attempt === tries;
      const pass = last ? rnd() < 0.9 : false;
      const code = pick(codes);
      const durationMs = 8_000 + Math.floor(rnd() * 30_000);
      add(station, {
        startMs: start,
        durationMs,
        mac: board,
        slot: `S${1 + Math.floor(rnd() * 8)}`,
        lot,
        recipe: FLOOR_RECIPES[recipeIndex],
        profile: recipeIndex === 2 ? 'at-esp32c3' : 'at-esp32',
        operator: pick(['ann', 'bob', 'chen', 'dee']),
        attempt,
        result: pass ? 'pass' : 'fail',
        ...(!pass && {
          code,
          // Many distinct messages, and more distinct templates (the Pareto groups by template: the address is a
          // detail, the part name is not) than the report tracks, to hold the tracking rule to the ledger's.
          message:
            rnd() < 0.85
              ? `${code} at 0x${Math.floor(rnd() * 65536).toString(16)}00 in part ${partName(rnd)}`
              : code,
        }),
        ...(rnd() < 0.03 && { demoFirmware: true }),
        // Every third board draws an identity; its first failed attempt ended before the identity region.
        ...(b % 3 === 0 && (pass || attempt > 1) && { identity: identityOf(b, attempt, pass) }),
      });
      start += durationMs + 60_000 + Math.floor(rnd() * 3_600_000);
      if (rnd() < 0.4) station = 'rework';
    }
    // A board that never identified, now and then.
    if (rnd() < 0.05) {
      add(pick(FLOOR_STATIONS), {
        startMs: start + 1_000,
        durationMs: 3_000,
        mac: undefined,
        lot,
        recipe: FLOOR_RECIPES[recipeIndex],
        result: 'fail',
        code: 'no-sync',
        message: 'no reply to SYNC',
      });
    }
  }
  // Two attempts of one board starting in the same millisecond: ties resolve by ledger order in both reports.
  const tie = t0 + 40 * 3_600_000;
  add('line-1', { startMs: tie, durationMs: 9_000, mac: mac(boards + 1), result: 'fail', code: 'timeout' });
  add('line-1', { startMs: tie, durationMs: 9_000, mac: mac(boards + 1), result: 'pass' });
  const all: LedgerRecord[] = [];
  for (const [station, records] of byStation) {
    records.sort((x, y) => Date.parse(x.end) - Date.parse(y.end) || (x.id < y.id ? -1 : 1));
    byStation.set(station, records);
    all.push(...records);
  }
  return { byStation, all };
}

/** Each station's records as its own rotated ledger in `dir`, plus one corrupt line a report must skip. */
export async function writeFloor(dir: string, floor: Floor): Promise<void> {
  for (const [station, records] of floor.byStation) {
    const w = await LedgerWriter.open({ dir, station, rotate: { by: 'day' } });
    for (const r of records) await w.append(r);
    await w.close();
  }
  await appendFile(
    join(dir, `${FLOOR_STATIONS[0]}-2026-11-23.jsonl`),
    'a line someone typed into the ledger\n',
  );
}

/** The serial and bundle board `b` got: the same on every attempt (a retest gets its identity again). */
export function floorSerial(b: number): string {
  return `SN-${String(b + 1).padStart(6, '0')}`;
}

function identityOf(b: number, attempt: number, pass: boolean): NonNullable<LedgerRecord['identity']> {
  const serial = floorSerial(b);
  return {
    serial,
    credential: `dev-${String(b + 1).padStart(5, '0')}`,
    values: [
      {
        namespace: 'factory_param',
        key: 'sn',
        type: 'string',
        size: serial.length + 1,
        sha256: createHash('sha256').update(`${serial}\0`).digest('hex'),
      },
    ],
    reused: attempt > 1,
    outcome: pass ? 'committed' : 'kept',
  };
}

/** Three letters: 17,576 names, each its own message template. */
function partName(rnd: () => number): string {
  let name = '';
  for (let i = 0; i < 3; i++) name += String.fromCharCode(97 + Math.floor(rnd() * 26));
  return name;
}
