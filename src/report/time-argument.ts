/**
 * --since/--until values: an ISO date (`2026-11-23`, UTC midnight), an ISO date-time (`2026-11-23T14:00`,
 * UTC unless it carries an offset), or a duration back from now (`90m`, `12h`, `7d`).
 */
const RELATIVE = /^(\d+(?:\.\d+)?)(m|h|d)$/;
const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;
const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/i;

/** Returns the instant as ISO, or undefined when the text is not a time this accepts. */
export function parseTimeArgument(text: string, now: Date): string | undefined {
  const t = text.trim();
  const rel = RELATIVE.exec(t);
  if (rel) {
    const ms = now.getTime() - Number(rel[1]) * UNIT_MS[rel[2] as keyof typeof UNIT_MS];
    // Further back than a Date can hold (e.g. 99999999999d) is not a time.
    return Number.isFinite(ms) && Math.abs(ms) <= 8.64e15 ? new Date(ms).toISOString() : undefined;
  }
  let iso: string;
  if (ISO_DATE.test(t)) iso = `${t}T00:00:00Z`;
  else if (ISO_DATE_TIME.test(t)) {
    iso = t.replace(' ', 'T');
    if (!/(Z|[+-]\d{2}:?\d{2})$/i.test(iso)) iso += 'Z';
  } else return undefined;
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
}
