/** Ordering and ratios shared by the report tables: Pareto rows, most frequent keys, stable text order. */
import type { GroupRow, ParetoRow } from './yield-report.ts';

export interface Counts {
  attempts: number;
  passed: number;
}

export function ratio(n: number, d: number): number | null {
  return d > 0 ? n / d : null;
}

export function group(key: string, c: Counts): GroupRow {
  return {
    key,
    attempts: c.attempts,
    passed: c.passed,
    failed: c.attempts - c.passed,
    yield: ratio(c.passed, c.attempts),
  };
}

export function groups(map: Map<string, Counts>): GroupRow[] {
  return [...map.entries()].sort((x, y) => compareText(x[0], y[0])).map(([k, c]) => group(k, c));
}

/** Most frequent first; ties in key order so output is stable. */
export function pareto(map: Map<string, number>, total: number): ParetoRow[] {
  let running = 0;
  return [...map.entries()]
    .sort((x, y) => y[1] - x[1] || compareText(x[0], y[0]))
    .map(([key, n]) => {
      running += n;
      return { key, count: n, share: n / total, cumulative: running / total };
    });
}

/** The `limit` most frequent keys (ties in key order), and how many occurrences the rest had. */
export function mostFrequent(
  map: Map<string, number>,
  limit: number,
): { messages: Map<string, number>; dropped: number } {
  if (map.size <= limit) return { messages: map, dropped: 0 };
  const sorted = [...map.entries()].sort((x, y) => y[1] - x[1] || compareText(x[0], y[0]));
  return {
    messages: new Map(sorted.slice(0, limit)),
    dropped: sorted.slice(limit).reduce((s, [, n]) => s + n, 0),
  };
}

export function topKey(map: Map<string, number>): string | null {
  let best: string | null = null;
  let bestN = 0;
  for (const [k, n] of map)
    if (n > bestN || (n === bestN && best !== null && k < best)) [best, bestN] = [k, n];
  return best;
}

export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
