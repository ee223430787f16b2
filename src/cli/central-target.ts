/**
 * Which central database a command talks to: `--db URL` (password from --password-env / --password-file, or
 * libpq's PGPASSWORD and ~/.pgpass), else the `central:` section of the station config.
 */
import { existsSync } from 'node:fs';
import type { CentralTarget } from '../central/connection.ts';
import { parseDatabaseUrl } from '../central/database-url.ts';
import { InputError } from '../config/problems.ts';
import { loadStationConfig } from '../config/station-config.ts';
import { COMMAND_LINE } from './command-args.ts';

export const DATABASE_OPTIONS_HELP = `  --password-env NAME   read the database password from this environment variable
  --password-file FILE  read it from the first line of this file
                        (default: PGPASSWORD or ~/.pgpass, as psql does; never put it in the URL)`;

export interface TargetArguments {
  url?: string;
  urlOption: string;
  passwordEnv?: string;
  passwordFile?: string;
  config?: string;
}

export async function centralTargetFrom(args: TargetArguments): Promise<CentralTarget> {
  if (args.passwordEnv !== undefined && args.passwordFile !== undefined) {
    throw new InputError({
      file: COMMAND_LINE,
      key: '--password-file',
      message: 'give the password one way: --password-env or --password-file, not both',
    });
  }
  if (args.url !== undefined) {
    const parsed = parseDatabaseUrl(args.url);
    if (!parsed.ok)
      throw new InputError({ file: COMMAND_LINE, key: args.urlOption, message: parsed.message });
    return {
      address: parsed.address,
      ...(args.passwordEnv !== undefined && { passwordEnv: args.passwordEnv }),
      ...(args.passwordFile !== undefined && { passwordFile: args.passwordFile }),
    };
  }
  const file = args.config ?? (existsSync('config.yaml') ? 'config.yaml' : undefined);
  const config = file === undefined ? undefined : await loadStationConfig(file);
  if (!config?.central) {
    throw new InputError({
      file: COMMAND_LINE,
      key: args.urlOption,
      message: `no database given: use ${args.urlOption} postgres://user@host:port/db, or a config with a central: section`,
    });
  }
  const { drainSeconds: _drain, ...target } = config.central;
  return target;
}
