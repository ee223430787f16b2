/**
 * Figure 2: N boards at once. The simulated boards run in their own process (`esp-station sim --boards N`,
 * realistic timing, served over TCP); the station is the real CLI in another process
 * (`esp-station run --port socket://... --port-follows-baud --headless --once`), so its CPU (utime + stime from
 * /proc/<pid>/stat) and memory (RSS from /proc/<pid>/status, sampled every 100 ms, and the kernel's VmHWM) are
 * the station's alone. CPU is counted from the moment the station reports 'running' (firmware prepared, ports
 * attached) to the last result, so it is the cost of flashing, not of starting Node.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { REPO_ROOT } from './image-sets.ts';

const CLK_TCK = 100;

export interface BatchResult {
  boards: number;
  passed: number;
  /** First attach to last result, s. */
  wallSeconds: number;
  /** Per-board flash times (connect to result), s. */
  boardSeconds: number[];
  /** Station process CPU over the batch, s. */
  cpuSeconds: number;
  /** Highest RSS seen while flashing, MB; and the kernel's high-water mark over the whole process, MB. */
  peakRssMb: number;
  hwmMb: number;
  /** What the simulator process spent, s of CPU (to show it was not the bottleneck). */
  simCpuSeconds: number;
  failures: string[];
  /** Mean seconds per phase over the batch's boards, from the station's own ledger. */
  phases: Record<string, number>;
}

/** Mean of each phase (ms in the ledger) over every record, in s. */
async function meanPhases(ledgerDir: string): Promise<Record<string, number>> {
  const sums: Record<string, number> = {};
  let n = 0;
  for (const f of await readdir(ledgerDir).catch(() => [] as string[])) {
    for (const line of (await readFile(path.join(ledgerDir, f), 'utf8')).split('\n')) {
      if (!line.trim()) continue;
      const rec = JSON.parse(line) as { phases?: Record<string, number> };
      n++;
      for (const [k, v] of Object.entries(rec.phases ?? {})) sums[k] = (sums[k] ?? 0) + v;
    }
  }
  return Object.fromEntries(Object.entries(sums).map(([k, v]) => [k, v / n / 1000]));
}

function cpuOf(pid: number): number {
  // Fields after the ")" of comm: state is field 3; utime 14, stime 15 (1-based over the whole line).
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(rest[11]) + Number(rest[12])) / CLK_TCK;
}

function statusKb(pid: number, key: 'VmRSS' | 'VmHWM'): number {
  const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : 0;
}

function cli(args: string[]): ChildProcess {
  return spawn(process.execPath, [path.join(REPO_ROOT, 'bin/esp-station.mjs'), ...args], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) resolve(child.exitCode);
    else child.once('exit', (code) => resolve(code));
  });
}

async function startSim(boards: number): Promise<{ child: ChildProcess; urls: string[] }> {
  const child = cli([
    'sim',
    '--listen',
    'tcp://127.0.0.1:0',
    '--boards',
    String(boards),
    '--timing',
    'realistic',
  ]);
  const urls: string[] = [];
  const lines = createInterface({ input: child.stdout! });
  await new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`esp-station sim exited (${code}) before listening`)));
    lines.on('line', (line) => {
      const m = /\((socket:\/\/[^)]+)\)/.exec(line);
      if (m) urls.push(m[1]);
      if (urls.length === boards) resolve();
    });
  });
  return { child, urls };
}

/** A station config + profile for the ESP-AT release, no boot check (TCP has no reset line). */
async function writeStationFiles(dir: string, flasherArgs: string): Promise<string> {
  await writeFile(
    path.join(dir, 'profile.yaml'),
    [
      'name: bench-esp-at',
      'chip: esp32',
      'imageSet:',
      `  flasherArgs: ${JSON.stringify(flasherArgs)}`,
      'checks:',
      '  expectChip: esp32',
      'retry:',
      '  regionRetries: 0',
      '  boardRetriesPerBaud: 0',
      'stub: true',
      '',
    ].join('\n'),
  );
  const config = path.join(dir, 'config.yaml');
  await writeFile(
    config,
    [
      'station: bench',
      'profile: profile.yaml',
      'baudLadder: [921600]',
      'ledger:',
      '  dir: ledger',
      'slots: []',
      '',
    ].join('\n'),
  );
  return config;
}

export async function runBatch(boards: number, flasherArgs: string): Promise<BatchResult> {
  const dir = await mkdtemp(path.join(tmpdir(), 'esp-bench-'));
  const sim = await startSim(boards);
  let station: ChildProcess | undefined;
  try {
    const config = await writeStationFiles(dir, flasherArgs);
    station = cli([
      'run',
      '--config',
      config,
      '--headless',
      '--once',
      '--port-follows-baud',
      ...sim.urls.flatMap((u) => ['--port', u]),
    ]);
    const pid = station.pid!;
    let stderr = '';
    station.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    let cpu0 = 0;
    let t0 = 0;
    let peakRss = 0;
    let sampler: NodeJS.Timeout | undefined;
    const boardSeconds: number[] = [];
    const failures: string[] = [];
    let passed = 0;
    const finished = new Promise<{ cpu: number; wall: number; hwm: number }>((resolve, reject) => {
      const lines = createInterface({ input: station!.stdout! });
      let results = 0;
      lines.on('line', (line) => {
        let e: { type?: string; state?: string; result?: string; durationMs?: number; message?: string };
        try {
          e = JSON.parse(line) as typeof e;
        } catch {
          return;
        }
        if (e.type === 'station' && e.state === 'running' && t0 === 0) {
          cpu0 = cpuOf(pid);
          t0 = performance.now();
          sampler = setInterval(() => {
            try {
              peakRss = Math.max(peakRss, statusKb(pid, 'VmRSS'));
            } catch {
              // the process is exiting
            }
          }, 100);
        }
        if (e.type === 'result') {
          results++;
          boardSeconds.push((e.durationMs ?? 0) / 1000);
          if (e.result === 'pass') passed++;
          else failures.push(e.message ?? 'failed');
          if (results === boards) {
            clearInterval(sampler);
            peakRss = Math.max(peakRss, statusKb(pid, 'VmRSS'));
            resolve({
              cpu: cpuOf(pid) - cpu0,
              wall: (performance.now() - t0) / 1000,
              hwm: statusKb(pid, 'VmHWM'),
            });
          }
        }
      });
      station!.once('exit', (code) => {
        clearInterval(sampler);
        reject(new Error(`station exited (${code}) before all results: ${stderr.slice(-500)}`));
      });
    });
    const r = await finished;
    await exited(station);
    const simCpu = cpuOf(sim.child.pid!);
    return {
      boards,
      passed,
      wallSeconds: r.wall,
      boardSeconds,
      cpuSeconds: r.cpu,
      peakRssMb: peakRss / 1024,
      hwmMb: r.hwm / 1024,
      simCpuSeconds: simCpu,
      failures,
      phases: await meanPhases(path.join(dir, 'ledger')),
    };
  } finally {
    if (station && station.exitCode === null) station.kill('SIGTERM');
    sim.child.kill('SIGTERM');
    await exited(sim.child);
    if (station) await exited(station);
    await rm(dir, { recursive: true, force: true });
  }
}
