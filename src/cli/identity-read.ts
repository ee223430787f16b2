/**
 * `esp-station identity read --port P`: a returned board's identity partition, read back through the stub
 * (READ_FLASH) from where the board's own partition table says it is, then decoded. ESP-AT keeps mfg_nvs in a
 * second table (at_customize), so a label not in the main table is looked up in the tables it points at.
 */
import type { EspLoader } from '../esp/loader.ts';
import { DEFAULT_PARTITION_TABLE_OFFSET } from '../firmware/flash-layout.ts';
import { PARTITION_TABLE_LENGTH, parsePartitionTable } from '../firmware/partition-table.ts';
import type { PartitionEntry } from '../firmware/partition-table.ts';

export interface ReadPartition {
  entry: PartitionEntry;
  /** Where the table that lists it is. */
  tableOffset: number;
  bytes: Uint8Array;
}

/** Thrown when the board's flash has no such partition (a sentence for the operator). */
export class PartitionNotFound extends Error {}

/** The loader must run the stub with the flash attached (READ_FLASH streams only through the stub). */
export async function readPartitionFromBoard(
  loader: EspLoader,
  label: string,
  signal: AbortSignal,
): Promise<ReadPartition> {
  const readTable = async (offset: number) =>
    parsePartitionTable(await loader.readFlash(offset, PARTITION_TABLE_LENGTH, { signal }));
  const main = await readTable(DEFAULT_PARTITION_TABLE_OFFSET);
  if (!main.ok || main.table.entries.length === 0) {
    const why = main.ok ? 'blank' : (main.problems[0] ?? 'unreadable');
    throw new PartitionNotFound(
      `the board has no readable partition table at 0x${DEFAULT_PARTITION_TABLE_OFFSET.toString(16)} (${why}): it was never flashed, or its flash is damaged`,
    );
  }
  const found = async (): Promise<{ entry: PartitionEntry; tableOffset: number } | undefined> => {
    const direct = main.table.entries.find((e) => e.label === label);
    if (direct) return { entry: direct, tableOffset: DEFAULT_PARTITION_TABLE_OFFSET };
    // A partition that is itself a table (ESP-AT's at_customize, a custom type, lists mfg_nvs).
    for (const e of main.table.entries) {
      if (e.type === 0x00 || e.size < PARTITION_TABLE_LENGTH) continue;
      const inner = await readTable(e.offset);
      const hit = inner.ok ? inner.table.entries.find((x) => x.label === label) : undefined;
      if (hit) return { entry: hit, tableOffset: e.offset };
    }
    return undefined;
  };
  const where = await found();
  if (!where) {
    throw new PartitionNotFound(
      `the board's partition table has no partition '${label}' (it has ${main.table.entries.map((e) => e.label).join(', ')}); give --partition LABEL`,
    );
  }
  const bytes = await loader.readFlash(where.entry.offset, where.entry.size, { signal });
  return { ...where, bytes: new Uint8Array(bytes) };
}
