/** Human-readable lines for a chip identity (info / flash summaries). */
import type { ChipIdentity } from './loader.ts';
import { formatFlashSize } from './flash-size.ts';

/** esptool style: v3.1 for revision 301. */
export function formatRevision(rev: number): string {
  return `v${Math.floor(rev / 100)}.${rev % 100}`;
}

/** 'v3.1' or '3.1' → 301 (major*100+minor); undefined when the text is no revision. */
export function parseRevision(text: string): number | undefined {
  const m = /^v?(\d{1,2})\.(\d{1,2})$/i.exec(text.trim());
  return m ? Number(m[1]) * 100 + Number(m[2]) : undefined;
}

export function formatFlashId(flashId: number): string {
  const manufacturer = flashId & 0xff;
  const device = (((flashId >>> 8) & 0xff) << 8) | ((flashId >>> 16) & 0xff);
  return `manufacturer 0x${manufacturer.toString(16).padStart(2, '0')}, device 0x${device.toString(16).padStart(4, '0')}`;
}

/** What the identity lines show: a ChipIdentity, or the station's view of a board. */
export type IdentityForText = Pick<
  ChipIdentity,
  'displayName' | 'revision' | 'mac' | 'crystalMhz' | 'secureBoot' | 'flashEncryption'
> & { flashId?: number; flashSizeBytes?: number; secureDownloadMode?: boolean; secureBootVersion?: 1 | 2 };

export function identityLines(id: IdentityForText): [string, string][] {
  return [
    ['Chip', `${id.displayName} (revision ${formatRevision(id.revision)})`],
    ['MAC', id.mac],
    ...(id.crystalMhz !== undefined ? ([['Crystal', `${id.crystalMhz} MHz`]] as [string, string][]) : []),
    ['Flash ID', id.flashId === undefined ? 'unknown' : formatFlashId(id.flashId)],
    [
      'Flash size',
      id.flashSizeBytes === undefined
        ? 'unknown (no size for this flash id)'
        : formatFlashSize(id.flashSizeBytes),
    ],
    [
      'Secure boot',
      id.secureBoot ? `ENABLED${id.secureBootVersion ? ` (V${id.secureBootVersion})` : ''}` : 'disabled',
    ],
    ['Flash encryption', id.flashEncryption ? 'ENABLED' : 'disabled'],
    ...(id.secureDownloadMode ? ([['Secure download', 'ENABLED']] as [string, string][]) : []),
  ];
}

export function formatKeyValues(rows: readonly [string, string][]): string {
  const width = Math.max(...rows.map(([k]) => k.length)) + 1;
  return rows.map(([k, v]) => `${`${k}:`.padEnd(width + 1)}${v}`).join('\n');
}
