/**
 * The flash map `esp-station check` prints: one row per region with offset, end, size, partition, file,
 * MD5, compressed size and the bootloader header fields the board will get.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import { formatByteSize, formatHex } from '../config/byte-size.ts';
import { partitionFor } from './flash-layout.ts';
import { partitionSubtypeName, partitionTypeName } from './partition-table.ts';
import type { StationProfile } from '../config/profile.ts';
import type { FirmwareInspection } from './profile-firmware.ts';
import { terminalSafe } from '../text/terminal-safe.ts';

interface Row {
  offset: string;
  end: string;
  size: string;
  partition: string;
  file: string;
  md5: string;
  compressed: string;
  header: string;
}

const COLUMNS: [keyof Row, string][] = [
  ['offset', 'offset'],
  ['end', 'end'],
  ['size', 'size'],
  ['partition', 'partition (type/subtype)'],
  ['file', 'file'],
  ['md5', 'md5'],
  ['compressed', 'compressed'],
  ['header', 'header'],
];

export function formatFlashMap(r: FirmwareInspection): string {
  const base = path.dirname(r.imageSet.sourceFile);
  const relFile = (f: string) => {
    const x = path.relative(base, f);
    return x.startsWith('..') ? f : x;
  };
  const partName = (p?: { label: string; type: number; subtype: number; size: number }) =>
    p
      ? `${p.label} (${partitionTypeName(p.type)}/${partitionSubtypeName(p.type, p.subtype)}, ${formatByteSize(p.size)})`
      : '-';
  const rows: Row[] = [];
  if (r.prepared) {
    for (const p of r.prepared.regions) {
      const h = p.header;
      rows.push({
        offset: formatHex(p.offset),
        end: formatHex(p.offset + p.data.length),
        size: String(p.data.length),
        partition: p.partition ? partName(p.partition) : p.label,
        file: relFile(p.file),
        md5: p.md5,
        compressed: `${p.compressed.length} (${Math.round((100 * p.compressed.length) / p.data.length)}%)`,
        header: h
          ? `${h.mode} ${h.freq} ${r.settings.size === 'detect' ? 'size per board (detect)' : h.size}${
              h.patched ? (h.shaUpdated ? ', patched, sha256 updated' : ', patched') : ''
            }`
          : '',
      });
    }
  } else {
    // Problems found: show what could be read, without the preparation columns.
    for (const l of r.check.loaded) {
      const p = partitionFor(r.check.tables, l.offset);
      rows.push({
        offset: formatHex(l.offset),
        end: formatHex(l.offset + l.data.length),
        size: String(l.data.length),
        partition: p ? partName(p) : l.label,
        file: relFile(l.file),
        md5: createHash('md5').update(l.data).digest('hex'),
        compressed: '-',
        header: '',
      });
    }
  }
  // File names and partition labels come from files: a newline or an escape sequence must not forge a row.
  for (const row of rows) for (const [k] of COLUMNS) row[k] = terminalSafe(row[k]);
  const widths = COLUMNS.map(([k, title]) => Math.max(title.length, ...rows.map((row) => row[k].length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  return [line(COLUMNS.map(([, t]) => t)), ...rows.map((row) => line(COLUMNS.map(([k]) => row[k])))].join(
    '\n',
  );
}

export function formatSummary(
  r: FirmwareInspection,
  profile?: { name: string; file: string; demo: boolean },
): string {
  const s = r.settings;
  const lines: string[] = [];
  if (profile)
    lines.push(
      `profile:   ${profile.name} (${profile.file})${profile.demo ? '   *** DEMO FIRMWARE - NOT FOR PRODUCTION ***' : ''}`,
    );
  lines.push(`image set: ${r.imageSet.sourceFile} (${r.imageSet.kind})`);
  lines.push(`chip:      ${r.chip.displayName}   flash: mode ${s.mode}, freq ${s.freq}, size ${s.size}`);
  if (r.prepared) {
    const total = r.prepared.regions.reduce((n, x) => n + x.data.length, 0);
    const z = r.prepared.regions.reduce((n, x) => n + x.compressed.length, 0);
    lines.push(`recipe:    ${r.prepared.fingerprint}`);
    lines.push(
      `totals:    ${r.prepared.regions.length} regions, ${total} bytes, ${z} compressed (${Math.round((100 * z) / total)}%), needs ${formatByteSize(r.prepared.requiredFlashBytes)} of flash`,
    );
  }
  return lines.map(terminalSafe).join('\n');
}

/** What the station will enforce per board, from the profile (so the engineer sees it next to the map). */
export function formatProfilePolicy(p: StationProfile): string {
  const c = p.checks;
  const checks = [
    `expect ${c.expectChip ?? p.chip}`,
    c.minFlashSize !== undefined ? `flash >= ${formatByteSize(c.minFlashSize)}` : undefined,
    `secure boot ${c.allowSecureBoot ? 'allowed' : 'refused'}`,
    `flash encryption ${c.allowFlashEncryption ? 'allowed' : 'refused'}`,
    `erase ${c.erase}`,
  ].filter(Boolean);
  return [
    `checks:    ${checks.join(', ')}`,
    `boot:      ${p.bootCheck ? `UART0 shows ${p.bootCheck.expect.map((e) => `'${e}'`).join(', then ')} within ${p.bootCheck.timeoutMs} ms` : 'no boot check'}`,
    `retries:   ${p.retry.regionRetries} per region, ${p.retry.boardRetriesPerBaud} per baud step; stub ${p.stub ? 'on' : 'off (ROM only)'}${p.skipUnchanged ? '; unchanged regions skipped' : ''}`,
  ].join('\n');
}
