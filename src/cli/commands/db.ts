/**
 * `esp-station db migrate | status`: the central database's schema. Stations migrate by themselves when they
 * connect; this is for a DBA who prefers to do it by hand (or check what is there) before the line starts.
 */
import { parseCommandArgs, COMMAND_LINE } from '../command-args.ts';
import { InputError } from '../../config/problems.ts';
import { closeClient, connectCentral, describeDatabaseError } from '../../central/connection.ts';
import { describeAddress } from '../../central/database-url.ts';
import { LATEST_SCHEMA_VERSION, migrate, schemaStatus, SchemaTooNewError } from '../../central/migrations.ts';
import { listStations } from '../../central/station-rows.ts';
import { centralTargetFrom, DATABASE_OPTIONS_HELP } from '../central-target.ts';

const USAGE = `usage: esp-station db migrate|status [--db URL | --config FILE] [--password-env NAME | --password-file FILE]

The central PostgreSQL database that stations ship their ledgers to.
  migrate     apply the schema migrations this esp-station knows (stations also do it when they connect)
  status      schema version, pending migrations, and the stations with their last heartbeat and lag
  --db URL    postgres://user@host:port/database (default: central.url of --config or ./config.yaml)
  --config FILE         station config whose central: section names the database
${DATABASE_OPTIONS_HELP}
Exit 0 when done (status: when the schema is up to date), 1 when the database cannot be used.`;

export async function run(argv: string[]): Promise<number> {
  const parsed = parseCommandArgs(
    {
      args: argv,
      allowPositionals: true,
      options: {
        db: { type: 'string' },
        config: { type: 'string' },
        'password-env': { type: 'string' },
        'password-file': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    },
    USAGE,
  );
  if (!parsed) return 0;
  const [action, ...extra] = parsed.positionals;
  if (action !== 'migrate' && action !== 'status') {
    throw new InputError({
      file: COMMAND_LINE,
      message: `${action === undefined ? 'no action given' : `unknown action '${action}'`}; use migrate or status\n${USAGE}`,
    });
  }
  if (extra.length > 0)
    throw new InputError({ file: COMMAND_LINE, message: `unexpected '${extra[0]}'\n${USAGE}` });
  const v = parsed.values;
  const target = await centralTargetFrom({
    url: v.db,
    urlOption: '--db',
    passwordEnv: v['password-env'],
    passwordFile: v['password-file'],
    config: v.config,
  });
  const where = describeAddress(target.address);
  let client;
  try {
    client = await connectCentral(target, { applicationName: `esp-station db ${action}` });
    if (action === 'migrate') {
      const applied = await migrate(client, 'esp-station db migrate');
      if (applied.length === 0) console.log(`${where}: schema already at version ${LATEST_SCHEMA_VERSION}`);
      for (const m of applied) console.log(`${where}: applied migration ${m.version} (${m.name})`);
      return 0;
    }
    const status = await schemaStatus(client);
    console.log(`database  ${where}`);
    const state =
      status.version > LATEST_SCHEMA_VERSION
        ? `newer than this esp-station knows (${LATEST_SCHEMA_VERSION}): update esp-station`
        : status.pending.length > 0
          ? `${status.pending.length} migration(s) pending: run esp-station db migrate`
          : 'up to date';
    console.log(`schema    version ${status.version} of ${LATEST_SCHEMA_VERSION} (${state})`);
    for (const m of status.applied) {
      console.log(
        `  ${String(m.version).padStart(3)}  ${m.name.padEnd(28)} ${m.appliedAt.toISOString()}  ${m.appliedBy}`,
      );
    }
    for (const m of status.pending)
      console.log(`  ${String(m.version).padStart(3)}  ${m.name.padEnd(28)} pending`);
    if (status.version > 0) {
      const stations = await listStations(client);
      console.log(`stations  ${stations.length}`);
      for (const s of stations) {
        console.log(
          `  ${s.station.padEnd(20)} ${s.state.padEnd(8)} last seen ${s.lastSeen.toISOString()}  ` +
            `lag ${s.lagRecords} record(s), ${s.lagSeconds} s  ${s.version}  ${s.host}`,
        );
      }
    }
    return state === 'up to date' ? 0 : 1;
  } catch (err) {
    if (err instanceof InputError) throw err;
    console.error(
      `esp-station db ${action}: ${err instanceof SchemaTooNewError ? err.message : describeDatabaseError(err, target)}`,
    );
    return 1;
  } finally {
    await closeClient(client);
  }
}
