/**
 * The report's record filter as a SQL WHERE clause over esp_station.records, meaning exactly what the JSONL
 * report's filter means: end time in [since, until), lot / station / profile lists, recipes by fingerprint
 * prefix (the 12 characters a report shows are enough), MACs (any case), serial numbers.
 */
export interface RecordQueryFilter {
  since?: string;
  until?: string;
  lots?: string[];
  stations?: string[];
  profiles?: string[];
  recipes?: string[];
  macs?: string[];
  serials?: string[];
}

export interface WhereClause {
  /** `WHERE …` (or '' when nothing is filtered). */
  sql: string;
  params: unknown[];
}

export function whereClause(filter: RecordQueryFilter): WhereClause {
  const terms: string[] = [];
  const params: unknown[] = [];
  const param = (value: unknown) => {
    params.push(value);
    return `$${params.length}`;
  };
  if (filter.since !== undefined) terms.push(`end_at >= ${param(filter.since)}::timestamptz`);
  if (filter.until !== undefined) terms.push(`end_at < ${param(filter.until)}::timestamptz`);
  if (filter.lots) terms.push(`lot = ANY(${param(filter.lots)}::text[])`);
  if (filter.stations) terms.push(`station = ANY(${param(filter.stations)}::text[])`);
  if (filter.profiles) terms.push(`profile = ANY(${param(filter.profiles)}::text[])`);
  if (filter.recipes) {
    const patterns = filter.recipes.map((r) => `${r.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
    terms.push(`recipe LIKE ANY(${param(patterns)}::text[])`);
  }
  if (filter.macs) terms.push(`mac = ANY(${param(filter.macs.map((m) => m.toUpperCase()))}::text[])`);
  if (filter.serials) terms.push(`serial = ANY(${param(filter.serials)}::text[])`);
  return { sql: terms.length > 0 ? `WHERE ${terms.join(' AND ')}` : '', params };
}
