/** The stations table: one row per station, kept current by its heartbeat (what an MES shows as "line status"). */
import type pg from 'pg';
import { SCHEMA } from './migrations.ts';

export interface StationIdentity {
  name: string;
  host: string;
  /** esp-station version. */
  version: string;
  profile?: string;
  recipe?: string;
}

export interface StationHeartbeat extends StationIdentity {
  link: string;
  lagRecords: number;
  lagSeconds: number;
  startedAt: Date;
  heartbeatSeconds: number;
}

export async function upsertStation(client: pg.ClientBase, h: StationHeartbeat): Promise<void> {
  await client.query(
    `INSERT INTO ${SCHEMA}.stations
       (station, host, version, profile, recipe, link, lag_records, lag_seconds, started_at, last_seen, heartbeat_seconds)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, now(), $10)
     ON CONFLICT (station) DO UPDATE SET
       host = EXCLUDED.host, version = EXCLUDED.version, profile = EXCLUDED.profile, recipe = EXCLUDED.recipe,
       link = EXCLUDED.link, lag_records = EXCLUDED.lag_records, lag_seconds = EXCLUDED.lag_seconds,
       started_at = EXCLUDED.started_at, last_seen = now(), heartbeat_seconds = EXCLUDED.heartbeat_seconds`,
    [
      h.name,
      h.host,
      h.version,
      h.profile ?? null,
      h.recipe ?? null,
      h.link,
      h.lagRecords,
      h.lagSeconds,
      h.startedAt,
      h.heartbeatSeconds,
    ],
  );
}

/** Rows in the database that carry this station's name. */
export async function recordsShippedBy(client: pg.ClientBase, station: string): Promise<number> {
  const { rows } = await client.query<{ n: string }>(
    `SELECT count(*) AS n FROM ${SCHEMA}.records WHERE station = $1`,
    [station],
  );
  return Number(rows[0].n);
}

export interface StationRow {
  station: string;
  host: string;
  version: string;
  /** online, offline, connecting, stopped, or away (no heartbeat for three intervals). */
  state: string;
  lastSeen: Date;
  lagRecords: number;
  lagSeconds: number;
}

export async function listStations(client: pg.ClientBase): Promise<StationRow[]> {
  const { rows } = await client.query<{
    station: string;
    host: string;
    version: string;
    state: string;
    last_seen: Date;
    lag_records: string;
    lag_seconds: number;
  }>(`SELECT station, host, version, state, last_seen, lag_records, lag_seconds
        FROM ${SCHEMA}.station_status ORDER BY station`);
  return rows.map((r) => ({
    station: r.station,
    host: r.host,
    version: r.version,
    state: r.state,
    lastSeen: r.last_seen,
    lagRecords: Number(r.lag_records),
    lagSeconds: r.lag_seconds,
  }));
}
