/**
 * Which ledger records a report covers: a time window on the attempt's end, lot/station/profile lists, recipe
 * fingerprint prefixes, board MACs and serial numbers. `report --db` applies the same filter in SQL
 * (central/record-query-filter.ts); a test holds the two to the same figures.
 */
import type { LedgerRecord } from '../ledger/record.ts';
import type { ReportFilter } from './yield-report.ts';

export function recordFilter(filter: ReportFilter): (record: LedgerRecord) => boolean {
  const since = filter.since !== undefined ? Date.parse(filter.since) : -Infinity;
  const until = filter.until !== undefined ? Date.parse(filter.until) : Infinity;
  const lots = filter.lots ? new Set(filter.lots) : undefined;
  const stations = filter.stations ? new Set(filter.stations) : undefined;
  const profiles = filter.profiles ? new Set(filter.profiles) : undefined;
  const recipes = filter.recipes;
  const macs = filter.macs ? new Set(filter.macs.map((m) => m.toUpperCase())) : undefined;
  const serials = filter.serials ? new Set(filter.serials) : undefined;
  const timed = filter.since !== undefined || filter.until !== undefined;
  return (r) => {
    if (lots && !lots.has(r.lot)) return false;
    if (stations && !stations.has(r.station)) return false;
    if (profiles && !profiles.has(r.profile)) return false;
    if (recipes && !recipes.some((p) => r.recipe.startsWith(p))) return false;
    if (macs && !(r.mac !== undefined && macs.has(r.mac.toUpperCase()))) return false;
    if (serials) {
      // Only records of a profile with an identity section carry a serial.
      const serial = r.identity?.serial;
      if (!(serial !== undefined && serials.has(serial))) return false;
    }
    if (timed) {
      const end = Date.parse(r.end);
      if (!(end >= since && end < until)) return false;
    }
    return true;
  };
}
