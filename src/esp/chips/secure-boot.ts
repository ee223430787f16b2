/**
 * Secure boot state from a chip's eFuses, as esptool's `get_secure_boot_enabled` reads it (§9.2): any of the
 * chip's secure boot fields set means on; a field with `fromRevision` counts only on chips of that revision or
 * later (ESP32 ABS_DONE_1, Secure Boot V2, from v3.0).
 */
import type { ChipFacts } from './chip.ts';

/** The secure boot version the eFuses enable, or undefined when secure boot is off. */
export async function secureBootFromFuses(
  chip: Pick<ChipFacts, 'secureBootFuses'>,
  revision: number,
  read: (addr: number) => Promise<number>,
): Promise<1 | 2 | undefined> {
  const words = new Map<number, number>();
  for (const fuse of chip.secureBootFuses ?? []) {
    if (fuse.fromRevision !== undefined && revision < fuse.fromRevision) continue;
    const word = words.get(fuse.addr) ?? (await read(fuse.addr));
    words.set(fuse.addr, word);
    if (((word >>> fuse.shift) & fuse.mask) !== 0) return fuse.version;
  }
  return undefined;
}

/** The newest secure boot version a chip of `revision` has (what GET_SECURITY_INFO's one flag bit means). */
export function newestSecureBoot(
  chip: Pick<ChipFacts, 'secureBootFuses'>,
  revision: number,
): 1 | 2 | undefined {
  const versions = (chip.secureBootFuses ?? [])
    .filter((f) => f.fromRevision === undefined || revision >= f.fromRevision)
    .map((f) => f.version);
  return versions.length > 0 ? (Math.max(...versions) as 1 | 2) : undefined;
}
