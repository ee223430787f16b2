/**
 * Schema version 2: identity pools shared by the stations of a factory (issue #14's serial numbers and
 * credential bundles). The database hands out blocks of free identities to stations (leases, taken with
 * FOR UPDATE SKIP LOCKED so stations never wait on each other and never get the same one); a station keeps its
 * block while it is offline and reports each identity back as committed (on a board that passed) or burned
 * (written to a board that did not pass). Leases never expire by themselves: only an operator returns a
 * station's unused block (a station that is merely offline may still be using it).
 *
 * Two constraints make "one identity, one board" hold whatever the stations do: an identity is one row (its
 * MAC is one column), and a MAC holds at most one identity per pool (partial unique index).
 */
export const SCHEMA_V2 = `
CREATE TABLE esp_station.identity_pools (
  pool        text PRIMARY KEY,
  description text NOT NULL DEFAULT '',
  created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE esp_station.identity_leases (
  lease_id    bigserial PRIMARY KEY,
  pool        text NOT NULL REFERENCES esp_station.identity_pools,
  station     text NOT NULL,
  size        integer NOT NULL,
  leased_at   timestamptz NOT NULL DEFAULT now(),
  returned_at timestamptz
);
CREATE INDEX identity_leases_station ON esp_station.identity_leases (pool, station);

CREATE TABLE esp_station.identities (
  pool        text NOT NULL REFERENCES esp_station.identity_pools,
  id          text NOT NULL,
  seq         bigint NOT NULL,
  serial      text,
  credential  text,
  state       text NOT NULL DEFAULT 'free' CHECK (state IN ('free', 'leased', 'committed', 'burned')),
  lease_id    bigint REFERENCES esp_station.identity_leases,
  station     text,
  mac         text,
  record_id   text,
  note        text,
  changed_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (pool, id),
  UNIQUE (pool, seq),
  CHECK ((state = 'free') = (station IS NULL)),
  CHECK ((state IN ('committed', 'burned')) = (mac IS NOT NULL))
);
COMMENT ON TABLE esp_station.identities IS
  'Serial numbers / credential bundles of a pool: free, leased to a station, committed to a board that passed, or burned (written to a board that did not pass; never issued again).';
CREATE UNIQUE INDEX identities_one_per_board ON esp_station.identities (pool, mac) WHERE mac IS NOT NULL;
CREATE INDEX identities_free ON esp_station.identities (pool, seq) WHERE state = 'free';
CREATE INDEX identities_station ON esp_station.identities (pool, station) WHERE state = 'leased';

CREATE VIEW esp_station.identity_pool_status AS
SELECT p.pool,
       count(i.id) AS total,
       count(i.id) FILTER (WHERE i.state = 'free') AS free,
       count(i.id) FILTER (WHERE i.state = 'leased') AS leased,
       count(i.id) FILTER (WHERE i.state = 'committed') AS committed,
       count(i.id) FILTER (WHERE i.state = 'burned') AS burned
  FROM esp_station.identity_pools p LEFT JOIN esp_station.identities i USING (pool)
 GROUP BY p.pool;
`;
