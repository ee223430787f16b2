/**
 * Schema version 1: every ledger record as a row (the record itself as JSONB, plus typed columns for the
 * report's group-bys, filters and indexes), the stations and their heartbeats, and the views an MES reads.
 * Typed columns are derived by the station from the record (record-row.ts) so they mean exactly what the
 * JSONL report means: times are the instants JavaScript's Date.parse reads from the record.
 */
export const SCHEMA_V1 = `
CREATE TABLE esp_station.records (
  id            text PRIMARY KEY,
  station       text NOT NULL,
  slot          text NOT NULL,
  lot           text NOT NULL,
  operator      text NOT NULL,
  profile       text NOT NULL,
  recipe        text NOT NULL,
  mac           text,
  serial        text,
  chip          text,
  result        text NOT NULL CHECK (result IN ('pass', 'fail')),
  code          text,
  message       text,
  attempt       integer NOT NULL,
  demo_firmware boolean NOT NULL,
  start_at      timestamptz,
  end_at        timestamptz,
  duration_ms   double precision NOT NULL,
  record        jsonb NOT NULL,
  ledger_file   text NOT NULL,
  ledger_line   integer NOT NULL,
  shipped_at    timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE esp_station.records IS
  'One row per flashing attempt, shipped from the stations'' JSONL ledgers (the ledger stays the source of truth).';
COMMENT ON COLUMN esp_station.records.mac IS 'Board MAC, upper-case AA:BB:CC:DD:EE:FF; NULL when the board never identified.';
COMMENT ON COLUMN esp_station.records.record IS 'The ledger record exactly as the station wrote it (NUL characters shown as U+FFFD).';
COMMENT ON COLUMN esp_station.records.ledger_file IS 'Ledger file (base name) and line the record was shipped from.';
CREATE INDEX records_end_at ON esp_station.records (end_at);
CREATE INDEX records_station_end_at ON esp_station.records (station, end_at);
CREATE INDEX records_lot ON esp_station.records (lot);
CREATE INDEX records_mac ON esp_station.records (mac, start_at);
CREATE INDEX records_serial ON esp_station.records (serial) WHERE serial IS NOT NULL;
CREATE INDEX records_recipe ON esp_station.records (recipe);
CREATE INDEX records_ledger_file ON esp_station.records (ledger_file);

CREATE TABLE esp_station.stations (
  station       text PRIMARY KEY,
  host          text NOT NULL,
  version       text NOT NULL,
  profile       text,
  recipe        text,
  link          text NOT NULL,
  lag_records   bigint NOT NULL DEFAULT 0,
  lag_seconds   double precision NOT NULL DEFAULT 0,
  started_at    timestamptz NOT NULL,
  last_seen     timestamptz NOT NULL,
  heartbeat_seconds integer NOT NULL
);
COMMENT ON TABLE esp_station.stations IS
  'One row per station, updated by its heartbeat. A station whose last_seen is older than three heartbeats is away.';

CREATE VIEW esp_station.station_status AS
SELECT s.*,
       CASE WHEN s.link = 'stopped' THEN 'stopped'
            WHEN s.last_seen < now() - 3 * s.heartbeat_seconds * interval '1 second' THEN 'away'
            ELSE s.link END AS state
  FROM esp_station.stations s;

CREATE VIEW esp_station.board_status AS
SELECT DISTINCT ON (mac)
       mac, serial, result AS final_result, code AS final_code, station, slot, lot, recipe, end_at AS last_end,
       attempt AS attempts_seen, id AS last_record
  FROM esp_station.records
 WHERE mac IS NOT NULL
 ORDER BY mac, end_at DESC NULLS LAST, ledger_file COLLATE "C" DESC, ledger_line DESC;
COMMENT ON VIEW esp_station.board_status IS 'Each board''s latest attempt: what an MES asks about one serial/MAC.';
`;
