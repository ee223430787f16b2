/**
 * Which VID:PIDs count as a board's serial bridge. A station ignores keyboards, hubs and barcode scanners.
 */
export class VidPidFilter {
  private readonly allowed: ReadonlySet<string>;

  /** `ids` like ['10c4:ea60', '1a86:7523']; an empty list allows everything (useful for the simulator). */
  constructor(ids: readonly string[]) {
    this.allowed = new Set(ids.map(normaliseVidPid));
  }

  matches(vid: string, pid: string): boolean {
    return this.allowed.size === 0 || this.allowed.has(normaliseVidPid(`${vid}:${pid}`));
  }
}

export function normaliseVidPid(s: string): string {
  const m = /^\s*(?:0x)?([0-9a-f]{1,4})\s*:\s*(?:0x)?([0-9a-f]{1,4})\s*$/i.exec(s);
  if (!m) throw new Error(`not a VID:PID: '${s}' (expected e.g. 10c4:ea60)`);
  return `${m[1].toLowerCase().padStart(4, '0')}:${m[2].toLowerCase().padStart(4, '0')}`;
}
