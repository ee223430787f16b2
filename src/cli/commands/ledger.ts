/**
 * `esp-station ledger ship --to URL --ledger DIR`: copies existing ledgers into the central database
 * (idempotent; see central/backfill.ts).
 */
import { existsSync } from 'node:fs';
import { COMMAND_LINE, parseCommandArgs } from '../command-args.ts';
import { InputError } from '../../config/problems.ts';
import { formatLedgerProblem } from '../../ledger/reader.ts';
import { centralTargetFrom, DATABASE_OPTIONS_HELP } from '../central-target.ts';

const USAGE = `usage: esp-station ledger ship --to URL --ledger FILE|DIR [--password-env NAME | --password-file FILE]

Ships existing ledger records to the central PostgreSQL database: a ledger from before the database existed,
from a station without a central: section, or again after restoring the database from a backup. Rows already
in the database are kept as they are, so running it twice never duplicates one.
  --to URL          postgres://user@host:port/database (default: central.url of --config or ./config.yaml)
  --ledger FILE|DIR a ledger file, or a directory of ledger files of any stations
  --config FILE     station config whose central: section names the database
${DATABASE_OPTIONS_HELP}
Exit 0 when every readable record is in the database, 1 when the database cannot be used.`;

export async function run(argv: string[]): Promise<number> {
  const parsed = parseCommandArgs(
    {
      args: argv,
      allowPositionals: true,
      options: {
        to: { type: 'string' },
        ledger: { type: 'string' },
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
  if (action !== 'ship') {
    throw new InputError({
      file: COMMAND_LINE,
      message: `${action === undefined ? 'no action given' : `unknown action '${action}'`}; use ship\n${USAGE}`,
    });
  }
  if (extra.length > 0)
    throw new InputError({ file: COMMAND_LINE, message: `unexpected '${extra[0]}'\n${USAGE}` });
  const v = parsed.values;
  if (v.ledger === undefined) {
    throw new InputError({
      file: COMMAND_LINE,
      key: '--ledger',
      message: 'give the ledger to ship: --ledger FILE|DIR',
    });
  }
  if (!existsSync(v.ledger)) {
    throw new InputError({
      file: COMMAND_LINE,
      key: '--ledger',
      message: `no such file or directory: ${v.ledger}`,
    });
  }
  const target = await centralTargetFrom({
    url: v.to,
    urlOption: '--to',
    passwordEnv: v['password-env'],
    passwordFile: v['password-file'],
    config: v.config,
  });
  // Loaded here: the PostgreSQL client is only needed once the arguments are good.
  const { closeClient, connectCentral, describeDatabaseError } = await import('../../central/connection.ts');
  const { describeAddress } = await import('../../central/database-url.ts');
  const { backfillLedger } = await import('../../central/backfill.ts');
  const where = describeAddress(target.address);
  const ac = new AbortController();
  const onSigint = () => ac.abort();
  process.once('SIGINT', onSigint);
  let client;
  try {
    client = await connectCentral(target, {
      applicationName: 'esp-station ledger ship',
      queryTimeoutMs: 300_000,
    });
    let last = 0;
    const result = await backfillLedger(client, v.ledger, {
      signal: ac.signal,
      onProgress: (r) => {
        if (Date.now() - last < 2_000) return;
        last = Date.now();
        console.error(`esp-station ledger ship: ${r.records} records read, ${r.added} new in ${where}`);
      },
    });
    for (const p of result.problems)
      console.error(`esp-station ledger ship: skipped ${formatLedgerProblem(p)}`);
    if (result.problemCount > result.problems.length) {
      console.error(
        `esp-station ledger ship: … ${result.problemCount - result.problems.length} more unreadable line(s)`,
      );
    }
    console.log(
      `${where}: ${result.records} record(s) from ${result.files} file(s): ${result.added} added, ` +
        `${result.records - result.added} already there` +
        (result.problemCount > 0 ? `; ${result.problemCount} unreadable line(s) skipped` : ''),
    );
    return 0;
  } catch (err) {
    if (ac.signal.aborted) {
      console.error('esp-station ledger ship: interrupted; what was shipped stays, run it again to finish');
      return 1;
    }
    console.error(`esp-station ledger ship: ${describeDatabaseError(err, target)}`);
    return 1;
  } finally {
    process.removeListener('SIGINT', onSigint);
    await closeClient(client);
  }
}
