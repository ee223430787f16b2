/**
 * `esp-station info --port <tty|socket://host:port>`: chip, revision, MAC, flash id and size, security state.
 * Exit 0 when the board answered, 1 when it did not, 2 for bad arguments.
 */
import { parseCommandArgs } from '../command-args.ts';
import { InputError } from '../../config/problems.ts';
import type { Problem } from '../../config/problems.ts';
import { portArgumentProblem } from '../port-argument.ts';
import { terminalSafe } from '../../text/terminal-safe.ts';
import { CHIP_NAMES, chipByName } from '../../esp/chips/index.ts';
import { isEspError } from '../../esp/errors.ts';
import { formatKeyValues, identityLines } from '../../esp/identity-text.ts';
import { openLoader } from '../../esp/link-options.ts';
import { DisconnectedError } from '../../serial/link-errors.ts';
import { slotForPort } from '../port-slot.ts';

const USAGE = `usage: esp-station info --port <tty | socket://host:port> [--chip CHIP] [--json]

Connects to one board in download mode and prints what it is.
  --port PORT   serial device (/dev/ttyUSB0) or raw TCP (socket://host:port, no reset lines)
  --chip CHIP   fail unless the board is this chip (${CHIP_NAMES.join(', ')})
  --json        print the identity as JSON
Exit 0 ok, 1 board or link failed, 2 bad input.`;

export async function run(argv: string[]): Promise<number> {
  const parsed = parseCommandArgs(
    {
      args: argv,
      options: {
        port: { type: 'string', short: 'p' },
        chip: { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    },
    USAGE,
  );
  if (!parsed) return 0;
  const { values } = parsed;
  if (!values.port)
    throw new InputError({ file: '<command line>', key: '--port', message: '--port is required' }, USAGE);
  const chip = values.chip === undefined ? undefined : chipByName(values.chip);
  const problems: Problem[] = [];
  const portProblem = await portArgumentProblem(values.port);
  if (portProblem) problems.push(portProblem);
  if (values.chip !== undefined && !chip) {
    problems.push({
      file: '<command line>',
      key: '--chip',
      message: `unknown chip '${values.chip}'; use one of ${CHIP_NAMES.join(', ')}`,
    });
  }
  if (problems.length > 0) throw new InputError(problems);

  const abort = new AbortController();
  const onSigint = () => abort.abort(new Error('interrupted'));
  process.once('SIGINT', onSigint);
  try {
    const slot = await slotForPort(values.port);
    const { transport, loader } = await openLoader(values.port, {
      signal: abort.signal,
      expectChip: chip?.name,
      ...(slot.vid && {
        usbVidPid: { vid: Number.parseInt(slot.vid, 16), pid: Number.parseInt(slot.pid, 16) },
      }),
    });
    try {
      const id = { ...(await loader.identify(abort.signal)), ...(await loader.detectFlash(abort.signal)) };
      if (values.json) console.log(JSON.stringify({ port: values.port, ...id }, null, 2));
      else console.log(formatKeyValues([['Port', values.port], ...identityLines(id)]));
      return 0;
    } finally {
      loader.dispose();
      await transport.close();
    }
  } catch (e) {
    if (isEspError(e) || e instanceof DisconnectedError) {
      console.error(`FAIL: ${terminalSafe((e as Error).message)}`);
      return 1;
    }
    if (
      (e as NodeJS.ErrnoException).code === 'ENOENT' ||
      (e as NodeJS.ErrnoException).code === 'ECONNREFUSED'
    ) {
      console.error(`FAIL: cannot open ${values.port}: ${(e as Error).message}`);
      return 1;
    }
    throw e;
  } finally {
    process.off('SIGINT', onSigint);
  }
}
