/**
 * Which partition each region lands in: the main table (at 0x8000 or wherever the set puts a table) and
 * secondary tables such as ESP-AT's at_customize.bin, both found by parsing the regions' bytes.
 */
import { parsePartitionTable } from './partition-table.ts';
import type { PartitionEntry, PartitionTable } from './partition-table.ts';

export interface LoadedRegion {
  offset: number;
  label: string;
  file: string;
  data: Uint8Array;
}

export interface FoundTable {
  offset: number;
  label: string;
  table: PartitionTable;
  /** Problems found while parsing (MD5 mismatch, no end marker). */
  problems: string[];
}

export const DEFAULT_PARTITION_TABLE_OFFSET = 0x8000;

/** A region is read as a table when it is at 0x8000, or is named like one (partition-table, at_customize). */
export function looksLikePartitionTable(r: { offset: number; label: string; file: string }): boolean {
  return (
    r.offset === DEFAULT_PARTITION_TABLE_OFFSET ||
    /partition[-_]?table/i.test(r.label) ||
    /at_customize/i.test(r.label) ||
    /partition-table\.bin$|at_customize\.bin$/i.test(r.file)
  );
}

export function findPartitionTables(regions: readonly LoadedRegion[]): {
  tables: FoundTable[];
  unparsable: { region: LoadedRegion; problems: string[] }[];
} {
  const tables: FoundTable[] = [];
  const unparsable: { region: LoadedRegion; problems: string[] }[] = [];
  for (const r of regions) {
    if (!looksLikePartitionTable(r)) continue;
    const parsed = parsePartitionTable(r.data);
    if (parsed.ok)
      tables.push({ offset: r.offset, label: r.label, table: parsed.table, problems: parsed.problems });
    else unparsable.push({ region: r, problems: parsed.problems });
  }
  return { tables, unparsable };
}

/** The partition starting exactly at `offset`, else the one containing it (main table first). */
export function partitionFor(tables: readonly FoundTable[], offset: number): PartitionEntry | undefined {
  for (const t of tables) {
    const e = t.table.entries.find((p) => p.offset === offset);
    if (e) return e;
  }
  let best: PartitionEntry | undefined;
  for (const t of tables) {
    for (const p of t.table.entries) {
      // The smallest containing partition is the most specific (mfg_nvs inside at_customize).
      if (offset >= p.offset && offset < p.offset + p.size && (!best || p.size < best.size)) best = p;
    }
  }
  return best;
}
