/**
 * Which simulated boards are faulty, for `run --simulate N --faults MIX`. A MIX is `demo` (a fixed, readable
 * selection) or a comma list of `NAME[:ARG]:PROBABILITY`, e.g. `no-sync:0.1,write-error:0.05,drop-bytes:0.001:0.02`.
 * NAME is a simulator fault (src/sim/faults.ts) or one of the board/operator variations below.
 */
import { FAULT_NAMES, parseFault } from '../sim/faults.ts';
import { SeededRandom } from '../sim/rng.ts';

/** Variations that are not chip faults: a different chip, too little flash, the operator pulling mid-write. */
export const BOARD_VARIATIONS = ['wrong-chip', 'small-flash', 'unplug'] as const;
export type BoardVariation = (typeof BOARD_VARIATIONS)[number];

export interface BoardRecipe {
  /** Simulator faults as `NAME[:ARG]`. */
  faults: string[];
  variations: BoardVariation[];
}

interface MixItem {
  fault: string;
  probability: number;
}

export type FaultMix = { kind: 'none' } | { kind: 'demo' } | { kind: 'random'; items: MixItem[] };

/**
 * Every third demo board gets the next of these (brown-out recovers by retry; the rest fail with their code). The
 * post-flash test's faults are interleaved so a 12-board demo shows two of them.
 */
const DEMO_CYCLE: readonly string[] = [
  'silent-corruption',
  'at-old-firmware',
  'no-sync',
  'at-no-ap',
  'unplug',
  'brownout:400000',
  'at-dead',
  'secure-boot',
  'at-bad-mfg',
  'wrong-chip',
  'slow-boot',
  'small-flash',
  'write-error',
];

function isVariation(s: string): s is BoardVariation {
  return (BOARD_VARIATIONS as readonly string[]).includes(s);
}

/** Throws an Error naming what is wrong; the CLI turns it into an InputError. */
export function parseFaultMix(text: string | undefined): FaultMix {
  if (text === undefined || text.trim() === '' || text === 'none') return { kind: 'none' };
  if (text.trim() === 'demo') return { kind: 'demo' };
  const items: MixItem[] = [];
  for (const raw of text.split(',')) {
    const part = raw.trim();
    const cut = part.lastIndexOf(':');
    if (cut < 0) throw new Error(`'${part}': write NAME[:ARG]:PROBABILITY, e.g. no-sync:0.1`);
    const fault = part.slice(0, cut);
    const probability = Number(part.slice(cut + 1));
    if (!Number.isFinite(probability) || probability < 0 || probability > 1) {
      throw new Error(`'${part}': the probability must be a number from 0 to 1`);
    }
    if (!isVariation(fault)) {
      try {
        parseFault(fault);
      } catch (err) {
        throw new Error(
          `'${part}': ${(err as Error).message}; or one of ${BOARD_VARIATIONS.join(', ')} (known faults: ${FAULT_NAMES.join(', ')})`,
          { cause: err },
        );
      }
    }
    items.push({ fault, probability });
  }
  return { kind: 'random', items };
}

/** The recipe of board number `index` (0-based); same mix and seed, same boards. */
export function boardRecipe(mix: FaultMix, index: number, seed: number): BoardRecipe {
  const recipe: BoardRecipe = { faults: [], variations: [] };
  const add = (f: string): void => {
    if (isVariation(f)) recipe.variations.push(f);
    else recipe.faults.push(f);
  };
  if (mix.kind === 'demo') {
    if (index % 3 === 2) add(DEMO_CYCLE[Math.floor(index / 3) % DEMO_CYCLE.length]);
  } else if (mix.kind === 'random') {
    const rng = new SeededRandom((seed * 7919 + index * 104729) >>> 0);
    for (const item of mix.items) if (rng.next() < item.probability) add(item.fault);
  }
  return recipe;
}
