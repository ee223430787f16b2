/**
 * What the neighbourhood tests share: boards served by a real `esp-station sim` child, a station's files on
 * disk (the demo image set, no boot check: a raw TCP link has no reset line), the ledger read back as records.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LedgerReader } from '../../src/ledger/reader.ts';
import type { LedgerRecord } from '../../src/ledger/record.ts';
import type { StationEvent } from '../../src/station/events.ts';
import { startCli } from './child-processes.ts';
import type { LiveChild } from './child-processes.ts';

/** Starts `esp-station sim` with N boards on free ports; resolves with their socket:// URLs. */
export async function simBoards(
  n: number,
  mac: string,
  children: LiveChild[],
  extra: string[] = [],
): Promise<string[]> {
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
    ...extra,
  ]);
  children.push(sim);
  const urls: string[] = [];
  for (let i = 0; i < n; i++) {
    const line = await sim.waitForLine((l) => l.includes('listening on') && !urls.some((u) => l.includes(u)));
    urls.push(/\((socket:\/\/[^)]+)\)/.exec(line)![1]);
  }
  return urls;
}

export async function readLedger(path: string): Promise<{ records: LedgerRecord[]; problems: number }> {
  const reader = new LedgerReader(path);
  const records: LedgerRecord[] = [];
  for await (const r of reader) records.push(r);
  return { records, problems: reader.problemCount };
}

/** config.yaml + profile.yaml in `dir` (one board at a time unless told); returns the config's path. */
export function writeStationFiles(
  dir: string,
  opts: { concurrency?: number; station?: string } = {},
): string {
  writeFileSync(
    join(dir, 'profile.yaml'),
    [
      'name: neighbourhood-demo',
      'chip: esp32',
      'demo: true',
      'imageSet:',
      '  demo: esp-at',
      'flash:',
      '  size: 4MB',
      '',
    ].join('\n'),
  );
  const config = join(dir, 'config.yaml');
  writeFileSync(
    config,
    [
      `station: ${opts.station ?? 'neighbourhood'}`,
      'profile: profile.yaml',
      `concurrency: ${opts.concurrency ?? 1}`,
      'baudLadder: [921600]',
      'ledger:',
      '  dir: ledger',
      '',
    ].join('\n'),
  );
  return config;
}

/** The JSON event of a headless station's stdout line (undefined for anything else). */
export function eventOf(line: string): StationEvent | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    return JSON.parse(line) as StationEvent;
  } catch {
    return undefined;
  }
}
