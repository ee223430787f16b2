/**
 * The real CLI as child processes for the reliability tests: `esp-station sim` serving boards over TCP (they
 * outlive the station) and `esp-station run` / `check` / `flash` as an operator or a script would call them.
 * Only argument arrays, never a shell.
 */
import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { join } from 'node:path';
import { REPO } from './station-rig.ts';

export const CLI = join(REPO, 'bin/esp-station.mjs');

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs `esp-station ARGS` to the end (killed after `limitMs`: a hang is a failure, not a wait). */
export function runCli(args: string[], opts: { cwd?: string; limitMs?: number } = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [CLI, ...args], { cwd: opts.cwd ?? REPO });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    p.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const kill = setTimeout(() => p.kill('SIGKILL'), opts.limitMs ?? 60_000);
    p.on('close', (code, signal) => {
      clearTimeout(kill);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** A long-running child with its stdout split into lines as they come. */
export interface LiveChild {
  proc: ChildProcessWithoutNullStreams;
  lines: string[];
  /** Resolves with the first line (seen so far or later) that satisfies `match`. */
  waitForLine(match: (line: string) => boolean, limitMs?: number): Promise<string>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr(): string;
}

export function startCli(
  args: string[],
  opts: { cwd?: string; onLine?: (line: string) => void } = {},
): LiveChild {
  const proc = spawn(process.execPath, [CLI, ...args], { cwd: opts.cwd ?? REPO });
  const lines: string[] = [];
  const waiters = new Set<{ match: (l: string) => boolean; resolve: (l: string) => void }>();
  let partial = '';
  let err = '';
  proc.stdout.on('data', (c: Buffer) => {
    const parts = (partial + c.toString()).split('\n');
    partial = parts.pop() ?? '';
    for (const line of parts) {
      lines.push(line);
      opts.onLine?.(line);
      for (const w of waiters) {
        if (w.match(line)) {
          waiters.delete(w);
          w.resolve(line);
        }
      }
    }
  });
  proc.stderr.on('data', (c: Buffer) => (err += c.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.on('close', (code, signal) => resolve({ code, signal })),
  );
  return {
    proc,
    lines,
    exited,
    stderr: () => err,
    waitForLine(match, limitMs = 60_000) {
      const seen = lines.find(match);
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const w = {
          match,
          resolve: (l: string) => {
            clearTimeout(timer);
            resolve(l);
          },
        };
        const timer = setTimeout(() => {
          waiters.delete(w);
          reject(new Error(`no matching line within ${limitMs} ms; stderr: ${err.slice(-2000)}`));
        }, limitMs);
        waiters.add(w);
        void exited.then(() => {
          if (!waiters.has(w)) return;
          waiters.delete(w);
          clearTimeout(timer);
          reject(new Error(`the process exited before a matching line; stderr: ${err.slice(-2000)}`));
        });
      });
    },
  };
}

/** Stops a child we started (by its own handle) and waits for it to go. */
export async function stopChild(child: LiveChild, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.proc.exitCode !== null || child.proc.signalCode !== null) return;
  child.proc.kill(signal);
  const hard = setTimeout(() => child.proc.kill('SIGKILL'), 5000);
  await child.exited;
  clearTimeout(hard);
}

/**
 * The command that runs `cmd` as a station user who cannot write where its mode forbids: as root (CI), the same
 * uid without the capabilities that let root write and read anywhere (it still owns and reads the checkout, which
 * may sit in a 0700 temp folder that another user could not enter); otherwise unchanged.
 */
export function withoutRootOverride(cmd: string, args: string[]): [string, string[]] {
  if (process.getuid?.() !== 0) return [cmd, args];
  const caps = '-dac_override,-dac_read_search,-fowner';
  return ['setpriv', [`--bounding-set=${caps}`, `--inh-caps=${caps}`, '--', cmd, ...args]];
}
