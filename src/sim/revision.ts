/**
 * Chip revisions a simulated board can be given (`--revision vM.N`): what its eFuse fields can hold and the
 * flasher reads back the same.
 */
import type { ChipFacts } from '../esp/chips/chip.ts';
import { formatRevision } from '../esp/identity-text.ts';
import { DEFAULT_REVISIONS } from './chip-extras.ts';

/** Why `revision` cannot be simulated on `chip` (a sentence for the command line), or undefined when it can. */
export async function revisionProblem(chip: ChipFacts, revision: number): Promise<string | undefined> {
  let regs: ReadonlyMap<number, number>;
  try {
    regs = chip.revisionRegisters(revision);
  } catch {
    regs = new Map();
  }
  const readBack = await chip.readRevision((addr) => Promise.resolve(regs.get(addr) ?? 0));
  if (readBack === revision) return undefined;
  return (
    `${chip.displayName} cannot be revision ${formatRevision(revision)} (its eFuse revision fields cannot ` +
    `hold it); leave it out for ${formatRevision(DEFAULT_REVISIONS[chip.name])}, what ships today`
  );
}
