/**
 * A small ledger whose every figure is worked out by hand (see EXPECTED), spread over rotated files of two
 * stations, with a torn last line and a corrupt line. Times are 2026-11-23 UTC.
 *
 *   board  attempts (start, slot, result, duration)                                  lot    recipe
 *   M1     08:00:00 st1/A1 pass 10 s                                                  LOT-1  A
 *   M2     08:05:00 st1/A1 fail write-error 20 s; 08:10:00 st1/A2 pass 12 s            LOT-1  A
 *   M3     08:20:00 st1/A2 fail verify-mismatch 30 s; 09:05:00 st1/A1 fail v-m 30 s    LOT-1  A
 *   M4     09:10:00 st2/B1 pass 14 s                                                  LOT-2  B
 *   M5     09:20:00 st2/B1 pass 16 s (demo firmware)                                  LOT-2  B
 *   (none) 09:30:00 st1/A2 fail no-sync 5 s — never identified                        LOT-1  A
 *   M6     09:40:00 st2/B1 fail timeout 40 s; 10:00:00 st2/B1 pass 12 s                LOT-2  B
 */
import { appendFile, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LedgerWriter } from '../../src/ledger/writer.ts';
import type { LedgerRecord } from '../../src/ledger/record.ts';
import { makeRecord, RECIPE_A, RECIPE_B } from '../ledger/record-builder.ts';

export const MAC = {
  M1: '24:0A:C4:00:00:01',
  M2: '24:0A:C4:00:00:02',
  M3: '24:0A:C4:00:00:03',
  M4: '24:0A:C4:00:00:04',
  M5: '24:0A:C4:00:00:05',
  M6: '24:0A:C4:00:00:06',
};

const at = (hh: number, mm: number) => Date.UTC(2026, 10, 23, hh, mm, 0);

function st1(over: Partial<LedgerRecord> & { startMs: number }): LedgerRecord {
  return makeRecord({ station: 'st1', lot: 'LOT-1', recipe: RECIPE_A, profile: 'at-esp32', ...over });
}
function st2(over: Partial<LedgerRecord> & { startMs: number }): LedgerRecord {
  return makeRecord({
    station: 'st2',
    slot: 'B1',
    lot: 'LOT-2',
    recipe: RECIPE_B,
    profile: 'at-esp32c3',
    chip: 'esp32c3',
    operator: 'bob',
    ...over,
  });
}

export function knownRecords(): { st1: LedgerRecord[]; st2: LedgerRecord[] } {
  const fail = (code: LedgerRecord['code'], message: string) => ({ result: 'fail' as const, code, message });
  return {
    st1: [
      st1({ mac: MAC.M1, slot: 'A1', startMs: at(8, 0), durationMs: 10_000 }),
      st1({
        mac: MAC.M2,
        slot: 'A1',
        startMs: at(8, 5),
        durationMs: 20_000,
        ...fail('write-error', 'write failed at 0x10000'),
      }),
      st1({ mac: MAC.M2, slot: 'A2', startMs: at(8, 10), durationMs: 12_000, attempt: 2 }),
      st1({
        mac: MAC.M3,
        slot: 'A2',
        startMs: at(8, 20),
        durationMs: 30_000,
        ...fail('verify-mismatch', 'MD5 mismatch'),
      }),
      st1({
        mac: MAC.M3,
        slot: 'A1',
        startMs: at(9, 5),
        durationMs: 30_000,
        attempt: 2,
        ...fail('verify-mismatch', 'MD5 mismatch'),
      }),
      st1({
        mac: undefined,
        slot: 'A2',
        startMs: at(9, 30),
        durationMs: 5_000,
        ...fail('no-sync', 'no reply'),
      }),
    ],
    st2: [
      st2({ mac: MAC.M4, startMs: at(9, 10), durationMs: 14_000 }),
      st2({ mac: MAC.M5, startMs: at(9, 20), durationMs: 16_000, demoFirmware: true }),
      st2({ mac: MAC.M6, startMs: at(9, 40), durationMs: 40_000, ...fail('timeout', 'no answer') }),
      st2({ mac: MAC.M6, startMs: at(10, 0), durationMs: 12_000, attempt: 2 }),
    ],
  };
}

/**
 * Writes the known ledger into `dir`: st1 rotated by size (several files), st2 by day; then a torn last line
 * on one st1 file and a corrupt line in st2's file. Returns the problem locations.
 */
export async function writeKnownLedger(dir: string): Promise<{ torn: string; corrupt: string }> {
  const { st1: a, st2: b } = knownRecords();
  const w1 = await LedgerWriter.open({ dir, station: 'st1', rotate: { by: 'size', maxBytes: 2500 } });
  for (const r of a) await w1.append(r);
  await w1.close();
  const w2 = await LedgerWriter.open({ dir, station: 'st2', rotate: { by: 'day' } });
  for (const r of b.slice(0, 2)) await w2.append(r);
  await w2.close();
  const st2File = join(dir, 'st2-2026-11-23.jsonl');
  await appendFile(st2File, '#### not a record ####\n');
  const w3 = await LedgerWriter.open({ dir, station: 'st2', rotate: { by: 'day' } });
  for (const r of b.slice(2)) await w3.append(r);
  await w3.close();
  const st1Files = (await readdir(dir)).filter((n) => n.startsWith('st1-')).sort();
  const lastSt1 = join(dir, st1Files[st1Files.length - 1]);
  const tornLine = (await readFile(lastSt1, 'utf8')).split('\n').length;
  await appendFile(lastSt1, '{"v":1,"id":"st1-torn","start":"2026-11-23T09:59');
  return { torn: `${lastSt1}:${tornLine}`, corrupt: `${st2File}:3` };
}

export const HOUR = 3_600_000;

/** Every figure of the unfiltered report over the known ledger, worked out by hand. */
export const EXPECTED = {
  attempts: 10,
  attemptsPassed: 5,
  attemptsFailed: 5,
  attemptsWithoutMac: 1,
  boards: 6,
  boardsPassed: 5,
  boardsFailed: 1,
  boardsFirstPass: 3,
  firstPassYield: 3 / 6,
  finalYield: 5 / 6,
  retests: 3,
  boardsRetested: 3,
  // Window 08:00:00 to 10:00:12.
  windowHours: (2 * HOUR + 12_000) / HOUR,
  boardsPerHour: 6 / ((2 * HOUR + 12_000) / HOUR),
  // Durations sorted: 5 10 12 12 14 16 20 30 30 40 s; nearest rank p50 = 5th, p90 = 9th.
  cycle: { p50: 14_000, p90: 30_000, max: 40_000 },
  byCode: [
    ['verify-mismatch', 2, 0.4, 0.4],
    ['no-sync', 1, 0.2, 0.6],
    ['timeout', 1, 0.2, 0.8],
    ['write-error', 1, 0.2, 1],
  ],
  byMessage: [
    ['MD5 mismatch', 2, 0.4, 0.4],
    ['no answer', 1, 0.2, 0.6],
    ['no reply', 1, 0.2, 0.8],
    // Grouped by template: the address is the board's own detail.
    ['write failed at ‹hex›', 1, 0.2, 1],
  ],
  slots: [
    ['st1', 'A1', 3, 1],
    ['st1', 'A2', 3, 1],
    ['st2', 'B1', 4, 3],
  ],
  hourly: [
    ['2026-11-23T08:00:00.000Z', 4, 2],
    ['2026-11-23T09:00:00.000Z', 5, 2],
    ['2026-11-23T10:00:00.000Z', 1, 1],
  ],
  // recipe, attempts, passed, boards first seen on it, of which first-pass, demo
  recipes: [
    [RECIPE_A, 6, 2, 3, 1, false],
    [RECIPE_B, 4, 3, 3, 2, true],
  ],
  lots: [
    ['LOT-1', 6, 2],
    ['LOT-2', 4, 3],
  ],
  stations: [
    ['st1', 6, 2],
    ['st2', 4, 3],
  ],
  operators: [
    ['ann', 6, 2],
    ['bob', 4, 3],
  ],
  // mac, result, attempts, first start, last end, recipe, lot, station, slot, last code, demo, last message
  boardList: [
    [
      MAC.M1,
      'pass',
      1,
      '2026-11-23T08:00:00.000Z',
      '2026-11-23T08:00:10.000Z',
      RECIPE_A,
      'LOT-1',
      'st1',
      'A1',
      '',
      false,
      '',
    ],
    [
      MAC.M2,
      'pass',
      2,
      '2026-11-23T08:05:00.000Z',
      '2026-11-23T08:10:12.000Z',
      RECIPE_A,
      'LOT-1',
      'st1',
      'A2',
      '',
      false,
      '',
    ],
    [
      MAC.M3,
      'fail',
      2,
      '2026-11-23T08:20:00.000Z',
      '2026-11-23T09:05:30.000Z',
      RECIPE_A,
      'LOT-1',
      'st1',
      'A1',
      'verify-mismatch',
      false,
      'MD5 mismatch',
    ],
    [
      MAC.M4,
      'pass',
      1,
      '2026-11-23T09:10:00.000Z',
      '2026-11-23T09:10:14.000Z',
      RECIPE_B,
      'LOT-2',
      'st2',
      'B1',
      '',
      false,
      '',
    ],
    [
      MAC.M5,
      'pass',
      1,
      '2026-11-23T09:20:00.000Z',
      '2026-11-23T09:20:16.000Z',
      RECIPE_B,
      'LOT-2',
      'st2',
      'B1',
      '',
      true,
      '',
    ],
    [
      MAC.M6,
      'pass',
      2,
      '2026-11-23T09:40:00.000Z',
      '2026-11-23T10:00:12.000Z',
      RECIPE_B,
      'LOT-2',
      'st2',
      'B1',
      '',
      false,
      '',
    ],
  ],
} as const;
