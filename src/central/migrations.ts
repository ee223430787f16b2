/**
 * Versioned schema migrations, applied in order, each once, inside one transaction under an advisory lock (so
 * stations starting together do not race, and a failed migration leaves nothing half-made). A database whose
 * schema is newer than this esp-station knows is left alone: the station keeps its backlog until it is updated.
 */
import type pg from 'pg';
import { SCHEMA_V1 } from './schema/001-records-and-stations.ts';
import { SCHEMA_V2 } from './schema/002-identity-pools.ts';
import { SCHEMA_V3 } from './schema/003-identity-files.ts';

export const SCHEMA = 'esp_station';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  { version: 1, name: 'records and stations', sql: SCHEMA_V1 },
  { version: 2, name: 'identity pools', sql: SCHEMA_V2 },
  { version: 3, name: 'identity files', sql: SCHEMA_V3 },
];

export const LATEST_SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1].version;

/** The advisory lock key migrations hold; any constant no other application uses. */
const MIGRATION_LOCK = 0x65_73_70_2d_6d_69; // "esp-mi"

export class SchemaTooNewError extends Error {
  override name = 'SchemaTooNewError';
  constructor(readonly found: number) {
    super(
      `the database schema is version ${found}, newer than this esp-station knows (${LATEST_SCHEMA_VERSION}); ` +
        'update esp-station on this station (records stay in the local ledger until then)',
    );
  }
}

export interface AppliedMigration {
  version: number;
  name: string;
  appliedAt: Date;
  appliedBy: string;
}

export interface SchemaStatus {
  /** Highest applied version (0 for an empty database). */
  version: number;
  applied: AppliedMigration[];
  pending: Migration[];
}

async function appliedMigrations(client: pg.ClientBase): Promise<AppliedMigration[]> {
  const exists = await client.query<{ t: string | null }>(
    `SELECT to_regclass('${SCHEMA}.schema_migrations')::text AS t`,
  );
  if (exists.rows[0].t === null) return [];
  const { rows } = await client.query<{
    version: number;
    name: string;
    applied_at: Date;
    applied_by: string;
  }>(`SELECT version, name, applied_at, applied_by FROM ${SCHEMA}.schema_migrations ORDER BY version`);
  return rows.map((r) => ({
    version: r.version,
    name: r.name,
    appliedAt: r.applied_at,
    appliedBy: r.applied_by,
  }));
}

export async function schemaStatus(client: pg.ClientBase): Promise<SchemaStatus> {
  const applied = await appliedMigrations(client);
  const version = applied.reduce((v, m) => Math.max(v, m.version), 0);
  return { version, applied, pending: MIGRATIONS.filter((m) => m.version > version) };
}

/**
 * Brings the schema to LATEST_SCHEMA_VERSION; returns the migrations it applied (none when up to date).
 * Throws SchemaTooNewError when the database is ahead of this program.
 */
export async function migrate(client: pg.ClientBase, appliedBy = 'esp-station'): Promise<Migration[]> {
  // Cheap check first: an up-to-date database needs no lock and no transaction.
  const before = await schemaStatus(client);
  if (before.version > LATEST_SCHEMA_VERSION) throw new SchemaTooNewError(before.version);
  if (before.pending.length === 0) return [];
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${SCHEMA}`);
    await client.query(`CREATE TABLE IF NOT EXISTS ${SCHEMA}.schema_migrations (
      version    integer PRIMARY KEY,
      name       text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now(),
      applied_by text NOT NULL
    )`);
    // Read again under the lock: another station may have migrated meanwhile.
    const { version } = await schemaStatus(client);
    if (version > LATEST_SCHEMA_VERSION) throw new SchemaTooNewError(version);
    const pending = MIGRATIONS.filter((m) => m.version > version);
    for (const m of pending) {
      await client.query(m.sql);
      await client.query(
        `INSERT INTO ${SCHEMA}.schema_migrations (version, name, applied_by) VALUES ($1, $2, $3)`,
        [m.version, m.name, appliedBy],
      );
    }
    await client.query('COMMIT');
    return pending;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}
