import { readFile } from 'node:fs/promises';
import { formatProblems, InputError } from '../config/problems.ts';
import { terminalSafe } from '../text/terminal-safe.ts';

/** Each subcommand lives in src/cli/commands/<name>.ts and exports `run(argv): Promise<number>`. */
const COMMANDS: Record<string, string> = {
  run: 'the station: detect boards, flash them in parallel, record every attempt (UI or --headless)',
  flash: 'flash one board headless: esp-station flash --port <tty|socket://host:port> ...',
  info: 'print chip, revision, MAC, flash id and size, security state of one board',
  check: 'validate config, profile and image set; print the flash map',
  report: 'yield reports from the ledger (text, csv, json, html)',
  sim: 'serve simulated boards over TCP (socket://), one or --boards N',
  identity:
    'identity pool (free, reserved, committed, burned serials); identity read --port P (mfg_nvs read back)',
  nvs: 'NVS partitions (mfg_nvs.bin) to CSV or JSON and back: nvs decode FILE.bin, nvs generate IN.csv OUT.bin',
  db: 'the central PostgreSQL database: migrate, status',
  ledger: 'ledger tools: ship existing ledgers to the central database',
};

export const EXIT = { pass: 0, boardFailed: 1, badInput: 2 } as const;

/** The version in package.json: one place states it. */
async function packageVersion(): Promise<string> {
  const text = await readFile(new URL('../../package.json', import.meta.url), 'utf8');
  return (JSON.parse(text) as { version: string }).version;
}

export function usage(): string {
  const lines = ['usage: esp-station <command> [options]', '       esp-station --version', '', 'commands:'];
  for (const [name, text] of Object.entries(COMMANDS)) lines.push(`  ${name.padEnd(8)} ${text}`);
  lines.push('', 'Run `esp-station <command> --help` for the options of one command.');
  return lines.join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === '--version' || name === '-V' || name === 'version') {
    console.log(`esp-station ${await packageVersion()}`);
    return EXIT.pass;
  }
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return name ? EXIT.pass : EXIT.badInput;
  }
  if (!(name in COMMANDS)) {
    console.error(`esp-station: unknown command '${name}'\n\n${usage()}`);
    return EXIT.badInput;
  }
  try {
    const mod = (await import(`./commands/${name}.ts`)) as { run(argv: string[]): Promise<number> };
    return await mod.run(rest);
  } catch (err) {
    if (err instanceof InputError) {
      console.error(formatProblems(err.problems));
      if (err.footer) console.error(err.footer);
      return EXIT.badInput;
    }
    // Anything else is a bug in esp-station, not bad input: say so plainly, keep the detail.
    console.error(
      `esp-station ${name}: internal error: ${terminalSafe((err as Error)?.message ?? String(err))}`,
    );
    if (process.env.ESP_STATION_DEBUG) console.error((err as Error)?.stack);
    return EXIT.boardFailed;
  }
}
