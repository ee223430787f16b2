/**
 * The neighbourhood, part 3: what an operator types. Each mistake below once got "internal error", a raw
 * system error, a misleading sentence or — for `report --out` over the ledger — silently destroyed every
 * record. Each must now exit 2 with where the mistake is and what to give instead, and touch nothing.
 * The real CLI, several at a time.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeRecord } from '../ledger/record-builder.ts';
import { REAL_AT_DIR } from '../firmware/fixture-paths.ts';
import { CLI, runCli, withoutRootOverride } from './child-processes.ts';
import type { CliResult } from './child-processes.ts';
import { demoFirmware, DEMO_PROFILE, REPO } from './station-rig.ts';

interface Case {
  name: string;
  args: (dir: string) => string[];
  setup?: (dir: string) => void;
  /** Exit code (2 unless told). */
  code?: number;
  /** Must match the output (stdout alone when the exit code is 0). */
  says: RegExp;
  /** Must not appear anywhere in the output. */
  never?: RegExp;
  after?: (dir: string, r: CliResult) => void;
}

const LEDGER_TEXT = `${JSON.stringify(makeRecord({ mac: '24:0A:C4:00:00:01' }))}\n`;
const ledgerFile = (dir: string): string => join(dir, 'ledger.jsonl');
const withLedger = (dir: string): void => writeFileSync(ledgerFile(dir), LEDGER_TEXT);
const withLedgerDir = (dir: string): void => {
  mkdirSync(join(dir, 'var-ledger'));
  writeFileSync(join(dir, 'var-ledger', 'st-2026-11-23.jsonl'), LEDGER_TEXT);
};
const ledgerUntouched = (dir: string): void =>
  assert.equal(readFileSync(ledgerFile(dir), 'utf8'), LEDGER_TEXT, 'the ledger is untouched');
const ALIAS_BOMB = [
  'station: bomb',
  'profile: profile.yaml',
  'a: &a [x, x, x, x, x, x, x, x, x]',
  'b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]',
  'c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]',
  'd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]',
  'e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]',
  '',
].join('\n');
const INTERNAL = /internal error|\n\s+at /;
const DEMO_RELEASE = join(REPO, 'var/demo-firmware/esp-at');
/** A copy of the demo release in dir/release whose flasher_args.json text is changed by `edit`. */
const release =
  (edit: (text: string) => string) =>
  (dir: string): void => {
    cpSync(DEMO_RELEASE, join(dir, 'release'), { recursive: true });
    const file = join(dir, 'release', 'flasher_args.json');
    writeFileSync(file, edit(readFileSync(file, 'utf8')));
  };
const checkRelease = (d: string): string[] => [
  'check',
  '--firmware',
  join(d, 'release', 'flasher_args.json'),
];
const configWith = (lines: string) => (dir: string) => {
  copyFileSync(DEMO_PROFILE, join(dir, 'profile.yaml'));
  writeFileSync(join(dir, 'config.yaml'), `station: s\nprofile: profile.yaml\n${lines}`);
};
const checkConfig = (d: string): string[] => ['check', '--config', join(d, 'config.yaml')];

const CASES: Case[] = [
  // #19 item 2: report --out must never land on the ledger
  {
    name: 'report --out is the ledger file',
    setup: withLedger,
    args: (d) => ['report', '--ledger', ledgerFile(d), '--out', ledgerFile(d)],
    says: /<command line>: --out: .*is the ledger being read/,
    after: ledgerUntouched,
  },
  {
    name: 'report --out is the ledger file under another name (a symlink)',
    setup: (d) => {
      withLedger(d);
      symlinkSync(ledgerFile(d), join(d, 'report.txt'));
    },
    args: (d) => ['report', '--ledger', ledgerFile(d), '--out', join(d, 'report.txt')],
    says: /is the ledger being read/,
    after: ledgerUntouched,
  },
  {
    name: 'report --out lands in the ledger folder',
    setup: withLedgerDir,
    args: (d) => [
      'report',
      '--ledger',
      join(d, 'var-ledger'),
      '--format',
      'json',
      '--out',
      join(d, 'var-ledger', 'report.jsonl'),
    ],
    says: /--out: .*inside the ledger folder/,
    after: (d) => assert.ok(!existsSync(join(d, 'var-ledger', 'report.jsonl'))),
  },
  // #19 item 10: bad input that was "internal error"
  {
    name: 'report --out into a missing folder',
    setup: withLedger,
    args: (d) => ['report', '--ledger', ledgerFile(d), '--out', join(d, 'no', 'such', 'r.html')],
    says: /--out: the folder .*no\/such does not exist/,
  },
  {
    name: 'report --since further back than time goes',
    setup: withLedger,
    args: (d) => ['report', '--ledger', ledgerFile(d), '--since', '99999999999d'],
    says: /--since: '99999999999d' is not a time/,
  },
  {
    name: 'a YAML alias bomb in config.yaml',
    setup: (d) => writeFileSync(join(d, 'config.yaml'), ALIAS_BOMB),
    args: (d) => ['check', '--config', join(d, 'config.yaml')],
    says: /config\.yaml:4:\d+: YAML aliases expand too far/,
  },
  {
    name: 'flash --port socket:// with a port out of range',
    args: () => ['flash', '--port', 'socket://127.0.0.1:99999', '--profile', DEMO_PROFILE],
    says: /--port: 'socket:\/\/127\.0\.0\.1:99999': TCP port 99999 is out of range/,
  },
  {
    name: 'info --port socket:// without a port',
    args: () => ['info', '--port', 'socket://127.0.0.1'],
    says: /--port: 'socket:\/\/127\.0\.0\.1' is not socket:\/\/HOST:PORT/,
  },
  // #16 item 11: port mistakes
  {
    name: 'flash --port tcp:// where socket:// is meant',
    args: () => ['flash', '--port', 'tcp://127.0.0.1:5555', '--profile', DEMO_PROFILE],
    says: /is written socket:\/\/HOST:PORT; use socket:\/\/127\.0\.0\.1:5555/,
  },
  {
    name: 'run --port tcp:// where socket:// is meant',
    args: () => ['run', '--headless', '--port', 'tcp://127.0.0.1:5555'],
    says: /--port: 'tcp:\/\/127\.0\.0\.1:5555': .*use socket:\/\/127\.0\.0\.1:5555/,
  },
  {
    name: 'info --port /dev/tty0 (a console, not a serial port)',
    args: () => ['info', '--port', '/dev/tty0'],
    says: /--port: \/dev\/tty0 is not a serial port/,
  },
  {
    name: 'info --port of a tty that does not exist lists the serial ports there are',
    args: () => ['info', '--port', '/dev/ttyUSB97'],
    says: /\/dev\/ttyUSB97 does not exist\. (Serial ports here: |No USB serial ports are visible here)/,
  },
  // #16 item 12: an app image where a merged image or a release is meant
  {
    name: 'flash --firmware esp-at.bin (an application image)',
    args: () => ['flash', '--port', 'socket://127.0.0.1:9', '--firmware', join(REAL_AT_DIR, 'esp-at.bin')],
    says: /esp-at\.bin is an application image .*not a merged image.*--firmware .*ESP32-WROOM-32-AT-V3\.4\.0\.0/,
  },
  // #16 item 14: YAML syntax without a dangling colon; all problems of all stages at once
  {
    name: 'a YAML syntax error ends in a sentence, not a colon',
    setup: (d) => writeFileSync(join(d, 'config.yaml'), 'station: x\nprofile:\n  - a\n  b: c\n'),
    args: (d) => ['check', '--config', join(d, 'config.yaml')],
    says: /config\.yaml:4:\d+: YAML syntax: [^\n]*[a-z]\n/,
    never: /YAML syntax:[^\n]*:\n/,
  },
  {
    name: 'a duplicate slot does not hide a missing profile (run)',
    setup: (d) =>
      writeFileSync(
        join(d, 'config.yaml'),
        'station: x\nprofile: gone.yaml\nslots:\n  - { name: A1, usbPath: 1-1.1 }\n  - { name: A1, usbPath: 1-1.2 }\n',
      ),
    args: (d) => ['run', '--headless', '--config', join(d, 'config.yaml')],
    says: /2 problems found:\n.*config\.yaml:2:\d+: profile: .*gone\.yaml not found.*\n.*config\.yaml:5:\d+: slots\.1\.name/,
  },
  {
    name: 'a duplicate slot does not hide a bad image set in the profile (check)',
    setup: (d) => {
      writeFileSync(
        join(d, 'config.yaml'),
        'station: x\nprofile: p.yaml\nslots:\n  - { name: A1, usbPath: 1-1.1 }\n  - { name: A1, usbPath: 1-1.2 }\n',
      );
      writeFileSync(
        join(d, 'p.yaml'),
        'name: p\nchip: esp32\nimageSet:\n  flasherArgs: nowhere/flasher_args.json\n',
      );
    },
    args: (d) => ['check', '--config', join(d, 'config.yaml')],
    says: /slots\.1\.name[\s\S]*p\.yaml:4:\d+: imageSet\.flasherArgs: .*not found|p\.yaml:4:\d+: imageSet\.flasherArgs: .*not found[\s\S]*slots\.1\.name/,
  },
  // #16 item 13: the small things a new user looks for
  // #19 item 11: image-set and config input
  {
    name: 'an offset given twice, once as a \\u escape',
    setup: release((t) =>
      t.replace('"0x10000" :', '"\\u0030x1000" : "bootloader/bootloader.bin", "0x10000" :'),
    ),
    args: checkRelease,
    says: /flash_files\.0x1000: offset 0x1000 is given twice/,
  },
  {
    name: 'a second flash_files object',
    setup: release((t) =>
      t.replace('"flash_settings"', '"flash_files": { "0x9000": "esp-at.bin" },\n    "flash_settings"'),
    ),
    args: checkRelease,
    says: /flash_files is given twice/,
  },
  {
    name: 'an image path that leaves the release folder',
    setup: release((t) => t.replace('"ota_data_initial.bin"', '"../../../../../../etc/passwd"')),
    args: checkRelease,
    says: /\/etc\/passwd is outside the release folder/,
  },
  {
    name: 'a 1 GiB image is refused from its size, not read',
    setup: (d) => {
      release((t) => t.replace('"esp-at.bin"', '"huge.bin"'))(d);
      execFileSync('truncate', ['-s', '1G', join(d, 'release', 'huge.bin')]);
    },
    args: checkRelease,
    says: /huge\.bin: is 1024MB: .*more than any ESP flash/,
  },
  {
    name: 'flasher_args.json with 60,000 images is refused at once',
    setup: release((t) =>
      t.replace(
        '"flash_files" : {',
        `"flash_files" : {${Array.from({ length: 60_000 }, (_, i) => `"0x${(0x400000 + i * 0x1000).toString(16)}": "esp-at.bin",`).join('\n')}`,
      ),
    ),
    args: checkRelease,
    says: /flash_files lists 60006 images/,
  },
  {
    name: 'a byte order mark before flasher_args.json and config.yaml is not content',
    setup: (d) => {
      release((t) => `\uFEFF${t}`)(d);
      copyFileSync(DEMO_PROFILE, join(d, 'profile.yaml'));
      writeFileSync(join(d, 'config.yaml'), '\uFEFFstation: s\nprofile: profile.yaml\n');
    },
    args: checkRelease,
    code: 0,
    says: /^OK$/m,
  },
  {
    name: 'a baud ladder that climbs',
    setup: configWith('baudLadder: [115200, 921600]\n'),
    args: checkConfig,
    says: /config\.yaml:3:\d+: baudLadder\.1: .*list the rates fastest first/,
  },
  {
    name: 'a USB port path with a leading zero',
    setup: configWith('slots:\n  - { name: A1, usbPath: 1-1.01 }\n'),
    args: checkConfig,
    says: /slots\.0\.usbPath: a USB port path looks like/,
  },
  {
    name: 'slot names that differ only in case or a trailing space, or name another port',
    setup: configWith(
      'slots:\n  - { name: A1, usbPath: 1-1.1 }\n  - { name: "a1 ", usbPath: 1-1.2 }\n  - { name: 1-1.1, usbPath: 1-1.3 }\n',
    ),
    args: checkConfig,
    says: /spaces at its start or end[\s\S]*already used by slots\.0[\s\S]*is the USB port path of another slot/,
  },
  { name: '--version', args: () => ['--version'], code: 0, says: /^esp-station \d+\.\d+\.\d+\n$/ },
  { name: 'run --help lists --verbose', args: () => ['run', '--help'], code: 0, says: /--verbose/ },
  {
    name: 'top-level help: sim serves N boards',
    args: () => ['--help'],
    code: 0,
    says: /sim +serve simulated boards .*--boards N/,
  },
];

test('operator mistakes: exit 2, where and what to give instead, nothing touched', async (t) => {
  await demoFirmware();
  const root = mkdtempSync(join(tmpdir(), 'neighbourhood-input-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  // A few at a time: the suite shares two cores.
  const results: { c: Case; dir: string; r: CliResult }[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < CASES.length) {
      const i = next++;
      const c = CASES[i];
      const dir = join(root, `case-${i}`);
      mkdirSync(dir);
      c.setup?.(dir);
      results[i] = { c, dir, r: await runCli(c.args(dir), { cwd: dir, limitMs: 90_000 }) };
    }
  };
  await Promise.all(Array.from({ length: 4 }, worker));
  const wrong: string[] = [];
  for (const { c, dir, r } of results) {
    // check prints the problems of an image set with its flash map, on stdout; other problems go to stderr.
    const both = `${r.stdout}${r.stderr}`;
    const out = c.code === 0 ? r.stdout : both;
    if (r.code !== (c.code ?? 2)) wrong.push(`${c.name}: exit ${r.code}, expected ${c.code ?? 2}: ${both}`);
    else if (!c.says.test(out)) wrong.push(`${c.name}: does not say ${c.says}: ${both}`);
    else if (INTERNAL.test(both)) wrong.push(`${c.name}: internal error or stack trace: ${both}`);
    else if (c.never?.test(both)) wrong.push(`${c.name}: says ${c.never}: ${both}`);
    else {
      try {
        c.after?.(dir, r);
      } catch (err) {
        wrong.push(`${c.name}: ${(err as Error).message}`);
      }
    }
  }
  assert.deepEqual(wrong, []);
});

test('flash --profile of a demo profile says DEMO FIRMWARE before it touches the board', async () => {
  await demoFirmware();
  const r = await runCli(['flash', '--port', 'socket://127.0.0.1:9', '--profile', DEMO_PROFILE]);
  assert.equal(r.code, 1); // nothing listens there: a link failure, after the warning
  assert.match(r.stderr, /DEMO FIRMWARE/);
  assert.ok(r.stderr.indexOf('DEMO FIRMWARE') < r.stderr.indexOf('FAIL'), r.stderr);
});

test('check names a ledger folder the station user cannot write', async (t) => {
  await demoFirmware();
  const dir = mkdtempSync(join(tmpdir(), 'neighbourhood-check-ro-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  copyFileSync(DEMO_PROFILE, join(dir, 'profile.yaml'));
  writeFileSync(join(dir, 'config.yaml'), 'station: ro\nprofile: profile.yaml\nledger:\n  dir: ledger\n');
  mkdirSync(join(dir, 'ledger'), { mode: 0o555 });
  chmodSync(dir, 0o755); // the station user reads the config
  // root writes anywhere: check runs without root's override, as the station user would.
  const [cmd, argv] = withoutRootOverride(process.execPath, [
    CLI,
    'check',
    '--config',
    join(dir, 'config.yaml'),
  ]);
  const r = await new Promise<{ code: number | null; out: string }>((resolve) => {
    const p = spawn(cmd, argv, { cwd: REPO });
    let out = '';
    p.stdout.on('data', (c: Buffer) => (out += c.toString()));
    p.stderr.on('data', (c: Buffer) => (out += c.toString()));
    p.on('close', (code) => resolve({ code, out }));
  });
  assert.equal(r.code, 2, r.out);
  assert.match(r.out, /config\.yaml: ledger\.dir: .*ledger is not writable for this user/);
});
