/** Which ledger records a report covers: a time window on the attempt's end, and lot/station/profile lists. */
import type { LedgerRecord } from '../ledger/record.ts';
import type { ReportFilter } from './yield-report.ts';

export function recordFilter(filter: ReportFilter): (record: LedgerRecord) => boolean {
  const since = filter.since !== undefined ? Date.parse(filter.since) : -Infinity;
  const until = filter.until !== undefined ? Date.parse(filter.until) : Infinity;
  const lots = filter.lots ? new Set(filter.lots) : undefined;
  const stations = filter.stations ? new Set(filter.stations) : undefined;
  const profiles = filter.profiles ? new Set(filter.profiles) : undefined;
  const timed = filter.since !== undefined || filter.until !== undefined;
  return (r) => {
    if (lots && !lots.has(r.lot)) return false;
    if (stations && !stations.has(r.station)) return false;
    if (profiles && !profiles.has(r.profile)) return false;
    if (timed) {
      const end = Date.parse(r.end);
      if (!(end >= since && end < until)) return false;
    }
    return true;
  };
}
