import { parseArgs, type ParseArgsConfig } from 'node:util';
import { InputError } from '../config/problems.ts';

/** The `file` of a problem found in the command's own arguments. */
export const COMMAND_LINE = '<command line>';

type Parsed<T extends ParseArgsConfig> = ReturnType<typeof parseArgs<T>>;

/**
 * Parses one command's arguments strictly (unknown options are errors) and handles `--help`.
 * A bad option becomes an InputError followed by the usage (exit 2); `--help` prints the usage and gives
 * `undefined`, so the command returns 0.
 */
export function parseCommandArgs<T extends ParseArgsConfig>(config: T, usage: string): Parsed<T> | undefined {
  let parsed: Parsed<T>;
  try {
    parsed = parseArgs(config); // strict by default: unknown options and stray positionals are errors
  } catch (err) {
    throw new InputError({ file: COMMAND_LINE, message: (err as Error).message }, usage);
  }
  if ((parsed.values as { help?: boolean }).help) {
    console.log(usage);
    return undefined;
  }
  return parsed;
}
