/**
 * The bad input corpus: each entry breaks one thing in an otherwise good station (config.yaml, a profile, a
 * copy of the demo image set or of the real ESP-AT v3.4.0.0 release) and says where the CLI must point and
 * what it must say. bad-input.test.ts runs each through the real CLI.
 *
 * The good workspace (line numbers matter, the expectations name them):
 *   config.yaml   1 station: bad-input / 2 profile: profile.yaml / 3 ledger: / 4   dir: ledger
 *   profile.yaml  1 name / 2 chip: esp32 / 3 imageSet: / 4   flasherArgs: release/flasher_args.json /
 *                 5 flash: / 6   size: 4MB / 7 checks: / 8   expectChip: esp32
 *   release/      the demo ESP-AT image set (flasher_args.json: flash_files on lines 11-16; download.config:
 *                 regions on lines 4-9)
 */
import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Workspace {
  dir: string;
  config: string;
  profile: string;
  release: string;
  /** A copy of the real ESP-AT v3.4.0.0 release (made on demand). */
  realRelease(): string;
  /** socket:// of a TCP server that counts connections: a bad input must never open it. */
  trapPort: string;
  ledgerFile: string;
}

export interface BadInput {
  name: string;
  setup?(w: Workspace): void;
  /** CLI arguments; default: the station as an operator starts it, on the trap port, with a ledger file. */
  args?(w: Workspace): string[];
  /** Where: a regex over stderr, e.g. /profile\.yaml:9:\d+/ (file:line:column when the input has lines). */
  where: RegExp | ((w: Workspace) => RegExp);
  /** What to change: a regex the message must match. */
  says: RegExp;
}

export const runArgs = (w: Workspace, config = w.config): string[] => [
  'run',
  '--headless',
  '--config',
  config,
  '--port',
  w.trapPort,
  '--ledger',
  w.ledgerFile,
];

const write = (file: string, text: string): void => writeFileSync(file, text);
const add = (file: string, text: string): void => appendFileSync(file, text);
const edit = (file: string, fn: (s: string) => string): void =>
  writeFileSync(file, fn(readFileSync(file, 'utf8')));
const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const at = (file: string, line: number): RegExp => new RegExp(`${escape(file)}:${line}:\\d+`);
/** Deterministic junk bytes (no ESP image magic at the start). */
function garbage(n: number, seed = 7): Buffer {
  const b = Buffer.alloc(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  b[0] = 0x5a;
  return b;
}
function fifo(path: string): void {
  rmSync(path, { force: true, recursive: true });
  execFileSync('mkfifo', [path]);
}
const useDownloadConfig = (w: Workspace): void =>
  edit(w.profile, (s) =>
    s.replace('flasherArgs: release/flasher_args.json', 'downloadConfig: release/download.config'),
  );
const fa = (w: Workspace): string => join(w.release, 'flasher_args.json');
const dc = (w: Workspace): string => join(w.release, 'download.config');

export const BAD_INPUTS: BadInput[] = [
  // ---- config.yaml -------------------------------------------------------------------------------------
  {
    name: 'config file missing',
    args: (w) => runArgs(w, join(w.dir, 'nope.yaml')),
    where: /nope\.yaml/,
    says: /not found/,
  },
  {
    name: 'config is a directory',
    setup: (w) => mkdirSync(join(w.dir, 'conf.d')),
    args: (w) => runArgs(w, join(w.dir, 'conf.d')),
    where: /conf\.d/,
    says: /director|not a (YAML )?file/i,
  },
  {
    name: 'config is a FIFO (nothing to read)',
    setup: (w) => fifo(join(w.dir, 'pipe.yaml')),
    args: (w) => runArgs(w, join(w.dir, 'pipe.yaml')),
    where: /pipe\.yaml/,
    says: /not a (regular |YAML )?file|FIFO|pipe/i,
  },
  {
    name: 'config YAML syntax error',
    setup: (w) => add(w.config, 'slots: [ { name: A1, usbPath: 1-1.1 }\n'),
    where: (w) => new RegExp(`${escape(w.config)}:\\d+:\\d+`),
    says: /YAML syntax/,
  },
  {
    name: 'config unknown key (typo)',
    setup: (w) => add(w.config, 'concurrancy: 4\n'),
    where: (w) => at(w.config, 5),
    says: /concurrancy.*(unknown|not allowed|allowed)|allowed keys/i,
  },
  {
    name: 'config station has the wrong type',
    setup: (w) => edit(w.config, (s) => s.replace('station: bad-input', 'station: [a, b]')),
    where: (w) => at(w.config, 1),
    says: /station/,
  },
  {
    name: 'config without profile',
    setup: (w) => edit(w.config, (s) => s.replace('profile: profile.yaml\n', '')),
    where: (w) => new RegExp(escape(w.config)),
    says: /profile/,
  },
  {
    name: 'config names a missing profile',
    setup: (w) => edit(w.config, (s) => s.replace('profile: profile.yaml', 'profile: stations/gone.yaml')),
    where: (w) => at(w.config, 2),
    says: /not found/,
  },
  {
    name: 'config duplicate slot names',
    setup: (w) =>
      add(w.config, 'slots:\n  - { name: A1, usbPath: 1-1.1 }\n  - { name: A1, usbPath: 1-1.2 }\n'),
    where: (w) => at(w.config, 7),
    says: /duplicate|twice|already/i,
  },
  {
    name: 'config duplicate slot USB paths',
    setup: (w) =>
      add(w.config, 'slots:\n  - { name: A1, usbPath: 1-1.1 }\n  - { name: A2, usbPath: 1-1.1 }\n'),
    where: (w) => at(w.config, 7),
    says: /duplicate|twice|already/i,
  },
  {
    name: 'config slot USB path malformed',
    setup: (w) => add(w.config, 'slots:\n  - { name: A1, usbPath: usb3 }\n'),
    where: (w) => at(w.config, 6),
    says: /usbPath|port path/i,
  },
  {
    name: 'config concurrency negative',
    setup: (w) => add(w.config, 'concurrency: -1\n'),
    where: (w) => at(w.config, 5),
    says: /concurrency/,
  },
  {
    name: 'config baud not allowed',
    setup: (w) => add(w.config, 'baudLadder: [921600, 12345]\n'),
    where: (w) => at(w.config, 5),
    says: /12345|baud/i,
  },
  {
    name: 'config port filter not VID:PID',
    setup: (w) => add(w.config, "portFilters: ['zzzz:ea60']\n"),
    where: (w) => at(w.config, 5),
    says: /vvvv:pppp/,
  },
  {
    name: 'config ledger rotation unknown',
    setup: (w) => edit(w.config, (s) => s.replace('  dir: ledger', '  dir: ledger\n  rotate: weekly')),
    where: (w) => at(w.config, 5),
    says: /weekly|day|size/,
  },
  {
    name: 'config detection mode unknown',
    setup: (w) => add(w.config, 'detection: magic\n'),
    where: (w) => at(w.config, 5),
    says: /auto|hotplug|polling/,
  },
  {
    name: 'config duplicate key',
    setup: (w) => add(w.config, 'station: other\n'),
    where: (w) => new RegExp(`${escape(w.config)}:\\d+:\\d+`),
    says: /station|duplicate|unique/i,
  },
  {
    name: 'config empty',
    setup: (w) => write(w.config, ''),
    where: (w) => new RegExp(escape(w.config)),
    says: /station|profile|empty/i,
  },
  {
    name: 'config binary garbage',
    setup: (w) => writeFileSync(w.config, garbage(300)),
    where: (w) => new RegExp(escape(w.config)),
    says: /YAML/,
  },
  // ---- profile -----------------------------------------------------------------------------------------
  {
    name: 'profile unknown chip',
    setup: (w) => edit(w.profile, (s) => s.replace('chip: esp32', 'chip: esp33')),
    where: (w) => at(w.profile, 2),
    says: /esp33|esp32s3|chip/,
  },
  {
    name: 'profile expectChip differs from chip',
    setup: (w) => edit(w.profile, (s) => s.replace('expectChip: esp32', 'expectChip: esp32s3')),
    where: (w) => at(w.profile, 8),
    says: /expectChip|esp32s3/,
  },
  {
    name: 'profile two image set sources',
    setup: (w) => edit(w.profile, (s) => s.replace('imageSet:\n', 'imageSet:\n  folder: release\n')),
    where: (w) => new RegExp(`${escape(w.profile)}:[34]:\\d+`),
    says: /one of|exactly one|only one/i,
  },
  {
    name: 'profile flash mode unknown',
    setup: (w) => edit(w.profile, (s) => s.replace('  size: 4MB', '  size: 4MB\n  mode: qqq')),
    where: (w) => at(w.profile, 7),
    says: /qqq|qio|dio/,
  },
  {
    name: 'profile flash size not a size',
    setup: (w) => edit(w.profile, (s) => s.replace('size: 4MB', 'size: 3MB')),
    where: (w) => at(w.profile, 6),
    says: /3MB|4MB|size/,
  },
  {
    name: 'profile image set bigger than the flash',
    setup: (w) => edit(w.profile, (s) => s.replace('size: 4MB', 'size: 1MB')),
    where: (w) => new RegExp(`${escape(w.profile)}:6:\\d+|flasher_args\\.json:\\d+:\\d+`),
    says: /fit|beyond|exceed|too (big|large|small)|1MB/i,
  },
  {
    name: 'profile retry count negative',
    setup: (w) => add(w.profile, 'retry:\n  regionRetries: -1\n'),
    where: (w) => at(w.profile, 10),
    says: /regionRetries|>=|at least|non-?negative/i,
  },
  {
    name: 'profile boot check timeout has the wrong type',
    setup: (w) => add(w.profile, 'bootCheck:\n  expect: [at param mode]\n  timeoutMs: soon\n'),
    where: (w) => at(w.profile, 11),
    says: /timeoutMs|number/i,
  },
  {
    name: 'profile demo image set without demo: true',
    setup: (w) => edit(w.profile, (s) => s.replace('flasherArgs: release/flasher_args.json', 'demo: esp-at')),
    where: (w) => new RegExp(`${escape(w.profile)}:\\d+:\\d+`),
    says: /demo/,
  },
  {
    name: 'profile YAML tab indentation',
    setup: (w) => add(w.profile, 'retry:\n\tregionRetries: 1\n'),
    where: (w) => new RegExp(`${escape(w.profile)}:\\d+:\\d+`),
    says: /Tabs are not allowed/,
  },
  {
    name: 'profile image set file missing',
    setup: (w) => edit(w.profile, (s) => s.replace('release/flasher_args.json', 'release/missing.json')),
    where: (w) => new RegExp(`${escape(w.profile)}:[34]:\\d+`),
    says: /missing\.json not found/,
  },
  // ---- flasher_args.json -------------------------------------------------------------------------------
  {
    name: 'flasher_args.json syntax error',
    setup: (w) =>
      edit(fa(w), (s) =>
        s.replace(
          '"0x8000" : "partition_table/partition-table.bin"',
          '"0x8000" : "partition_table/partition-table.bin",',
        ),
      ),
    where: () => /flasher_args\.json:1[67]:\d+/,
    says: /not valid JSON/,
  },
  {
    name: 'flasher_args.json offset not 4 KB aligned',
    setup: (w) => edit(fa(w), (s) => s.replace('"0x21000" :', '"0x21100" :')),
    where: () => /flasher_args\.json:15:\d+/,
    says: /align|0x1000|4 ?KB/i,
  },
  {
    name: 'flasher_args.json overlapping regions',
    setup: (w) => edit(fa(w), (s) => s.replace('"0x100000" :', '"0x30000" :')),
    where: () => /flasher_args\.json:1[35]:\d+/,
    says: /overlap/i,
  },
  {
    name: 'flasher_args.json same offset twice',
    setup: (w) => edit(fa(w), (s) => s.replace('"0x21000" :', '"0x20000" :')),
    where: () => /flasher_args\.json:15:\d+/,
    says: /given twice/,
  },
  {
    name: 'flasher_args.json names a missing file',
    setup: (w) => rmSync(join(w.release, 'ota_data_initial.bin')),
    where: () => /flasher_args\.json:12:\d+/,
    says: /ota_data_initial\.bin.*(not found|missing)|(not found|missing).*ota_data_initial\.bin/i,
  },
  {
    name: 'flasher_args.json names a directory as an image',
    setup: (w) =>
      edit(fa(w), (s) => s.replace('"0x1000" : "bootloader/bootloader.bin"', '"0x1000" : "bootloader"')),
    where: () => /flasher_args\.json:11:\d+/,
    says: /director|not a file/i,
  },
  {
    name: 'flasher_args.json image is a FIFO',
    setup: (w) => fifo(join(w.release, 'ota_data_initial.bin')),
    where: () => /flasher_args\.json:12:\d+/,
    says: /not a (regular )?file|FIFO|pipe|readable/i,
  },
  {
    name: 'flasher_args.json flash mode unknown',
    setup: (w) => {
      edit(w.profile, (s) => s.replace('flash:\n  size: 4MB\n', ''));
      edit(fa(w), (s) => s.replace('"flash_mode": "dio"', '"flash_mode": "xyz"'));
    },
    where: () => /flasher_args\.json:\d+:\d+/,
    says: /xyz|dio|qio/,
  },
  {
    name: 'flasher_args.json flash_files has the wrong type',
    setup: (w) => write(fa(w), '{\n  "flash_files": ["bootloader/bootloader.bin"]\n}\n'),
    where: () => /flasher_args\.json:2:\d+/,
    says: /flash_files|object/,
  },
  {
    name: 'flasher_args.json empty',
    setup: (w) => write(fa(w), ''),
    where: () => /flasher_args\.json/,
    says: /not valid JSON/,
  },
  // ---- download.config ---------------------------------------------------------------------------------
  {
    name: 'download.config unknown flash mode',
    setup: (w) => {
      useDownloadConfig(w);
      edit(w.profile, (s) => s.replace('flash:\n  size: 4MB\n', ''));
      edit(dc(w), (s) => s.replace('--flash_mode dio', '--flash_mode zzz'));
    },
    where: () => /download\.config:1:\d+/,
    says: /zzz|dio|qio/,
  },
  {
    name: 'download.config offset without a file',
    setup: (w) => {
      useDownloadConfig(w);
      edit(dc(w), (s) => s.replace('0x10000 ota_data_initial.bin', '0x10000'));
    },
    where: () => /download\.config:\d+:\d+/,
    says: /file|pair|offset/i,
  },
  {
    name: 'download.config offset not a number',
    setup: (w) => {
      useDownloadConfig(w);
      edit(dc(w), (s) => s.replace('0x10000 ota_data_initial.bin', '0xZZ ota_data_initial.bin'));
    },
    where: () => /download\.config:6:\d+/,
    says: /0xZZ|offset|address/i,
  },
  {
    name: 'download.config names a missing file',
    setup: (w) => {
      useDownloadConfig(w);
      rmSync(join(w.release, 'at_customize.bin'));
    },
    where: () => /download\.config:8:\d+/,
    says: /at_customize\.bin/,
  },
  // ---- images and partition tables --------------------------------------------------------------------
  {
    name: 'bootloader truncated',
    setup: (w) => {
      const f = join(w.release, 'bootloader/bootloader.bin');
      writeFileSync(f, readFileSync(f).subarray(0, 100));
    },
    where: () => /flasher_args\.json:11:\d+/,
    says: /bootloader/,
  },
  {
    name: 'bootloader empty',
    setup: (w) => write(join(w.release, 'bootloader/bootloader.bin'), ''),
    where: () => /flasher_args\.json:11:\d+/,
    says: /bootloader/,
  },
  {
    name: 'app is garbage',
    setup: (w) => writeFileSync(join(w.release, 'esp-at.bin'), garbage(200_000)),
    where: () => /flasher_args\.json:13:\d+/,
    says: /esp-at\.bin|app/,
  },
  {
    name: 'app built for another chip',
    setup: (w) => {
      const f = join(w.release, 'esp-at.bin');
      const b = readFileSync(f);
      b.writeUInt16LE(9, 12); // extended header chip id: ESP32-S3
      writeFileSync(f, b);
    },
    where: () => /flasher_args\.json:13:\d+/,
    says: /chip|ESP32-S3|esp32s3/i,
  },
  {
    name: 'app too big for its partition',
    setup: (w) => {
      const f = join(w.release, 'esp-at.bin');
      const b = readFileSync(f);
      writeFileSync(f, Buffer.concat([b, Buffer.alloc(0x100000, 0xff)]));
    },
    where: () => /flasher_args\.json:13:\d+/,
    says: /partition|fit|too (big|large)/i,
  },
  {
    name: 'partition table garbage',
    setup: (w) => writeFileSync(join(w.release, 'partition_table/partition-table.bin'), garbage(3072)),
    where: () => /flasher_args\.json:16:\d+/,
    says: /partition/i,
  },
  {
    name: 'partition table MD5 line wrong',
    setup: (w) => {
      const f = join(w.release, 'partition_table/partition-table.bin');
      const b = readFileSync(f);
      b[0x1c] ^= 0x01; // a byte of the first entry's label
      writeFileSync(f, b);
    },
    where: () => /flasher_args\.json:16:\d+/,
    says: /MD5|checksum/i,
  },
  {
    name: 'partition table truncated',
    setup: (w) => {
      const f = join(w.release, 'partition_table/partition-table.bin');
      writeFileSync(f, readFileSync(f).subarray(0, 10));
    },
    where: () => /flasher_args\.json:16:\d+/,
    says: /partition/i,
  },
  {
    name: 'merged image is garbage',
    setup: (w) => {
      writeFileSync(join(w.dir, 'factory.bin'), garbage(64 * 1024));
      edit(w.profile, (s) => s.replace('flasherArgs: release/flasher_args.json', 'merged: factory.bin'));
    },
    where: (w) => new RegExp(`${escape(w.profile)}:4:\\d+|factory\\.bin`),
    says: /factory\.bin|image|magic|bootloader/i,
  },
  {
    name: 'real ESP-AT release with its app missing',
    setup: (w) => {
      rmSync(join(w.realRelease(), 'esp-at.bin'));
      edit(w.profile, (s) => s.replace('release/flasher_args.json', 'real/flasher_args.json'));
    },
    where: () => /real\/flasher_args\.json:\d+:\d+/,
    says: /esp-at\.bin/,
  },
  {
    name: 'real ESP-AT release with a corrupt bootloader',
    setup: (w) => {
      const f = join(w.realRelease(), 'bootloader/bootloader.bin');
      const b = readFileSync(f);
      b[0] = 0x00; // image magic 0xE9 gone
      writeFileSync(f, b);
      edit(w.profile, (s) => s.replace('release/flasher_args.json', 'real/flasher_args.json'));
    },
    where: () => /real\/flasher_args\.json:\d+:\d+/,
    says: /bootloader|magic/i,
  },
  // ---- command line ------------------------------------------------------------------------------------
  {
    name: 'run --simulate not a number',
    args: (w) => [
      ...runArgs(w).filter((a, i, all) => a !== '--port' && all[i - 1] !== '--port'),
      '--simulate',
      'many',
    ],
    where: /<command line>/,
    says: /--simulate.*many/,
  },
  {
    name: 'run --port not a socket URL',
    args: (w) => [...runArgs(w), '--port', 'http://10.0.0.5'],
    where: /<command line>/,
    says: /socket:\/\/HOST:PORT/,
  },
  {
    name: 'run unknown option',
    args: (w) => [...runArgs(w), '--turbo'],
    where: /<command line>/,
    says: /turbo/,
  },
  {
    name: 'run --ledger is a directory',
    setup: (w) => mkdirSync(join(w.dir, 'ledger-dir')),
    args: (w) => [...runArgs(w).slice(0, -2), '--ledger', join(w.dir, 'ledger-dir')],
    where: /<command line>: --ledger/,
    says: /ledger-dir is not a regular file/,
  },
  {
    name: 'check --chip unknown',
    args: (w) => ['check', '--firmware', w.release, '--chip', 'esp99'],
    where: /<command line>/,
    says: /esp99/,
  },
  {
    name: 'check --profile and --firmware together',
    args: (w) => ['check', '--profile', w.profile, '--firmware', w.release],
    where: /<command line>/,
    says: /--profile|--firmware/,
  },
  {
    name: 'flash without --port',
    args: (w) => ['flash', '--profile', w.profile],
    where: /<command line>/,
    says: /--port/,
  },
  {
    name: 'flash --baud not a rate',
    args: (w) => ['flash', '--port', w.trapPort, '--profile', w.profile, '--baud', 'fast'],
    where: /<command line>/,
    says: /fast|baud/,
  },
  {
    name: 'flash with a broken profile',
    setup: (w) => edit(w.profile, (s) => s.replace('chip: esp32', 'chip: 32')),
    args: (w) => ['flash', '--port', w.trapPort, '--profile', w.profile],
    where: (w) => at(w.profile, 2),
    says: /chip/,
  },
  {
    name: 'flash OFFSET=PATH with a missing file',
    args: (w) => ['flash', '--port', w.trapPort, `0x1000=${join(w.dir, 'nothing.bin')}`],
    where: /<command line>: 0x1000=/,
    says: /nothing\.bin: not found/,
  },
  {
    name: 'flash OFFSET=PATH is a FIFO',
    setup: (w) => fifo(join(w.dir, 'pipe.bin')),
    args: (w) => ['flash', '--port', w.trapPort, `0x10000=${join(w.dir, 'pipe.bin')}`],
    where: /<command line>: 0x10000=/,
    says: /not a regular file/,
  },
  {
    name: 'config ledger dir is a file',
    setup: (w) => write(join(w.dir, 'ledger-file'), 'not a directory\n'),
    args: (w) => {
      edit(w.config, (s) => s.replace('  dir: ledger', '  dir: ledger-file'));
      return runArgs(w).slice(0, -2);
    },
    where: (w) => new RegExp(`${escape(w.config)}: ledger\\.dir`),
    says: /not a directory/,
  },
];
