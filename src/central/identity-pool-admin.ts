/**
 * The operator's side of a central identity pool: loading identities with their files (all or nothing) and
 * the status per pool and station. The stations' side (leases, outcomes) is identity-pool.ts.
 */
import { createHash } from 'node:crypto';
import type pg from 'pg';
import { inTransaction } from './identity-pool.ts';
import type { PoolCounts } from './identity-pool.ts';
import { SCHEMA } from './migrations.ts';

const sha256Hex = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** One identity as `identity pool load` gives it: the pool assigns its seq (issue order = load order). */
export interface IdentityToLoad {
  id: string;
  serial?: string;
  credential?: string;
  files?: readonly { member: string; bytes: Uint8Array }[];
  /** Where it was read from (file:line), for messages. */
  where?: string;
}

/** The pool already holds an identity of that id with other values: nothing of the load was kept. */
export class PoolLoadConflict extends Error {
  override name = 'PoolLoadConflict';
}

/**
 * Adds identities (and their files) to `pool` in one transaction: all or nothing. Loading the same identities
 * again adds nothing; an id the pool holds with another serial, bundle or file content is a conflict.
 */
export async function loadPool(
  client: pg.ClientBase,
  pool: string,
  identities: readonly IdentityToLoad[],
  description = '',
): Promise<{ added: number; already: number }> {
  return inTransaction(client, async () => {
    await client.query(
      `INSERT INTO ${SCHEMA}.identity_pools (pool, description) VALUES ($1, $2) ON CONFLICT (pool) DO NOTHING`,
      [pool, description],
    );
    // Loads of one pool take turns, so their seq numbers never collide.
    await client.query(`SELECT 1 FROM ${SCHEMA}.identity_pools WHERE pool = $1 FOR UPDATE`, [pool]);
    const ids = identities.map((i) => i.id);
    const existing = await client.query<{
      id: string;
      serial: string | null;
      credential: string | null;
      files: Record<string, string> | null;
    }>(
      `SELECT i.id, i.serial, i.credential,
              (SELECT jsonb_object_agg(f.member, f.sha256) FROM ${SCHEMA}.identity_files f
                WHERE f.pool = i.pool AND f.id = i.id) AS files
         FROM ${SCHEMA}.identities i WHERE i.pool = $1 AND i.id = ANY($2::text[])`,
      [pool, ids],
    );
    const held = new Map(existing.rows.map((r) => [r.id, r]));
    const fresh: IdentityToLoad[] = [];
    for (const i of identities) {
      const h = held.get(i.id);
      if (!h) {
        fresh.push(i);
        continue;
      }
      const files = Object.fromEntries((i.files ?? []).map((f) => [f.member, sha256Hex(f.bytes)]));
      const same =
        (h.serial ?? undefined) === i.serial &&
        (h.credential ?? undefined) === i.credential &&
        JSON.stringify(sortedEntries(h.files ?? {})) === JSON.stringify(sortedEntries(files));
      if (!same) {
        throw new PoolLoadConflict(
          `${i.where ? `${i.where}: ` : ''}pool ${pool} already holds identity ${i.id} with another serial, bundle or file content; give it a new id (an identity is never changed once loaded)`,
        );
      }
    }
    const serials = fresh.filter((i) => i.serial !== undefined).map((i) => i.serial as string);
    const taken = await client.query<{ serial: string; id: string }>(
      `SELECT serial, id FROM ${SCHEMA}.identities WHERE pool = $1 AND serial = ANY($2::text[])`,
      [pool, serials],
    );
    if (taken.rows.length > 0) {
      const t = taken.rows[0];
      const where = fresh.find((i) => i.serial === t.serial)?.where;
      throw new PoolLoadConflict(
        `${where ? `${where}: ` : ''}serial ${t.serial} is already in pool ${pool} (identity ${t.id}); a serial is issued once`,
      );
    }
    const { rows } = await client.query<{ next: string }>(
      `SELECT coalesce(max(seq), 0) + 1 AS next FROM ${SCHEMA}.identities WHERE pool = $1`,
      [pool],
    );
    const next = Number(rows[0].next);
    await client.query(
      `INSERT INTO ${SCHEMA}.identities (pool, id, seq, serial, credential)
       SELECT $1, * FROM unnest($2::text[], $3::int8[], $4::text[], $5::text[])`,
      [
        pool,
        fresh.map((i) => i.id),
        fresh.map((_, k) => next + k),
        fresh.map((i) => i.serial ?? null),
        fresh.map((i) => i.credential ?? null),
      ],
    );
    const files = fresh.flatMap((i) => (i.files ?? []).map((f) => ({ id: i.id, ...f })));
    // In slices: a bundle is a few kB, so a slice stays far below any message size limit.
    for (let k = 0; k < files.length; k += 500) {
      const slice = files.slice(k, k + 500);
      await client.query(
        `INSERT INTO ${SCHEMA}.identity_files (pool, id, member, content, sha256)
         SELECT $1, * FROM unnest($2::text[], $3::text[], $4::bytea[], $5::text[])`,
        [
          pool,
          slice.map((f) => f.id),
          slice.map((f) => f.member),
          slice.map((f) => Buffer.from(f.bytes)),
          slice.map((f) => sha256Hex(f.bytes)),
        ],
      );
    }
    return { added: fresh.length, already: identities.length - fresh.length };
  });
}

function sortedEntries(o: Record<string, string>): [string, string][] {
  return Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

export interface StationLease {
  station: string;
  /** Leased and not reported as written to a board: what `identity pool return` would give back. */
  unused: number;
  /** Leased, written to a board, outcome not yet reported. */
  written: number;
  committed: number;
  burned: number;
}

export interface PoolStatusRow extends PoolCounts {
  pool: string;
  stations: StationLease[];
}

/** Every pool (or one), with its counts and what each station holds. */
export async function poolStatus(client: pg.ClientBase, pool?: string): Promise<PoolStatusRow[]> {
  const pools = await client.query<{ pool: string } & Record<keyof PoolCounts, string>>(
    `SELECT pool, total, free, leased, committed, burned FROM ${SCHEMA}.identity_pool_status
      WHERE $1::text IS NULL OR pool = $1 ORDER BY pool`,
    [pool ?? null],
  );
  const stations = await client.query<{
    pool: string;
    station: string;
    unused: string;
    written: string;
    committed: string;
    burned: string;
  }>(
    `SELECT pool, station,
            count(*) FILTER (WHERE state = 'leased' AND written_at IS NULL) AS unused,
            count(*) FILTER (WHERE state = 'leased' AND written_at IS NOT NULL) AS written,
            count(*) FILTER (WHERE state = 'committed') AS committed,
            count(*) FILTER (WHERE state = 'burned') AS burned
       FROM ${SCHEMA}.identities
      WHERE station IS NOT NULL AND ($1::text IS NULL OR pool = $1)
      GROUP BY pool, station ORDER BY pool, station`,
    [pool ?? null],
  );
  return pools.rows.map((p) => ({
    pool: p.pool,
    total: Number(p.total),
    free: Number(p.free),
    leased: Number(p.leased),
    committed: Number(p.committed),
    burned: Number(p.burned),
    stations: stations.rows
      .filter((s) => s.pool === p.pool)
      .map((s) => ({
        station: s.station,
        unused: Number(s.unused),
        written: Number(s.written),
        committed: Number(s.committed),
        burned: Number(s.burned),
      })),
  }));
}
