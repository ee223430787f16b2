/**
 * `esp-station identity pool load | status | return --db URL`: a factory's central identity pool (profile
 * `identity.central`). load puts serials and credential bundles (their files too) into the database in one
 * transaction; status shows what is free, leased to each station, committed and burned; return hands a dead
 * station's unused block back (never an identity that station reported as written to a board).
 */
import type pg from 'pg';
import { closeClient, connectCentral, describeDatabaseError } from '../../central/connection.ts';
import { describeAddress } from '../../central/database-url.ts';
import { loadPool, poolStatus, PoolLoadConflict } from '../../central/identity-pool-admin.ts';
import { returnLeased } from '../../central/identity-pool.ts';
import { migrate, SchemaTooNewError } from '../../central/migrations.ts';
import { InputError } from '../../config/problems.ts';
import { COMMAND_LINE, parseCommandArgs } from '../command-args.ts';
import { centralTargetFrom, DATABASE_OPTIONS_HELP } from '../central-target.ts';
import { readPoolCsv, readPoolFolder } from '../pool-load-input.ts';

const USAGE = `usage: esp-station identity pool load   --db URL --pool NAME (--csv FILE | --folder DIR)
       esp-station identity pool status --db URL [--pool NAME] [--json]
       esp-station identity pool return --db URL --station ID [--pool NAME]

A central identity pool in the factory's PostgreSQL (profile identity.central: { pool: NAME }).
  load    add identities: --csv FILE with columns id, serial and/or one per bundle file (paths relative
          to the CSV), or --folder DIR with one sub-folder per bundle. All or nothing; loading the same
          identities again adds nothing. The files go into the database (stations share no folder).
  status  per pool: total, free, leased, committed, burned, and what each station holds
  return  give the unused leased identities of a station that is gone for good back to the pool;
          identities it reported as written to a board are never returned
  --db URL  postgres://user@host:port/database (default: central.url of --config or ./config.yaml)
  --config FILE         station config whose central: section names the database
${DATABASE_OPTIONS_HELP}
Exit 0 done, 1 the database cannot be used, 2 bad input.`;

export async function run(action: string, argv: string[]): Promise<number> {
  const parsed = parseCommandArgs(
    {
      args: argv,
      options: {
        db: { type: 'string' },
        config: { type: 'string' },
        'password-env': { type: 'string' },
        'password-file': { type: 'string' },
        pool: { type: 'string' },
        csv: { type: 'string' },
        folder: { type: 'string' },
        station: { type: 'string' },
        description: { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    },
    USAGE,
  );
  if (!parsed) return 0;
  const v = parsed.values;
  const only = (allowed: string[]) => {
    for (const k of ['pool', 'csv', 'folder', 'station', 'description', 'json'] as const) {
      if (v[k] !== undefined && !allowed.includes(k))
        throw new InputError({
          file: COMMAND_LINE,
          key: `--${k}`,
          message: `not an option of identity pool ${action}\n${USAGE}`,
        });
    }
  };
  const need = (k: 'pool' | 'station', what: string): string => {
    const value = v[k];
    if (value === undefined || value === '')
      throw new InputError({ file: COMMAND_LINE, key: `--${k}`, message: `give ${what}\n${USAGE}` });
    return value;
  };
  if (action === 'load') {
    only(['pool', 'csv', 'folder', 'description']);
    need('pool', '--pool NAME, the pool the profile names in identity.central.pool');
    if ((v.csv === undefined) === (v.folder === undefined))
      throw new InputError({
        file: COMMAND_LINE,
        key: '--csv',
        message: `give one of --csv FILE, --folder DIR\n${USAGE}`,
      });
  } else if (action === 'status') {
    only(['pool', 'json']);
  } else {
    only(['pool', 'station']);
    need('station', '--station ID, the station (config.yaml station:) whose unused block goes back');
  }
  // Read every input before touching the database: a bad row loads nothing.
  const input =
    action === 'load'
      ? v.csv !== undefined
        ? await readPoolCsv(v.csv)
        : await readPoolFolder(v.folder as string)
      : undefined;
  if (input && input.problems.length > 0) throw new InputError(input.problems);
  const target = await centralTargetFrom({
    url: v.db,
    urlOption: '--db',
    passwordEnv: v['password-env'],
    passwordFile: v['password-file'],
    config: v.config,
  });
  const where = describeAddress(target.address);
  let client: pg.Client | undefined;
  try {
    client = await connectCentral(target, { applicationName: `esp-station identity pool ${action}` });
    await migrate(client, `esp-station identity pool ${action}`);
    if (input) {
      const pool = v.pool as string;
      const r = await loadPool(client, pool, input.identities, v.description ?? '');
      console.log(
        `${where}: pool ${pool}: ${r.added} identit${r.added === 1 ? 'y' : 'ies'} added${r.already ? `, ${r.already} already there` : ''}`,
      );
      return 0;
    }
    if (action === 'return') {
      const station = v.station as string;
      const pools = (await poolStatus(client, v.pool)).filter((p) =>
        p.stations.some((s) => s.station === station),
      );
      if (pools.length === 0)
        console.log(`${where}: station ${station} holds no identities${v.pool ? ` of pool ${v.pool}` : ''}`);
      for (const p of pools) {
        const returned = await returnLeased(client, p.pool, station);
        const written = p.stations.find((s) => s.station === station)?.written ?? 0;
        console.log(
          `${where}: pool ${p.pool}: ${returned} unused identit${returned === 1 ? 'y' : 'ies'} of station ${station} back in the pool` +
            (written > 0
              ? `; ${written} written to boards stay with the station until it reports them (committed or burned)`
              : ''),
        );
      }
      return 0;
    }
    const rows = await poolStatus(client, v.pool);
    if (v.pool !== undefined && rows.length === 0) {
      console.error(
        `esp-station identity pool status: ${where} has no pool ${v.pool}; load it with identity pool load`,
      );
      return 1;
    }
    if (v.json) {
      console.log(JSON.stringify(rows, null, 2));
      return 0;
    }
    for (const p of rows) {
      console.log(
        `pool ${p.pool}: ${p.total} in all, ${p.free} free, ${p.leased} leased, ${p.committed} committed, ${p.burned} burned`,
      );
      for (const s of p.stations) {
        console.log(
          `  ${s.station.padEnd(20)} ${String(s.unused).padStart(6)} unused  ${String(s.written).padStart(4)} written, not reported  ${String(s.committed).padStart(6)} committed  ${String(s.burned).padStart(4)} burned`,
        );
      }
    }
    if (rows.length === 0) console.log(`${where}: no identity pools; load one with identity pool load`);
    return 0;
  } catch (err) {
    if (err instanceof PoolLoadConflict)
      throw new InputError({
        file: v.csv ?? v.folder ?? COMMAND_LINE,
        message: `${err.message}; nothing was loaded`,
      });
    if (err instanceof InputError) throw err;
    console.error(
      `esp-station identity pool ${action}: ${err instanceof SchemaTooNewError ? err.message : describeDatabaseError(err, target)}`,
    );
    return 1;
  } finally {
    await closeClient(client);
  }
}
