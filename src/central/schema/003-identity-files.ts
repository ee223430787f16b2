/**
 * Schema version 3: the credential files of a central pool live in the database, so the stations of a factory
 * share no folder. `esp-station identity pool load` stores each bundle member's bytes with its SHA-256 (the
 * server checks the two agree); a station copies the files of the identities it leases into its own folder
 * beside its journal before it issues them, so it goes on flashing while the database is away. Records and the
 * ledger keep only hashes. Grant this table to the stations' role only, never to reporting roles.
 *
 * `written_at` is set when a station reports that an identity's region started to reach a board: from then on
 * no operator `identity pool return` gives it back, even before its outcome (committed or burned) arrives.
 */
export const SCHEMA_V3 = `
CREATE TABLE esp_station.identity_files (
  pool     text NOT NULL,
  id       text NOT NULL,
  member   text NOT NULL,
  content  bytea NOT NULL,
  sha256   text NOT NULL CHECK (sha256 = encode(sha256(content), 'hex')),
  PRIMARY KEY (pool, id, member),
  FOREIGN KEY (pool, id) REFERENCES esp_station.identities
);
COMMENT ON TABLE esp_station.identity_files IS
  'Credential files of pool identities (secrets): readable by the stations role only.';

ALTER TABLE esp_station.identities ADD COLUMN written_at timestamptz;
`;
