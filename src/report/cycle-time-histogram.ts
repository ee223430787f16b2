/**
 * Percentiles of attempt durations in bounded memory: values are kept to 3 significant digits (±0.05 %),
 * so a million attempts cost a few thousand buckets instead of a million numbers. The maximum is exact.
 */
export interface CycleTimeState {
  buckets: Array<[number, number]>;
  total: number;
  max: number;
}

export class CycleTimeHistogram {
  private readonly buckets = new Map<number, number>();
  private total = 0;
  private maxValue = 0;

  add(ms: number): void {
    const key = roundTo3Significant(ms);
    this.buckets.set(key, (this.buckets.get(key) ?? 0) + 1);
    this.total++;
    if (ms > this.maxValue) this.maxValue = ms;
  }

  get count(): number {
    return this.total;
  }

  get max(): number | undefined {
    return this.total > 0 ? this.maxValue : undefined;
  }

  /** Plain data for another thread; merge() adds it to a histogram there. */
  toState(): CycleTimeState {
    return { buckets: [...this.buckets], total: this.total, max: this.maxValue };
  }

  merge(state: CycleTimeState): void {
    for (const [key, n] of state.buckets) this.buckets.set(key, (this.buckets.get(key) ?? 0) + n);
    this.total += state.total;
    if (state.max > this.maxValue) this.maxValue = state.max;
  }

  /** Nearest-rank percentile: the smallest value with at least p % of the samples at or below it. */
  percentile(p: number): number | undefined {
    if (this.total === 0) return undefined;
    const rank = Math.max(1, Math.ceil((p / 100) * this.total));
    let seen = 0;
    for (const key of [...this.buckets.keys()].sort((a, b) => a - b)) {
      seen += this.buckets.get(key) ?? 0;
      if (seen >= rank) return key;
    }
    return this.maxValue;
  }
}

function roundTo3Significant(x: number): number {
  if (x <= 0 || !Number.isFinite(x)) return 0;
  const scale = 10 ** (Math.floor(Math.log10(x)) - 2);
  return Math.round(x / scale) * scale;
}
