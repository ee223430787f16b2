/** How figures are written in every human-facing format, so text and HTML show the same strings. */

export function percent(x: number | null | undefined, digits = 1): string {
  return x === null || x === undefined ? '—' : `${(x * 100).toFixed(digits)} %`;
}

export function seconds(ms: number | null | undefined): string {
  return ms === null || ms === undefined ? '—' : `${(ms / 1000).toFixed(1)} s`;
}

export function decimal(x: number | null | undefined, digits = 1): string {
  return x === null || x === undefined ? '—' : x.toFixed(digits);
}

/** The zone a report's times are shown in unless told otherwise: this machine's (TZ). */
export const LOCAL_TIME_ZONE = Intl.DateTimeFormat().resolvedOptions().timeZone;

const formats = new Map<string, Intl.DateTimeFormat>();
function partsOf(ms: number, timeZone: string): Record<string, string> {
  let f = formats.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      timeZoneName: 'longOffset',
    });
    formats.set(timeZone, f);
  }
  return Object.fromEntries(f.formatToParts(ms).map((p) => [p.type, p.value]));
}

/** The zone's offset from UTC at that instant, in ms (+01:00 → 3 600 000). */
export function zoneOffsetMs(ms: number, timeZone: string): number {
  const m = /GMT([+-])(\d\d):(\d\d)/.exec(partsOf(ms, timeZone).timeZoneName ?? '');
  return m ? (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3])) * 60_000 : 0;
}

/** `+01:00`, or `Z` for UTC. */
function offsetText(ms: number, timeZone: string): string {
  const m = /GMT([+-]\d\d:\d\d)/.exec(partsOf(ms, timeZone).timeZoneName ?? '');
  return m && m[1] !== '+00:00' && m[1] !== '-00:00' ? m[1]! : 'Z';
}

/** ISO instant → local time with its offset: `2026-11-23 09:00:00+01:00`, or `2026-11-23 08:00:00Z` in UTC. */
export function instant(iso: string, timeZone = LOCAL_TIME_ZONE): string {
  const ms = Date.parse(iso);
  const p = partsOf(ms, timeZone);
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second}${offsetText(ms, timeZone)}`;
}

/** Start of a time bin → `2026-11-23 09:05` local (a day bin: `2026-11-23`). */
export function binLabel(iso: string, timeZone = LOCAL_TIME_ZONE, day = false): string {
  const p = partsOf(Date.parse(iso), timeZone);
  return day ? `${p.year}-${p.month}-${p.day}` : `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}`;
}

/** ISO hour start → `2026-11-23 08:00` (UTC hours, as the hourly CSV table is). */
export function hourLabel(iso: string): string {
  return iso.slice(0, 16).replace('T', ' ');
}

/** How a report names its zone: `UTC`, or `Europe/Berlin (UTC+01:00)` at the given instant. */
export function zoneName(timeZone: string, atIso: string): string {
  const off = offsetText(Date.parse(atIso), timeZone);
  return off === 'Z'
    ? /^(Etc\/)?(UTC|GMT|Universal|Zulu)$/.test(timeZone)
      ? 'UTC'
      : `${timeZone} (UTC)`
    : `${timeZone} (UTC${off})`;
}

/** Recipe fingerprints are SHA-256 hex; 12 characters identify one in a report. */
export function shortRecipe(recipe: string): string {
  return recipe.length > 12 ? recipe.slice(0, 12) : recipe;
}
