/**
 * `npm run docs:captures`: the screen captures and the report screenshot in the docs, made from the real thing so
 * they cannot go stale silently. Runs `npm run demo`'s station (simulated boards, realistic timing) in tmux at
 * 80×24, 120×40 and 200×50, presses the keys an operator would, writes each `tmux capture-pane` to
 * docs/captures/*.txt, renders the run's ledger as the HTML report in headless Chromium (docs/captures/report.png),
 * and copies the captures into the marked blocks of README.md and docs/*.md (test/docs/captures.test.ts checks
 * that they match). Needs tmux and Debian's chromium (`.ci/setup-test-deps.sh`).
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { buildReport } from '../src/report/build-report.ts';
import { formatHtml } from '../src/report/format-html.ts';
import { screenshot } from '../test/report/chromium.ts';
import { embedCaptures } from './captures-embed.ts';

const REPO = resolve(import.meta.dirname, '..');
const OUT = join(REPO, 'docs/captures');
const SOCKET = `docs-captures-${process.pid}`;
const work = await mkdtemp(join(tmpdir(), 'docs-captures-'));

function tmux(...args: string[]): string {
  const r = spawnSync('tmux', ['-L', SOCKET, '-f', '/dev/null', ...args], { encoding: 'utf8' });
  if (r.error) throw new Error(`tmux: ${r.error.message} (install Debian's tmux)`);
  if (r.status !== 0) throw new Error(`tmux ${args[0]}: ${r.stderr.trim()}`);
  return r.stdout;
}

/** The shipped config.yaml with an operator and a lot, as on a real shift; `extra` appended (slots, layout). */
async function demoConfig(name: string, extra = ''): Promise<string> {
  const config = (await readFile(join(REPO, 'config.yaml'), 'utf8'))
    .replace(/^operator: .*$/m, "operator: 'A. Meier'")
    .replace(/^lot: .*$/m, "lot: 'LOT-2026-1123-A'")
    .replace(/^profile: (.*)$/m, (_m, p: string) => `profile: ${resolve(REPO, p.trim())}`)
    .replace(/^slots: \[\]$/m, extra ? '' : 'slots: []');
  const file = join(work, `${name}.yaml`);
  await writeFile(file, `${config}\n${extra}`);
  return file;
}

interface Session {
  name: string;
  ledger: string;
  capture(): string;
  keys(...keys: string[]): void;
  waitFor(what: string, check: (screen: string) => boolean, timeoutMs?: number): Promise<string>;
  save(file: string): Promise<void>;
  running(): boolean;
}

async function startDemo(name: string, columns: number, rows: number, config: string): Promise<Session> {
  const ledger = join(work, `${name}.jsonl`);
  // `env -u CI`: with CI set, Ink draws no live screen. The seed makes each run plug the same boards.
  const command = [
    'env -u CI',
    process.execPath,
    join(REPO, 'bin/esp-station.mjs'),
    'run',
    `--config ${config}`,
    '--simulate 12 --faults demo --seed 5',
    `--ledger ${ledger}`,
  ].join(' ');
  tmux('new-session', '-d', '-s', name, '-x', String(columns), '-y', String(rows), '-c', REPO, command);
  tmux('set-option', '-t', name, 'remain-on-exit', 'on');
  const capture = (): string =>
    tmux('capture-pane', '-p', '-t', name)
      .replace(/\s+$/, '')
      .split('\n')
      .map((l) => l.trimEnd())
      .join('\n');
  return {
    name,
    ledger,
    capture,
    keys: (...keys) => void tmux('send-keys', '-t', name, ...keys),
    async waitFor(what, check, timeoutMs = 120_000) {
      const start = Date.now();
      for (;;) {
        const screen = capture();
        if (check(screen)) return screen;
        if (Date.now() - start > timeoutMs)
          throw new Error(`${name}: no ${what} after ${timeoutMs} ms:\n${screen}`);
        await new Promise((r) => setTimeout(r, 250));
      }
    },
    async save(file) {
      // Let the frame settle (a key's redraw, the sampler's next tick) before taking it.
      await new Promise((r) => setTimeout(r, 400));
      await writeFile(join(OUT, file), `${capture()}\n`);
      console.log(`docs/captures/${file}`);
    },
    running: () => tmux('display-message', '-p', '-t', name, '#{pane_dead}').trim() === '0',
  };
}

/** Results so far, from the yield panel (the log may have scrolled away): `✔ 6 passed ✘ 2` or `✔6 ✘2`. */
const results = (s: string) => {
  const m = /✔ ?(\d+)(?: passed)? ✘ ?(\d+)/.exec(s);
  return m ? Number(m[1]) + Number(m[2]) : 0;
};
const busy = (s: string) => /\d+%|FLASHING|FLASH /.test(s);
/** A shift under way: a few results in the log and boards still writing. */
const underWay = (s: string) => results(s) >= 3 && busy(s);

async function at80x24(): Promise<void> {
  const s = await startDemo('demo-80x24', 80, 24, await demoConfig('demo'));
  await s.waitFor('results', underWay);
  await s.save('demo-80x24.txt');
  s.keys('?');
  await s.waitFor('help', (x) => x.includes('Keys'));
  await s.save('demo-80x24-help.txt');
  s.keys('Escape');
  await s.waitFor('grid again', (x) => x.includes('q quit'));
  s.keys('q');
  await s.waitFor('the quit question', (x) => x.includes('Stop the station?'));
  await s.save('demo-80x24-quit.txt');
  s.keys('y');
  await s.waitFor('stopping', (x) => /Stopping/.test(x), 10_000).catch(() => '');
  s.keys('C-c');
  await s.waitFor('the forced stop', (x) => /Stopping now|STOPPED/.test(x), 10_000).catch(() => '');
}

async function at120x40(): Promise<void> {
  const s = await startDemo('demo-120x40', 120, 40, await demoConfig('demo'));
  await s.waitFor('results', underWay);
  await s.save('demo-120x40.txt');
  s.keys('r');
  await s.waitFor('the yield summary', (x) => x.includes('Yield summary'));
  await s.save('demo-120x40-yield.txt');
  s.keys('Escape');
}

/** The whole demo at 200×50, to its end; its ledger becomes the report screenshot. */
async function at200x50(): Promise<string> {
  const s = await startDemo('demo-200x50', 200, 50, await demoConfig('demo'));
  await s.waitFor('results', underWay);
  await s.save('demo-200x50.txt');
  await s.waitFor('the end of the demo', (x) => x.includes('simulation done'), 300_000);
  await s.save('demo-200x50-done.txt');
  s.keys('q');
  await s.waitFor('the station to stop', (x) => x.includes('STOPPED') || !s.running(), 30_000);
  return s.ledger;
}

/** A fixture drawn as configured: two rows of four, one position left empty on purpose. */
async function fixture120x40(): Promise<void> {
  const slots = [1, 2].flatMap((hub) =>
    [1, 2, 3, 4].map((p) => `  - { name: ${'AB'[hub - 1]}${p}, usbPath: 1-${hub}.${p} }`),
  );
  const layout = ['layout:', '  - [A1, A2, A3, A4]', '  - [B1, B2, B3, B4]'];
  const s = await startDemo(
    'fixture-120x40',
    120,
    40,
    await demoConfig('fixture', ['slots:', ...slots, ...layout].join('\n')),
  );
  await s.waitFor('results', underWay);
  await s.save('fixture-120x40.txt');
}

try {
  const [ledger] = await Promise.all([at200x50(), at80x24(), at120x40(), fixture120x40()]);
  const { report } = await buildReport({ ledger });
  report.ledger.path = 'var/ledger (npm run demo)';
  const html = join(work, 'report.html');
  await writeFile(html, formatHtml(report));
  await screenshot(html, join(OUT, 'report.png'), 1280, 2400);
  console.log('docs/captures/report.png');
  const pages = [
    'README.md',
    ...(await readdir(join(REPO, 'docs'))).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`),
  ];
  for (const page of pages) {
    const text = await readFile(join(REPO, page), 'utf8');
    const updated = await embedCaptures(text, (name) => readFile(join(OUT, name), 'utf8'));
    if (updated !== text) {
      await writeFile(join(REPO, page), updated);
      console.log(`${page}: captures updated`);
    }
  }
} finally {
  spawnSync('tmux', ['-L', SOCKET, 'kill-server']);
  await rm(work, { recursive: true, force: true });
}
