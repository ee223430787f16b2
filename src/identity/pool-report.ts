/** The pool report as text for an operator. */
import type { PoolReport } from './allocator.ts';

export function formatPoolReport(report: PoolReport, source: string): string {
  const n = (v: number | undefined) => (v === undefined ? 'unlimited' : String(v));
  const lines = [
    `identity pool ${source}`,
    `  free       ${n(report.free)}${report.total !== undefined ? ` of ${report.total}` : ''}`,
    `  reserved   ${report.reserved}   (bound to a board, region not written yet)`,
    `  committed  ${report.committed}   (on a board that passed)`,
    `  burned     ${report.burned}   (written to a board that has not passed; kept by its MAC, never reissued)`,
    `  released   ${report.releases}   (times an identity went back: its board failed before the region was written)`,
  ];
  if (report.burnedList.length > 0) {
    lines.push('', 'burned:');
    for (const b of report.burnedList)
      lines.push(`  ${b.mac}  ${b.serial ?? '-'}  ${b.credential ?? '-'}  since ${b.since}  (${b.id})`);
  }
  if (report.problems.length > 0) {
    lines.push('', 'problems:');
    for (const p of report.problems) lines.push(`  ${p}`);
  }
  return lines.join('\n');
}
