/**
 * `esp-station flash`: flash one board headless. The image set comes from a station profile, an image-set
 * path (flasher_args.json / download.config / release folder) or OFFSET=PATH pairs; it is checked and
 * prepared before the board is touched. Exit 0 PASS, 1 board or link failed, 2 bad input.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadProfile } from '../../config/profile.ts';
import { InputError, type Problem } from '../../config/problems.ts';
import { CHIP_NAMES, chipByName, type ChipFacts } from '../../esp/chips/index.ts';
import { isEspError } from '../../esp/errors.ts';
import { formatFlashSize } from '../../esp/flash-size.ts';
import { formatKeyValues, identityLines } from '../../esp/identity-text.ts';
import { openLoader } from '../../esp/link-options.ts';
import type { EspLoader } from '../../esp/loader.ts';
import { writeRegions, type RegionProgress, type RegionResult } from '../../esp/write-regions.ts';
import { imageSetFromPath } from '../../firmware/image-set-source.ts';
import { labelFromFile, type ImageSet } from '../../firmware/image-set.ts';
import { padTo4, zlibLevel9 } from '../../firmware/prepared.ts';
import type { ChipName } from '../../esp/chips/index.ts';
import type { FlashRegion } from '../../esp/write-regions.ts';
import { readFile, stat } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import {
  effectiveFlashSettings,
  inspectImageSet,
  loadProfileFirmware,
} from '../../firmware/profile-firmware.ts';
import { DisconnectedError } from '../../serial/link-errors.ts';

const USAGE = `usage: esp-station flash --port <tty | socket://host:port>
         (--profile stations/x.yaml | --firmware <flasher_args.json | download.config | folder> | OFFSET=PATH ...)
         [--chip CHIP] [--baud N] [--no-stub] [--no-compress] [--skip-unchanged] [--after hard-reset|no-reset]

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
}

const CLI = '<command line>';

function bad(message: string, key?: string): InputError {
  return new InputError({ file: CLI, key, message });
}

function parseFlashArgs(argv: string[]): FlashArgs | 'help' {
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
        help: { type: 'boolean', short: 'h' },
      },
      allowPositionals: true,
      strict: true,
    });
  } catch (err) {
    throw bad(`${(err as Error).message}\n${USAGE}`);
  }
  const v = parsed.values;
  if (v.help) return 'help';
  const problems: Problem[] = [];
  const push = (message: string, key?: string) => problems.push({ file: CLI, key, message });
  if (!v.port) push('--port is required', '--port');
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
  if (problems.length) throw new InputError(problems);
  return {
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
  };
}

/** Firmware that does not depend on the board: everything but a --firmware / pairs set without a chip. */
async function prepareFor(
  args: FlashArgs,
  chip: ChipFacts | undefined,
  set?: ImageSet,
): Promise<FlashPlan | undefined> {
  if (args.profile) {
    const profile = await loadProfile(args.profile);
    if (args.chip && chipByName(profile.chip)?.name !== args.chip.name) {
      throw bad(`--chip ${args.chip.name} contradicts the profile's chip ${profile.chip}`, '--chip');
    }
    const fw = await loadProfileFirmware(profile);
    return {
      chip: fw.chip,
      regions: fw.regions,
      regionsFor: (n) => fw.regionsFor(n),
      requiredFlashBytes: fw.requiredFlashBytes,
      policy: {
        stub: profile.stub,
        skipUnchanged: profile.skipUnchanged,
        allowSecureBoot: profile.checks.allowSecureBoot,
        allowFlashEncryption: profile.checks.allowFlashEncryption,
        eraseAll: profile.checks.erase === 'all',
      },
    };
  }
  if (!set) return undefined;
  const useChip = chip ?? (set.chip ? chipByName(set.chip) : undefined);
  if (!useChip) return undefined;
  const r = await inspectImageSet(set, useChip, effectiveFlashSettings({ flash: {} }, set), {
    profileName: args.firmware ? path.basename(args.firmware) : 'command line',
  });
  if (!r.prepared) throw new InputError(r.problems);
  return r.prepared;
}

function kib(bytes: number): string {
  return `${(bytes / 1024).toFixed(1)} KiB`;
}

function progressPrinter(): { update(p: RegionProgress): void; done(r: RegionResult): void } {
  const tty = process.stdout.isTTY;
  let last = 0;
  return {
    update(p) {
      if (!tty) return;
      const now = Date.now();
      if (now - last < 100 && p.done < p.total) return;
      last = now;
      const pct = p.total ? Math.floor((100 * p.done) / p.total) : 100;
      const all = p.overall ? `, overall ${Math.floor((100 * p.overall.done) / p.overall.total)}%` : '';
      process.stdout.write(
        `\rWriting ${p.label} @0x${p.offset.toString(16)} ... ${String(pct).padStart(3)}% (${kib(p.bytesPerSecond)}/s${all})   `,
      );
    },
    done(r) {
      const what = r.skipped
        ? 'unchanged, skipped'
        : `${r.size} bytes in ${r.seconds.toFixed(2)} s, MD5 verified`;
      process.stdout.write(
        `${tty ? '\r' : ''}Wrote ${r.label} @0x${r.offset.toString(16)}: ${what}${' '.repeat(10)}\n`,
      );
    },
  };
}

function summaryTable(results: readonly RegionResult[]): string {
  const head = ['region', 'offset', 'bytes', 'MD5 (verified on chip)', 'seconds', 'retries'];
  const rows = results.map((r) => [
    r.label,
    `0x${r.offset.toString(16).padStart(5, '0')}`,
    String(r.size),
    `${r.md5Chip}${r.skipped ? ' (unchanged)' : ''}`,
    r.seconds.toFixed(2),
    String(r.retries),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  return [head, ...rows]
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i]))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

async function flashBoard(
  loader: EspLoader,
  args: FlashArgs,
  prepared: FlashPlan,
  signal: AbortSignal,
): Promise<RegionResult[]> {
  const id = await loader.identify(signal);
  console.log(formatKeyValues([['Port', args.port], ...identityLines(id)]));
  if (prepared.chip !== undefined && id.chip !== prepared.chip) {
    throw new BoardMismatch(`the firmware is for ${prepared.chip} but the board is ${id.displayName}`);
  }
  const flashBytes = id.flashSizeBytes;
  if (flashBytes !== undefined && prepared.requiredFlashBytes > flashBytes) {
    throw new BoardMismatch(
      `the firmware needs ${formatFlashSize(prepared.requiredFlashBytes)} of flash but the board has ${formatFlashSize(flashBytes)}`,
    );
  }
  const policy = prepared.policy;
  // Writing plaintext over a board with security features on bricks it or is refused by the chip.
  if (id.secureBoot && !policy?.allowSecureBoot) {
    throw new BoardMismatch(
      'secure boot is enabled on this board; only a profile with checks.allowSecureBoot may flash it',
    );
  }
  if (id.flashEncryption && !policy?.allowFlashEncryption) {
    throw new BoardMismatch(
      'flash encryption is enabled on this board; only a profile with checks.allowFlashEncryption may flash it',
    );
  }
  const regions = flashBytes !== undefined ? prepared.regionsFor(flashBytes) : prepared.regions;
  if (args.stub && (policy?.stub ?? true)) await loader.runStub(signal);
  const baud = await loader.changeBaud(args.baud, signal, {
    rawTcp: args.baudExplicit ? 'change' : 'keep',
  });
  await loader.attachFlash(signal);
  if (flashBytes !== undefined) await loader.spiSetParams(flashBytes, signal);
  console.log(`Loader: ${loader.isStub ? 'stub' : 'ROM'} at ${baud} baud`);
  if (policy?.eraseAll) {
    console.log('Erasing the whole flash (profile checks.erase: all) ...');
    await loader.eraseFlash(signal);
  }
  const printer = progressPrinter();
  const results = await writeRegions(loader, regions, {
    signal,
    compress: args.compress,
    skipUnchanged: args.skipUnchanged || (policy?.skipUnchanged ?? false),
    onProgress: (p) => printer.update(p),
    onRegionDone: (r) => printer.done(r),
  });
  if (args.hardReset) await loader.hardReset(signal);
  return results;
}

class BoardMismatch extends Error {}

/** What flashBoard needs; src/firmware's FlashPlan satisfies it. */
interface FlashPlan {
  chip?: ChipName;
  regions: readonly FlashRegion[];
  regionsFor(flashSizeBytes: number): readonly FlashRegion[];
  requiredFlashBytes: number;
  /** From a station profile; command-line flags can only make it stricter or slower (--no-stub). */
  policy?: {
    stub: boolean;
    skipUnchanged: boolean;
    allowSecureBoot: boolean;
    allowFlashEncryption: boolean;
    eraseAll: boolean;
  };
}

/**
 * OFFSET=PATH files are written as given, like esptool write_flash: padded to 4 bytes, no image checks and
 * no header patching (there are no flash settings to apply).
 */
async function rawFilesPlan(pairs: { offset: number; file: string }[]): Promise<FlashPlan> {
  const regions: FlashRegion[] = [];
  const problems: Problem[] = [];
  for (const p of [...pairs].sort((a, b) => a.offset - b.offset)) {
    const key = `0x${p.offset.toString(16)}=${p.file}`;
    // A FIFO or device would block the read forever: only regular files are images.
    const st = await stat(p.file).catch(() => undefined);
    if (!st || !st.isFile()) {
      problems.push({
        file: CLI,
        key,
        message: `cannot read ${p.file}: ${st ? 'not a regular file' : 'not found'}; give the path of an image file`,
      });
      continue;
    }
    const bytes = await readFile(p.file).catch((e: NodeJS.ErrnoException) => {
      problems.push({ file: CLI, key, message: `cannot read ${p.file}: ${e.code ?? e.message}` });
      return undefined;
    });
    if (!bytes) continue;
    const data = padTo4(new Uint8Array(bytes));
    regions.push({
      offset: p.offset,
      label: labelFromFile(p.file),
      data,
      compressed: zlibLevel9(data),
      md5: createHash('md5').update(data).digest('hex'),
    });
  }
  for (let i = 1; i < regions.length; i++) {
    const prev = regions[i - 1];
    if (prev.offset + prev.data.length > regions[i].offset) {
      problems.push({
        file: CLI,
        message: `${prev.label} @0x${prev.offset.toString(16)} overlaps ${regions[i].label} @0x${regions[i].offset.toString(16)}`,
      });
    }
  }
  if (problems.length) throw new InputError(problems);
  const end = Math.max(0, ...regions.map((r) => r.offset + r.data.length));
  return { regions, regionsFor: () => regions, requiredFlashBytes: end };
}

export async function run(argv: string[]): Promise<number> {
  const args = parseFlashArgs(argv);
  if (args === 'help') {
    console.log(USAGE);
    return 0;
  }
  const set = args.firmware ? await imageSetFromPath(args.firmware) : undefined;
  if (args.chip && set?.chip && chipByName(set.chip)?.name !== args.chip.name) {
    throw bad(`--chip ${args.chip.name} contradicts the image set's chip ${set.chip}`, '--chip');
  }
  // Bad input is found before a board is touched, whenever the chip is known up front.
  let prepared = args.pairs.length
    ? { ...(await rawFilesPlan(args.pairs)), chip: args.chip?.name }
    : await prepareFor(args, args.chip, set);

  const abort = new AbortController();
  const onSigint = () => abort.abort(new Error('interrupted'));
  process.once('SIGINT', onSigint);
  const started = performance.now();
  try {
    const { transport, loader } = await openLoader(args.port, {
      signal: abort.signal,
      expectChip: prepared?.chip ?? args.chip?.name,
    });
    try {
      // --firmware / pairs without a named chip: prepare for the chip on the board.
      prepared ??= await prepareFor(args, loader.chip, set);
      if (!prepared) throw bad('cannot tell which chip the firmware is for; add --chip');
      const results = await flashBoard(loader, args, prepared, abort.signal);
      console.log('');
      console.log(summaryTable(results));
      const total = results.reduce((n, r) => n + (r.skipped ? 0 : r.size), 0);
      console.log(
        `\nPASS: ${results.length} region(s), ${total} bytes written and verified in ${((performance.now() - started) / 1000).toFixed(2)} s`,
      );
      return 0;
    } finally {
      loader.dispose();
      await transport.close();
    }
  } catch (e) {
    if (isEspError(e) || e instanceof DisconnectedError || e instanceof BoardMismatch) {
      if (process.stdout.isTTY) process.stdout.write('\n');
      console.error(`FAIL: ${(e as Error).message}`);
      return 1;
    }
    throw e;
  } finally {
    process.off('SIGINT', onSigint);
  }
}
