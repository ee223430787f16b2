/** Small text formatters for the operator's screen: fixed widths so columns do not jump while values change. */

export function formatDuration(ms: number): string {
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  return `${m}m${String(Math.round(s - m * 60)).padStart(2, '0')}s`;
}

export function formatEta(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds)) return '--:--';
  const s = Math.max(0, Math.round(seconds));
  return `${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
}

/**
 * Rounded to 10 KB/s: steadier to read, and Ink caches the measured size of every distinct line it ever drew,
 * so fewer distinct values keep its caches from growing all shift long.
 */
export function formatKBps(bytesPerSecond: number): string {
  const kb = bytesPerSecond / 1024;
  return `${kb < 100 ? Math.round(kb) : Math.round(kb / 10) * 10} KB/s`;
}

export function formatPercent(fraction: number | undefined): string {
  if (fraction === undefined || !Number.isFinite(fraction)) return '—';
  return `${(fraction * 100).toFixed(1)}%`;
}

export function formatClock(time: number): string {
  const d = new Date(time);
  return [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
}

/** A bar of `width` cells; whole cells only, so it changes at most `width` times per region. */
export function progressBar(fraction: number, width: number): string {
  const f = Math.min(1, Math.max(0, fraction));
  const full = Math.round(f * width);
  return '#'.repeat(full) + '-'.repeat(Math.max(0, width - full));
}

export function truncate(s: string, width: number): string {
  if (width <= 0) return '';
  return s.length <= width ? s : `${s.slice(0, Math.max(0, width - 1))}…`;
}

export function shortFingerprint(fp: string): string {
  return fp.slice(0, 8);
}
