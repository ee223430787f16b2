/**
 * What else the machine did during one timed conformance run. The emulated chip is a CPU-bound process, so a run's
 * seconds depend on the CPU it got: on a virtual machine the hypervisor's steal (time the host gave to other
 * guests) stretched the same run by ~1.4 % per point of steal, and any other process on this machine competes
 * with the emulator too. Two runs are compared only when both had like conditions.
 */
import { readFileSync } from 'node:fs';

/** Jiffies of the whole machine (all CPUs), from the first line of /proc/stat. */
export interface MachineTicks {
  total: number;
  idle: number;
  steal: number;
}

export function parseProcStat(text: string): MachineTicks {
  const line = text.split('\n').find((l) => l.startsWith('cpu '));
  if (!line) throw new Error('/proc/stat: no "cpu " line');
  // user nice system idle iowait irq softirq steal [guest guest_nice — already counted in user and nice]
  const f = line.trim().split(/\s+/).slice(1, 9).map(Number);
  if (f.length < 8 || f.some((n) => !Number.isFinite(n)))
    throw new Error(`/proc/stat: cannot read "${line}"`);
  const [user, nice, system, idle, iowait, irq, softirq, steal] = f as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  return { total: user + nice + system + idle + iowait + irq + softirq + steal, idle: idle + iowait, steal };
}

/**
 * CPU jiffies of one process from /proc/PID/stat: its own user and system time, plus those of the children it
 * has waited for (a tool this script ran, and the emulator once its lock holder reaped it).
 */
export function parsePidStat(text: string): number {
  // The command name (field 2) may hold spaces and parentheses: fields are counted after its last ')'.
  const rest = text
    .slice(text.lastIndexOf(')') + 2)
    .trim()
    .split(/\s+/);
  // rest[0] is field 3 (state): utime, stime, cutime, cstime are fields 14–17.
  const ticks = rest.slice(11, 15).map(Number);
  if (ticks.length < 4 || ticks.some((n) => !Number.isFinite(n)))
    throw new Error(`/proc/PID/stat: cannot read "${text.slice(0, 80)}"`);
  return ticks.reduce((a, b) => a + b, 0);
}

/** Shares of the machine's CPU time during a run, 0–1. */
export interface CpuShare {
  /** Taken by the hypervisor for other guests. */
  steal: number;
  /** Used by processes other than this script, the tools it ran and the emulator. */
  others: number;
}

export function cpuShare(before: MachineTicks, after: MachineTicks, ownTicks: number): CpuShare {
  const total = after.total - before.total;
  if (total <= 0) return { steal: 0, others: 0 };
  const busy = total - (after.idle - before.idle) - (after.steal - before.steal);
  return {
    steal: (after.steal - before.steal) / total,
    others: Math.max(0, busy - ownTicks) / total,
  };
}

/**
 * Starts counting. Call `finish` once every process the run started has ended and been waited for, so that
 * their CPU time is in this process's own figures.
 */
export function startCpuAccount(
  readMachine: () => string = () => readFileSync('/proc/stat', 'utf8'),
  readSelf: () => string = () => readFileSync('/proc/self/stat', 'utf8'),
): { finish(): CpuShare } {
  const machine0 = parseProcStat(readMachine());
  const own0 = parsePidStat(readSelf());
  return {
    finish: () => cpuShare(machine0, parseProcStat(readMachine()), parsePidStat(readSelf()) - own0),
  };
}

/**
 * Like conditions for a pair: each run had little steal and the two about the same, and nothing else on the
 * machine took a noticeable share. Between two runs at these limits the steal alone moves a ~20 s run by at
 * most ~0.8 s (~4 %), well inside the differences judged.
 */
export const LIKE_CONDITIONS = { stealEach: 0.15, stealApart: 0.03, othersEach: 0.05 } as const;

export function likeConditions(a: CpuShare, b: CpuShare): boolean {
  return (
    a.steal <= LIKE_CONDITIONS.stealEach &&
    b.steal <= LIKE_CONDITIONS.stealEach &&
    Math.abs(a.steal - b.steal) <= LIKE_CONDITIONS.stealApart &&
    a.others <= LIKE_CONDITIONS.othersEach &&
    b.others <= LIKE_CONDITIONS.othersEach
  );
}

export function describeShare(s: CpuShare): string {
  return `${Math.round(s.steal * 100)} / ${Math.round(s.others * 100)}`;
}
