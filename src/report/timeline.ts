/**
 * Attempts over time, in 5-minute buckets of attempt end, so a report can choose bins that fit its window:
 * 5 minutes for a short run, hours for a shift, days for a month, aligned to the report's time zone. The UTC
 * hourly table (CSV and JSON) is made from the same buckets.
 */
import { zoneOffsetMs } from './figures.ts';
import { ratio } from './ranking.ts';
import type { Counts } from './ranking.ts';
import type { HourRow, TimelineRow } from './yield-report.ts';

export const BUCKET_MS = 5 * 60_000;
const HOUR_MS = 3_600_000;
/** Bin widths a report may use, in minutes; the narrowest that gives at most TARGET_BINS bins is chosen. */
const BIN_MINUTES = [5, 10, 15, 30, 60, 120, 180, 360, 720, 1440] as const;
const TARGET_BINS = 48;
/** Rows are filled with empty bins only up to this many (about a year of hours or days); beyond, busy ones. */
const MAX_FILLED = 24 * 366;

export type TimelineState = Array<[number, Counts]>;

export class Timeline {
  private readonly buckets = new Map<number, Counts>();

  add(endMs: number, pass: boolean): void {
    if (!Number.isFinite(endMs)) return;
    const key = Math.floor(endMs / BUCKET_MS) * BUCKET_MS;
    let c = this.buckets.get(key);
    if (!c) this.buckets.set(key, (c = { attempts: 0, passed: 0 }));
    c.attempts++;
    if (pass) c.passed++;
  }

  toState(): TimelineState {
    return [...this.buckets];
  }

  merge(state: TimelineState): void {
    for (const [k, c] of state) {
      const mine = this.buckets.get(k);
      if (mine) {
        mine.attempts += c.attempts;
        mine.passed += c.passed;
      } else this.buckets.set(k, { ...c });
    }
  }

  /** Attempts per UTC hour of attempt end; empty hours between busy ones are listed. */
  hourly(): HourRow[] {
    return rows(
      this.group((t) => Math.floor(t / HOUR_MS) * HOUR_MS),
      HOUR_MS,
    ).map((r) => ({
      hour: new Date(r.start).toISOString(),
      ...r.counts,
    }));
  }

  /** Bins that fit the window, aligned to local time in `timeZone`. */
  series(timeZone: string): { binMinutes: number; rows: TimelineRow[] } {
    const keys = [...this.buckets.keys()];
    if (keys.length === 0) return { binMinutes: 60, rows: [] };
    const span = Math.max(...keys) - Math.min(...keys) + BUCKET_MS;
    const binMinutes = BIN_MINUTES.find((m) => span / (m * 60_000) <= TARGET_BINS) ?? 1440;
    const binMs = binMinutes * 60_000;
    // A bin starts on a local boundary (local midnight, the local hour, a multiple of 5 minutes).
    const start = (t: number): number => {
      const off = zoneOffsetMs(t, timeZone);
      return Math.floor((t + off) / binMs) * binMs - off;
    };
    return {
      binMinutes,
      rows: rows(this.group(start), binMs).map((r) => ({
        start: new Date(r.start).toISOString(),
        ...r.counts,
      })),
    };
  }

  private group(binOf: (t: number) => number): Map<number, Counts> {
    const out = new Map<number, Counts>();
    for (const [t, c] of this.buckets) {
      const k = binOf(t);
      const g = out.get(k);
      if (g) {
        g.attempts += c.attempts;
        g.passed += c.passed;
      } else out.set(k, { ...c });
    }
    return out;
  }
}

function rows(
  bins: Map<number, Counts>,
  binMs: number,
): Array<{
  start: number;
  counts: { attempts: number; passed: number; failed: number; yield: number | null };
}> {
  if (bins.size === 0) return [];
  const keys = [...bins.keys()].sort((a, b) => a - b);
  const first = keys[0]!;
  const last = keys[keys.length - 1]!;
  // Steps of binMs from the first bin; a DST change shifts local boundaries by an hour, so snap to the nearest.
  const filled: number[] = [];
  if ((last - first) / binMs + 1 <= MAX_FILLED) {
    const byStep = new Map(keys.map((k) => [Math.round((k - first) / binMs), k]));
    const n = Math.round((last - first) / binMs) + 1;
    for (let s = 0; s < n; s++) filled.push(byStep.get(s) ?? first + s * binMs);
  }
  return (filled.length > 0 ? filled : keys).map((k) => {
    const c = bins.get(k) ?? { attempts: 0, passed: 0 };
    return {
      start: k,
      counts: {
        attempts: c.attempts,
        passed: c.passed,
        failed: c.attempts - c.passed,
        yield: ratio(c.passed, c.attempts),
      },
    };
  });
}
