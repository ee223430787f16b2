/**
 * Stations side by side, from the database (the view a production engineer wants when one line lags the
 * others): attempts and yield, boards first tried there and their first-pass yield, throughput, cycle time
 * (exact percentiles), the most frequent failure, and the station's heartbeat: state, last seen, backlog.
 */
import type pg from 'pg';
import { SCHEMA } from './migrations.ts';
import { whereClause } from './record-query-filter.ts';
import type { RecordQueryFilter } from './record-query-filter.ts';

export interface StationComparisonRow {
  station: string;
  attempts: number;
  passed: number;
  yield: number | null;
  /** Distinct boards attempted at this station. */
  boards: number;
  /** Boards whose first attempt anywhere (earliest start) was at this station, and how many of those passed. */
  boardsFirstTried: number;
  boardsFirstPass: number;
  firstPassYield: number | null;
  /** Distinct boards per hour of this station's window (first start to last end). */
  boardsPerHour: number | null;
  cycleP50Ms: number | null;
  cycleP90Ms: number | null;
  topFailure: string | null;
  /** The station's heartbeat row, when it ever shipped live (a backfilled ledger has none). */
  heartbeat: {
    state: string;
    lastSeen: string;
    lagRecords: number;
    lagSeconds: number;
    version: string;
  } | null;
}

export async function compareStations(
  client: pg.ClientBase,
  filter: RecordQueryFilter,
): Promise<StationComparisonRow[]> {
  const w = whereClause(filter);
  const { rows } = await client.query<{
    station: string;
    attempts: string;
    passed: string;
    boards: string;
    window_hours: number | null;
    p50: number | null;
    p90: number | null;
    first_tried: string | null;
    first_pass: string | null;
    top_failure: string | null;
    state: string | null;
    last_seen: Date | null;
    lag_records: string | null;
    lag_seconds: number | null;
    version: string | null;
  }>(
    `WITH f AS (SELECT * FROM ${SCHEMA}.records ${w.sql}),
          per AS (SELECT station, count(*) AS attempts, count(*) FILTER (WHERE result = 'pass') AS passed,
                         count(DISTINCT mac) AS boards,
                         extract(epoch FROM max(end_at) - min(start_at))::float8 / 3600 AS window_hours,
                         percentile_disc(0.5) WITHIN GROUP (ORDER BY duration_ms) AS p50,
                         percentile_disc(0.9) WITHIN GROUP (ORDER BY duration_ms) AS p90
                    FROM f GROUP BY station),
          firsts AS (SELECT DISTINCT ON (mac) mac, station, result FROM f WHERE mac IS NOT NULL
                      ORDER BY mac, start_at ASC NULLS LAST, ledger_file COLLATE "C", ledger_line),
          fp AS (SELECT station, count(*) AS first_tried, count(*) FILTER (WHERE result = 'pass') AS first_pass
                   FROM firsts GROUP BY station),
          codes AS (SELECT station, coalesce(code, '(no code)') AS code, count(*) AS n
                      FROM f WHERE result = 'fail' GROUP BY 1, 2),
          top AS (SELECT DISTINCT ON (station) station, code AS top_failure FROM codes
                   ORDER BY station, n DESC, code COLLATE "C")
     SELECT per.*, fp.first_tried, fp.first_pass, top.top_failure,
            s.state, s.last_seen, s.lag_records, s.lag_seconds, s.version
       FROM per LEFT JOIN fp USING (station) LEFT JOIN top USING (station)
            LEFT JOIN ${SCHEMA}.station_status s USING (station)
      ORDER BY per.station COLLATE "C"`,
    w.params,
  );
  return rows.map((r) => {
    const attempts = Number(r.attempts);
    const passed = Number(r.passed);
    const boards = Number(r.boards);
    const firstTried = Number(r.first_tried ?? 0);
    const firstPass = Number(r.first_pass ?? 0);
    return {
      station: r.station,
      attempts,
      passed,
      yield: attempts > 0 ? passed / attempts : null,
      boards,
      boardsFirstTried: firstTried,
      boardsFirstPass: firstPass,
      firstPassYield: firstTried > 0 ? firstPass / firstTried : null,
      boardsPerHour: r.window_hours !== null && r.window_hours > 0 ? boards / r.window_hours : null,
      cycleP50Ms: r.p50,
      cycleP90Ms: r.p90,
      topFailure: r.top_failure,
      heartbeat:
        r.state === null || r.last_seen === null
          ? null
          : {
              state: r.state,
              lastSeen: r.last_seen.toISOString(),
              lagRecords: Number(r.lag_records ?? 0),
              lagSeconds: r.lag_seconds ?? 0,
              version: r.version ?? '',
            },
    };
  });
}
