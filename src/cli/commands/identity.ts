/**
 * `esp-station identity pool`: how many boards can still get an identity, and which identities are reserved,
 * committed or burned — read from the journal without disturbing a station that is running.
 */
import { existsSync } from 'node:fs';
import { COMMAND_LINE, parseCommandArgs } from '../command-args.ts';
import { identitySettingsOf } from '../../config/identity-settings.ts';
import { InputError } from '../../config/problems.ts';
import { loadProfile } from '../../config/profile.ts';
import { loadStationConfig } from '../../config/station-config.ts';
import { formatPoolReport, IdentityError, LocalAllocator } from '../../identity/index.ts';

const USAGE = `usage: esp-station identity pool [--config FILE] [--profile FILE] [--json]

The identity pool of a station profile (its identity: section): free, reserved, committed and burned
identities, bundles set aside and why. Reads the journal only; safe while the station runs.
  --config FILE    station config (default: config.yaml when present): its profile and lot
  --profile FILE   this profile instead of the config's
  --json           print JSON`;

export async function run(argv: string[]): Promise<number> {
  const parsed = parseCommandArgs(
    {
      args: argv,
      allowPositionals: true,
      options: {
        config: { type: 'string' },
        profile: { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    },
    USAGE,
  );
  if (!parsed) return 0;
  const { values, positionals } = parsed;
  if (positionals.length !== 1 || positionals[0] !== 'pool') {
    throw new InputError({ file: COMMAND_LINE, message: `give a subcommand: pool\n${USAGE}` });
  }
  const configFile = values.config ?? (existsSync('config.yaml') ? 'config.yaml' : undefined);
  const config = configFile ? await loadStationConfig(configFile) : undefined;
  const profilePath = values.profile ?? config?.profilePath;
  if (!profilePath) {
    throw new InputError({
      file: COMMAND_LINE,
      key: '--profile',
      message: 'give --profile FILE or --config FILE (no config.yaml here)',
    });
  }
  const profile = await loadProfile(profilePath);
  const settings = identitySettingsOf(profile, { stationLot: config?.lot ?? '' });
  if (!settings) {
    throw new InputError({ file: profile.file, message: 'has no identity: section; see docs/identity.md' });
  }
  let allocator: LocalAllocator;
  try {
    allocator = await LocalAllocator.inspect({ settings });
  } catch (err) {
    if (err instanceof IdentityError)
      throw new InputError({ file: profile.file, key: 'identity', message: err.message });
    throw err;
  }
  const report = allocator.report();
  const source = settings.credentials?.folder ?? settings.credentials?.manifest ?? settings.journal;
  if (values.json)
    console.log(
      JSON.stringify({ journal: settings.journal, status: allocator.status(), ...report }, null, 2),
    );
  else console.log(`${formatPoolReport(report, source)}\n\njournal ${settings.journal}`);
  return 0;
}
