/**
 * `esp-station flash`: flash one board headless, through the station's own pipeline (the same checks, prepared
 * firmware, header-patch rule, erase option, reset choice by VID:PID and boot check as `esp-station run`).
 * This file only turns arguments into the pipeline's inputs and prints its events. The image set comes from a
 * station profile, an image-set path (flasher_args.json / download.config / release folder) or OFFSET=PATH
 * pairs; it is checked and prepared before the board is touched. Exit 0 PASS, 1 board or link failed,
 * 2 bad input.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { InputError, type Problem } from '../../config/problems.ts';
import { CHIP_NAMES, chipByName, type ChipFacts } from '../../esp/chips/index.ts';
import { imageSetFromPath } from '../../firmware/image-set-source.ts';
import { prepareRawImages } from '../../firmware/raw-images.ts';
import {
  effectiveFlashSettings,
  inspectImageSet,
  loadProfileFirmware,
} from '../../firmware/profile-firmware.ts';
import { EspBoardLink } from '../../station/esp-board-link.ts';
import { runPipeline, type PipelineFirmware, type PipelinePolicy } from '../../station/pipeline.ts';
import { flashPrinter } from '../flash-printer.ts';
import { slotForPort } from '../port-slot.ts';
import { portArgumentProblem } from '../port-argument.ts';
import { onStopRequest } from '../stop-requests.ts';
import { startDeflateFill } from '../../firmware/deflate-fill.ts';

const USAGE = `usage: esp-station flash --port <tty | socket://host:port>
         (--profile stations/x.yaml | --firmware <flasher_args.json | download.config | folder> | OFFSET=PATH ...)
         [--chip CHIP] [--baud N] [--no-stub] [--no-compress] [--skip-unchanged] [--after hard-reset|no-reset]
         [--at-port <tty | socket://host:port>] [--verbose]

Writes an image set to one board in download mode and verifies every region by the MD5 the chip computes.
  --port PORT        serial device (/dev/ttyUSB0) or raw TCP (socket://host:port; no reset lines, fixed baud)
  --profile FILE     a station profile (its image set, flash settings and chip)
  --firmware PATH    an ESP-IDF / ESP-AT build: flasher_args.json, download.config or a release folder
  OFFSET=PATH        explicit images, e.g. 0x1000=bootloader.bin 0x10000=app.bin
  --chip CHIP        expected chip (${CHIP_NAMES.join(', ')}); detected from the board when omitted
  --baud N           baud rate for writing (default 921600; connecting always runs at 115200). Over socket://
                     the link stays at its rate unless --baud is given (then the far end must follow the
                     chip, as the simulator does; a fixed-rate ser2net port would lose the board)
  --no-stub          talk to the ROM loader only (slower; 1 KiB blocks)
  --no-compress      send uncompressed data
  --skip-unchanged   skip regions whose flash MD5 already matches
  --after MODE       hard-reset (default) or no-reset after writing
  --at-port PORT     the board's AT port (ESP-AT's UART1: a dual bridge's second tty, or socket://); with a
                     profile that has a test: section, the board is tested there after the reset
  --verbose          the link's own lines on stderr (resets, the stub's start, a damaged block sent again)
Exit 0 PASS, 1 board or link failed, 2 bad input.`;

interface FlashArgs {
  port: string;
  profile?: string;
  firmware?: string;
  pairs: { offset: number; file: string }[];
  chip?: ChipFacts;
  baud: number;
  /** --baud given: over socket:// the chip's rate is changed too (the far end must follow it). */
  baudExplicit: boolean;
  stub: boolean;
  compress: boolean;
  skipUnchanged: boolean;
  hardReset: boolean;
  atPort?: string;
  verbose: boolean;
}

const CLI = '<command line>';

function bad(message: string, key?: string): InputError {
  return new InputError({ file: CLI, key, message });
}

async function parseFlashArgs(argv: string[]): Promise<FlashArgs | 'help'> {
  let parsed: ReturnType<
    typeof parseArgs<{
      options: {
        port: { type: 'string'; short: 'p' };
        profile: { type: 'string' };
        firmware: { type: 'string' };
        chip: { type: 'string' };
        baud: { type: 'string'; short: 'b' };
        'no-stub': { type: 'boolean' };
        'no-compress': { type: 'boolean' };
        'skip-unchanged': { type: 'boolean' };
        after: { type: 'string' };
        'at-port': { type: 'string' };
        verbose: { type: 'boolean'; short: 'v' };
        help: { type: 'boolean'; short: 'h' };
      };
      allowPositionals: true;
      strict: true;
    }>
  >;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        port: { type: 'string', short: 'p' },
        profile: { type: 'string' },
        firmware: { type: 'string' },
        chip: { type: 'string' },
        baud: { type: 'string', short: 'b' },
        'no-stub': { type: 'boolean' },
        'no-compress': { type: 'boolean' },
        'skip-unchanged': { type: 'boolean' },
        after: { type: 'string' },
        'at-port': { type: 'string' },
        verbose: { type: 'boolean', short: 'v' },
        help: { type: 'boolean', short: 'h' },
      },
      allowPositionals: true,
      strict: true,
    });
  } catch (err) {
    throw new InputError({ file: CLI, message: (err as Error).message }, USAGE);
  }
  const v = parsed.values;
  if (v.help) return 'help';
  const problems: Problem[] = [];
  const push = (message: string, key?: string) => problems.push({ file: CLI, key, message });
  if (!v.port) push('--port is required', '--port');
  else {
    // tcp:// for socket://, a tty that does not exist, /dev/tty0: answered before anything is opened.
    const portProblem = await portArgumentProblem(v.port);
    if (portProblem) problems.push(portProblem);
  }
  const pairs: { offset: number; file: string }[] = [];
  for (const p of parsed.positionals) {
    const m = /^(0x[0-9a-f]+|\d+)=(.+)$/i.exec(p);
    if (!m) {
      push(`'${p}' is not OFFSET=PATH (e.g. 0x10000=app.bin)`);
      continue;
    }
    pairs.push({ offset: Number(m[1]), file: m[2] });
  }
  const sources = [v.profile, v.firmware, pairs.length ? 'pairs' : undefined].filter(Boolean);
  if (sources.length === 0) push('give --profile, --firmware or OFFSET=PATH pairs');
  if (sources.length > 1) push('give only one of --profile, --firmware, OFFSET=PATH pairs');
  let chip: ChipFacts | undefined;
  if (v.chip !== undefined) {
    chip = chipByName(v.chip);
    if (!chip) push(`unknown chip '${v.chip}'; use one of ${CHIP_NAMES.join(', ')}`, '--chip');
  }
  let baud = 921600;
  if (v.baud !== undefined) {
    baud = Number(v.baud);
    if (!Number.isInteger(baud) || baud < 9600 || baud > 5_000_000) {
      push(`--baud ${v.baud} is not a baud rate between 9600 and 5000000`, '--baud');
    }
  }
  const after = v.after ?? 'hard-reset';
  if (after !== 'hard-reset' && after !== 'no-reset')
    push(`--after must be hard-reset or no-reset, not '${after}'`, '--after');
  if (v['at-port'] !== undefined && v['at-port'] === v.port)
    push('--at-port is the AT port (UART1), not the port the board is flashed through', '--at-port');
  if (problems.length) throw new InputError(problems);
  return {
    ...(v['at-port'] !== undefined && { atPort: v['at-port'] }),
    port: v.port!,
    profile: v.profile,
    firmware: v.firmware,
    pairs,
    chip,
    baud,
    baudExplicit: v.baud !== undefined,
    stub: !v['no-stub'],
    compress: !v['no-compress'],
    skipUnchanged: v['skip-unchanged'] ?? false,
    hardReset: after === 'hard-reset',
    verbose: v.verbose ?? false,
  };
}

/** What the command line sets for a run without a profile (a profile's own settings win where it has them). */
const COMMAND_LINE_POLICY = {
  allowSecureBoot: false,
  allowFlashEncryption: false,
  regionRetries: 2,
  boardRetriesPerBaud: 0,
  stub: true,
  skipUnchanged: false,
  eraseAll: false,
} as const;

/** The firmware and policy for this run, decided before the board is touched. */
async function plan(args: FlashArgs): Promise<{ firmware: PipelineFirmware; policy: PipelinePolicy }> {
  const overrides = {
    baudLadder: [args.baud],
    compress: args.compress,
    resetAfter: args.hardReset,
  };
  if (args.profile) {
    // Loaded only for a profile: its schema and the station's builder are most of the command's start-up time.
    const [{ loadProfile }, { policyFromProfile }] = await Promise.all([
      import('../../config/profile.ts'),
      import('../build-station.ts'),
    ]);
    const profile = await loadProfile(args.profile);
    if (args.chip && chipByName(profile.chip)?.name !== args.chip.name) {
      throw bad(`--chip ${args.chip.name} contradicts the profile's chip ${profile.chip}`, '--chip');
    }
    const firmware = await loadProfileFirmware(profile);
    if (firmware.demo) {
      process.stderr.write(
        `warning: profile ${profile.name} writes DEMO FIRMWARE (generated, not a release); do not ship this board\n`,
      );
    }
    const policy = policyFromProfile(profile, { baudLadder: [args.baud] }, firmware);
    return {
      firmware,
      policy: {
        ...policy,
        ...overrides,
        // The command line can only make a run slower or stricter than the profile.
        stub: policy.stub && args.stub,
        skipUnchanged: policy.skipUnchanged || args.skipUnchanged,
        // Without the reset the firmware never starts, so there is nothing to check.
        ...(!args.hardReset && { bootCheck: undefined, test: undefined }),
      },
    };
  }
  const commandLine: PipelinePolicy = {
    ...COMMAND_LINE_POLICY,
    ...overrides,
    ...(args.chip && { chip: args.chip.name }),
    stub: args.stub,
    skipUnchanged: args.skipUnchanged,
  };
  if (args.pairs.length) {
    return { firmware: await prepareRawImages(args.pairs, CLI, args.chip?.name), policy: commandLine };
  }
  const set = await imageSetFromPath(args.firmware!);
  if (args.chip && set.chip && chipByName(set.chip)?.name !== args.chip.name) {
    throw bad(`--chip ${args.chip.name} contradicts the image set's chip ${set.chip}`, '--chip');
  }
  const chip = args.chip ?? (set.chip ? chipByName(set.chip) : undefined);
  if (!chip) throw bad(`${args.firmware} does not say which chip it is for; add --chip`, '--chip');
  const r = await inspectImageSet(set, chip, effectiveFlashSettings({ flash: {} }, set), {
    profileName: path.basename(args.firmware!),
  });
  if (!r.prepared) throw new InputError(r.problems);
  return { firmware: r.prepared, policy: { ...commandLine, chip: chip.name } };
}

export async function run(argv: string[]): Promise<number> {
  const args = await parseFlashArgs(argv);
  if (args === 'help') {
    console.log(USAGE);
    return 0;
  }
  // Bad input is found before a board is touched.
  const { firmware, policy } = await plan(args);
  const slot = {
    ...(await slotForPort(args.port)),
    ...(args.atPort !== undefined && { atPort: args.atPort }),
  };
  const printer = flashPrinter({ port: args.port, stub: policy.stub, verbose: args.verbose });
  const abort = new AbortController();
  const onSigint = () => abort.abort(new Error('interrupted'));
  process.once('SIGINT', onSigint);
  process.once('SIGTERM', onSigint);
  // A closed output or a hang-up stops the write too: exit 0 only ever follows a verified write.
  const offStopRequest = onStopRequest((cause) => abort.abort(new Error(`stopped: ${cause}`)));
  // While this board is written with the streams prepared above, the set is packed for later runs
  // (deflate-fill.ts, a worker thread; none when every stream came from the cache); stopped when the board is
  // done, whatever it got to.
  const fill = policy.compress ? startDeflateFill(firmware.regions, { onlyMissing: true }) : undefined;
  const started = performance.now();
  try {
    const outcome = await runPipeline({
      slot,
      link: new EspBoardLink({ remoteFollowsBaud: args.baudExplicit }),
      policy,
      firmware,
      signal: abort.signal,
      publish: (e) => printer.onEvent(e),
      attemptNumberFor: () => 1,
      linkLog: args.verbose,
    });
    if (abort.signal.aborted && outcome.result !== 'pass') {
      // Ctrl+C, SIGTERM, a hang-up or a closed output stopped the board part-way: not written, not verified.
      process.stderr.write(
        `FAIL: ${(abort.signal.reason as Error).message}; the board was not (fully) written\n`,
      );
      return 1;
    }
    return printer.finish(outcome, (performance.now() - started) / 1000);
  } finally {
    fill?.stop();
    offStopRequest();
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigint);
  }
}
