/**
 * `esp-station identity pool`: how many boards can still get an identity, and which identities are reserved,
 * committed or burned — read from the journal without disturbing a station that is running.
 * `esp-station identity read --port P` (or `identity --port P`): what a returned board carries, read back.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { openLoader } from '../../esp/link-options.ts';
import { isEspError } from '../../esp/errors.ts';
import { decodedToJson, decodePartition, formatNvsCsv } from '../../nvs/index.ts';
import { DisconnectedError } from '../../serial/link-errors.ts';
import { terminalSafe } from '../../text/terminal-safe.ts';
import { PartitionNotFound, readPartitionFromBoard } from '../identity-read.ts';
import { portArgumentProblem } from '../port-argument.ts';
import { slotForPort } from '../port-slot.ts';
import { writeFileAtomically } from '../write-file-atomically.ts';
import { COMMAND_LINE, parseCommandArgs } from '../command-args.ts';
import { identitySettingsOf } from '../../config/identity-settings.ts';
import { InputError } from '../../config/problems.ts';
import { loadProfile } from '../../config/profile.ts';
import { loadStationConfig } from '../../config/station-config.ts';
import { formatPoolReport, IdentityError, LocalAllocator } from '../../identity/index.ts';

const USAGE = `usage: esp-station identity pool [--config FILE] [--profile FILE] [--json]
       esp-station identity pool load|status|return --db URL …   (a central pool: identity pool load --help)
       esp-station identity read --port <tty | socket://host:port> [--partition LABEL] [--json] [--out FILE]

pool: the identity pool of a station profile (its identity: section): free, reserved, committed and burned
identities, bundles set aside and why. Reads the journal only; safe while the station runs.
  --config FILE    station config (default: config.yaml when present): its profile and lot
  --profile FILE   this profile instead of the config's
  --json           print JSON

read: what a board carries (a return, a rework): its identity partition read back through the stub from
where the board's own partition table puts it, decoded as by nvs decode (CSV, or --json).
  --port PORT        serial device (/dev/ttyUSB0) or raw TCP (socket://host:port)
  --partition LABEL  the partition to read (default: the profile's identity.partition, else mfg_nvs)
  --out FILE         also write the raw partition to FILE
Exit 0 ok, 1 board or link failed (or the partition does not decode cleanly), 2 bad input.`;

export async function run(argv: string[]): Promise<number> {
  // A central pool's commands (the database's, not a profile's journal).
  if (argv[0] === 'pool' && ['load', 'status', 'return'].includes(argv[1] ?? '')) {
    const { run: central } = await import('./identity-central-pool.ts');
    return central(argv[1], argv.slice(2));
  }
  const parsed = parseCommandArgs(
    {
      args: argv,
      allowPositionals: true,
      options: {
        config: { type: 'string' },
        profile: { type: 'string' },
        json: { type: 'boolean' },
        port: { type: 'string', short: 'p' },
        partition: { type: 'string' },
        out: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    },
    USAGE,
  );
  if (!parsed) return 0;
  const { values, positionals } = parsed;
  const sub = positionals[0] ?? (values.port !== undefined ? 'read' : undefined);
  if (positionals.length > 1 || (sub !== 'pool' && sub !== 'read')) {
    throw new InputError({ file: COMMAND_LINE, message: `give a subcommand: pool or read\n${USAGE}` });
  }
  if (sub === 'read') return read(values);
  for (const k of ['port', 'partition', 'out'] as const) {
    if (values[k] !== undefined)
      throw new InputError({ file: COMMAND_LINE, key: `--${k}`, message: `--${k} is for identity read` });
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
  if (profile.identity?.central) {
    throw new InputError({
      ...profile.declaredAt.identityCentral,
      message: `identities come from the central pool ${profile.identity.central.pool}; see it with esp-station identity pool status --pool ${profile.identity.central.pool}`,
    });
  }
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

async function read(values: {
  port?: string;
  partition?: string;
  json?: boolean;
  out?: string;
  config?: string;
  profile?: string;
}): Promise<number> {
  if (!values.port)
    throw new InputError({ file: COMMAND_LINE, key: '--port', message: '--port is required' }, USAGE);
  const portProblem = await portArgumentProblem(values.port);
  if (portProblem) throw new InputError(portProblem);
  const label = values.partition ?? (await profilePartition(values)) ?? 'mfg_nvs';
  const abort = new AbortController();
  const onSigint = () => abort.abort(new Error('interrupted'));
  process.once('SIGINT', onSigint);
  try {
    const slot = await slotForPort(values.port);
    const { transport, loader } = await openLoader(values.port, {
      signal: abort.signal,
      ...(slot.vid && {
        usbVidPid: { vid: Number.parseInt(slot.vid, 16), pid: Number.parseInt(slot.pid, 16) },
      }),
    });
    try {
      const chip = await loader.identify(abort.signal);
      // READ_FLASH streams through the stub; the ROM's READ_FLASH_SLOW would take minutes for 112 KB.
      await loader.runStub(abort.signal);
      await loader.attachFlash(abort.signal);
      const got = await readPartitionFromBoard(loader, label, abort.signal);
      if (values.out) await writeFileAtomically(values.out, got.bytes);
      const decoded = decodePartition(got.bytes);
      const md5 = createHash('md5').update(got.bytes).digest('hex');
      const where = `${label} at 0x${got.entry.offset.toString(16)} (0x${got.entry.size.toString(16)} bytes, MD5 ${md5})`;
      if (values.json) {
        console.log(
          JSON.stringify(
            {
              port: values.port,
              mac: chip.mac,
              chip: chip.chip,
              partition: { label, offset: got.entry.offset, size: got.entry.size, md5 },
              ...decodedToJson(decoded, got.bytes.length),
            },
            null,
            2,
          ),
        );
      } else {
        console.log(`# ${chip.displayName} ${chip.mac}: ${where}`);
        process.stdout.write(formatNvsCsv(decoded.partition));
      }
      if (values.out) console.error(`wrote ${values.out}`);
      if (decoded.problems.length > 0) {
        for (const p of decoded.problems) console.error(`esp-station identity read: ${terminalSafe(p)}`);
        return 1;
      }
      return 0;
    } finally {
      loader.dispose();
      await transport.close();
    }
  } catch (e) {
    if (isEspError(e) || e instanceof DisconnectedError || e instanceof PartitionNotFound) {
      console.error(`FAIL: ${terminalSafe((e as Error).message)}`);
      return 1;
    }
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ECONNREFUSED') {
      console.error(`FAIL: cannot open ${values.port}: ${(e as Error).message}`);
      return 1;
    }
    throw e;
  } finally {
    process.off('SIGINT', onSigint);
  }
}

/** The profile's identity.partition when a profile (or config.yaml's) is at hand. */
async function profilePartition(values: { config?: string; profile?: string }): Promise<string | undefined> {
  const configFile = values.config ?? (existsSync('config.yaml') ? 'config.yaml' : undefined);
  const profilePath =
    values.profile ?? (configFile ? (await loadStationConfig(configFile)).profilePath : undefined);
  if (!profilePath) return undefined;
  return (await loadProfile(profilePath)).identity?.partition;
}
