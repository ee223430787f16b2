/**
 * Identity pools in the central database: load identities, lease blocks of free ones to stations
 * (FOR UPDATE SKIP LOCKED: concurrent stations never block on each other and never get the same identity),
 * and take back each identity's outcome: committed to the board that passed, or burned (it reached a board
 * that did not pass; never issued again). Every call is one transaction and idempotent, so a station that
 * lost its link mid-call simply calls again.
 */
import { createHash } from 'node:crypto';
import type pg from 'pg';
import { SCHEMA } from './migrations.ts';

export interface PoolIdentity {
  /** Unique within the pool: the serial number, the credential bundle's id, or both joined. */
  id: string;
  /** Issue order (serial numbering): blocks are leased lowest first. */
  seq: number;
  serial?: string;
  credential?: string;
}

export interface LeasedIdentity extends PoolIdentity {
  leaseId: number;
}

export interface PoolCounts {
  total: number;
  free: number;
  leased: number;
  committed: number;
  burned: number;
}

export type OutcomeResult =
  | { ok: true; already: boolean }
  /** The board already holds another identity of this pool (flashed at another station meanwhile). */
  | { ok: false; reason: 'board-has-another'; heldId: string; heldBy: string | null }
  /** The identity is not this station's to report (not leased to it, or given to another board). */
  | {
      ok: false;
      reason: 'not-leased-to-station' | 'given-to-another-board';
      state: string;
      mac: string | null;
    };

export async function inTransaction<T>(client: pg.ClientBase, fn: () => Promise<T>): Promise<T> {
  await client.query('BEGIN');
  try {
    const result = await fn();
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

/** Creates the pool if needed and adds identities it does not have yet; returns how many were new. */
export async function addIdentities(
  client: pg.ClientBase,
  pool: string,
  identities: readonly PoolIdentity[],
  description = '',
): Promise<number> {
  return inTransaction(client, async () => {
    await client.query(
      `INSERT INTO ${SCHEMA}.identity_pools (pool, description) VALUES ($1, $2) ON CONFLICT (pool) DO NOTHING`,
      [pool, description],
    );
    const r = await client.query(
      `INSERT INTO ${SCHEMA}.identities (pool, id, seq, serial, credential)
       SELECT $1, * FROM unnest($2::text[], $3::int8[], $4::text[], $5::text[])
       ON CONFLICT DO NOTHING`,
      [
        pool,
        identities.map((i) => i.id),
        identities.map((i) => i.seq),
        identities.map((i) => i.serial ?? null),
        identities.map((i) => i.credential ?? null),
      ],
    );
    return r.rowCount ?? 0;
  });
}

/**
 * Leases up to `size` free identities (lowest seq first) to `station`. Fewer (or none) when the pool runs out;
 * rows another station is leasing at the same moment are skipped, not waited for.
 */
export async function leaseBlock(
  client: pg.ClientBase,
  pool: string,
  station: string,
  size: number,
): Promise<LeasedIdentity[]> {
  return inTransaction(client, async () => {
    const lease = await client.query<{ lease_id: string }>(
      `INSERT INTO ${SCHEMA}.identity_leases (pool, station, size) VALUES ($1, $2, $3) RETURNING lease_id`,
      [pool, station, size],
    );
    const leaseId = Number(lease.rows[0].lease_id);
    const { rows } = await client.query<{
      id: string;
      seq: string;
      serial: string | null;
      credential: string | null;
    }>(
      `WITH picked AS (
         SELECT id FROM ${SCHEMA}.identities
          WHERE pool = $1 AND state = 'free'
          ORDER BY seq
          LIMIT $3
          FOR UPDATE SKIP LOCKED)
       UPDATE ${SCHEMA}.identities i
          SET state = 'leased', station = $2, lease_id = $4, changed_at = now()
         FROM picked
        WHERE i.pool = $1 AND i.id = picked.id
       RETURNING i.id, i.seq, i.serial, i.credential`,
      [pool, station, size, leaseId],
    );
    await client.query(`UPDATE ${SCHEMA}.identity_leases SET size = $2 WHERE lease_id = $1`, [
      leaseId,
      rows.length,
    ]);
    return rows
      .map((r) => ({
        id: r.id,
        seq: Number(r.seq),
        ...(r.serial !== null && { serial: r.serial }),
        ...(r.credential !== null && { credential: r.credential }),
        leaseId,
      }))
      .sort((a, b) => a.seq - b.seq);
  });
}

/** Identities leased to `station` and not yet reported (what a restarted station still holds). */
export async function leasedTo(
  client: pg.ClientBase,
  pool: string,
  station: string,
): Promise<LeasedIdentity[]> {
  const { rows } = await client.query<{
    id: string;
    seq: string;
    serial: string | null;
    credential: string | null;
    lease_id: string;
  }>(
    `SELECT id, seq, serial, credential, lease_id FROM ${SCHEMA}.identities
      WHERE pool = $1 AND station = $2 AND state = 'leased' ORDER BY seq`,
    [pool, station],
  );
  return rows.map((r) => ({
    id: r.id,
    seq: Number(r.seq),
    ...(r.serial !== null && { serial: r.serial }),
    ...(r.credential !== null && { credential: r.credential }),
    leaseId: Number(r.lease_id),
  }));
}

/**
 * Records what became of a leased identity: 'committed' (on `mac`, which passed) or 'burned' (written to
 * `mac`, which did not pass). Idempotent: reporting the same outcome again is `already: true`. A burned
 * identity can still become committed for the same board (it passed on a retest); nothing else changes an
 * outcome.
 */
export async function reportOutcome(
  client: pg.ClientBase,
  o: {
    pool: string;
    id: string;
    station: string;
    mac: string;
    outcome: 'committed' | 'burned';
    recordId?: string;
    note?: string;
  },
): Promise<OutcomeResult> {
  const mac = o.mac.toUpperCase();
  try {
    return await inTransaction(client, async () => {
      const { rows } = await client.query<{ state: string; station: string | null; mac: string | null }>(
        `SELECT state, station, mac FROM ${SCHEMA}.identities WHERE pool = $1 AND id = $2 FOR UPDATE`,
        [o.pool, o.id],
      );
      const row = rows[0];
      if (!row) return { ok: false, reason: 'not-leased-to-station', state: 'unknown', mac: null };
      if (row.mac !== null && row.mac !== mac) {
        return { ok: false, reason: 'given-to-another-board', state: row.state, mac: row.mac };
      }
      if (row.state === o.outcome || (row.state === 'committed' && o.outcome === 'burned')) {
        return { ok: true, already: true };
      }
      // A leased identity is its station's to report; a burned one belongs to its board wherever it is retested.
      const mine = row.state === 'leased' ? row.station === o.station : row.mac === mac;
      if (!mine) return { ok: false, reason: 'not-leased-to-station', state: row.state, mac: row.mac };
      const held = await heldBy(client, o.pool, mac, o.id);
      if (held) return held;
      await client.query(
        `UPDATE ${SCHEMA}.identities
            SET state = $3, mac = $4, record_id = coalesce($5, record_id), note = coalesce($6, note),
                changed_at = now()
          WHERE pool = $1 AND id = $2`,
        [o.pool, o.id, o.outcome, mac, o.recordId ?? null, o.note ?? null],
      );
      return { ok: true, already: false };
    });
  } catch (err) {
    // Another station bound this board to another identity between our check and our update.
    if ((err as { code?: string }).code !== '23505') throw err;
    const held = await heldBy(client, o.pool, mac, o.id);
    if (held) return held;
    throw err;
  }
}

async function heldBy(
  client: pg.ClientBase,
  pool: string,
  mac: string,
  except: string,
): Promise<OutcomeResult | undefined> {
  const held = await client.query<{ id: string; station: string | null }>(
    `SELECT id, station FROM ${SCHEMA}.identities WHERE pool = $1 AND mac = $2 AND id <> $3`,
    [pool, mac, except],
  );
  const h = held.rows[0];
  return h ? { ok: false, reason: 'board-has-another', heldId: h.id, heldBy: h.station } : undefined;
}

/** The identity a board holds in the pool (committed or burned), wherever it got it: retests get it again. */
export async function identityOfBoard(
  client: pg.ClientBase,
  pool: string,
  mac: string,
): Promise<(PoolIdentity & { state: 'committed' | 'burned'; station: string }) | undefined> {
  const { rows } = await client.query<{
    id: string;
    seq: string;
    serial: string | null;
    credential: string | null;
    state: 'committed' | 'burned';
    station: string;
  }>(
    `SELECT id, seq, serial, credential, state, station FROM ${SCHEMA}.identities WHERE pool = $1 AND mac = $2`,
    [pool, mac.toUpperCase()],
  );
  const r = rows[0];
  if (!r) return undefined;
  return {
    id: r.id,
    seq: Number(r.seq),
    ...(r.serial !== null && { serial: r.serial }),
    ...(r.credential !== null && { credential: r.credential }),
    state: r.state,
    station: r.station,
  };
}

/**
 * Gives `station`'s unused leased identities back to the pool: for an operator who knows the station is gone
 * for good (or is stopped and gave them back itself). One the station reported as written to a board stays
 * (its outcome is still to come). Returns how many went back.
 */
export async function returnLeased(
  client: pg.ClientBase,
  pool: string,
  station: string,
  ids?: readonly string[],
): Promise<number> {
  return inTransaction(client, async () => {
    const r = await client.query(
      `UPDATE ${SCHEMA}.identities SET state = 'free', station = NULL, lease_id = NULL, changed_at = now()
        WHERE pool = $1 AND station = $2 AND state = 'leased' AND written_at IS NULL
          AND ($3::text[] IS NULL OR id = ANY($3::text[]))`,
      [pool, station, ids ?? null],
    );
    await client.query(
      `UPDATE ${SCHEMA}.identity_leases SET returned_at = now()
        WHERE pool = $1 AND station = $2 AND returned_at IS NULL
          AND NOT EXISTS (SELECT 1 FROM ${SCHEMA}.identities i
                           WHERE i.lease_id = identity_leases.lease_id AND i.state = 'leased')`,
      [pool, station],
    );
    return r.rowCount ?? 0;
  });
}

export async function poolCounts(client: pg.ClientBase, pool: string): Promise<PoolCounts> {
  const { rows } = await client.query<Record<keyof PoolCounts, string>>(
    `SELECT total, free, leased, committed, burned FROM ${SCHEMA}.identity_pool_status WHERE pool = $1`,
    [pool],
  );
  const r = rows[0];
  if (!r) return { total: 0, free: 0, leased: 0, committed: 0, burned: 0 };
  return {
    total: Number(r.total),
    free: Number(r.free),
    leased: Number(r.leased),
    committed: Number(r.committed),
    burned: Number(r.burned),
  };
}

export interface IdentityFile {
  member: string;
  bytes: Uint8Array;
  sha256: string;
}

const sha256Hex = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** The files of these identities (a station caches them before it issues one). */
export async function identityFiles(
  client: pg.ClientBase,
  pool: string,
  ids: readonly string[],
): Promise<Map<string, IdentityFile[]>> {
  const { rows } = await client.query<{ id: string; member: string; content: Buffer; sha256: string }>(
    `SELECT id, member, content, sha256 FROM ${SCHEMA}.identity_files
      WHERE pool = $1 AND id = ANY($2::text[]) ORDER BY id, member`,
    [pool, ids],
  );
  const out = new Map<string, IdentityFile[]>();
  for (const r of rows) {
    const bytes = new Uint8Array(r.content);
    if (sha256Hex(bytes) !== r.sha256)
      throw new Error(`identity ${r.id}: ${r.member} does not match its SHA-256 in the database`);
    const list = out.get(r.id) ?? [];
    list.push({ member: r.member, bytes, sha256: r.sha256 });
    out.set(r.id, list);
  }
  return out;
}

/**
 * The station started writing this leased identity to a board: from now on no return gives it back. 'ok'
 * (also when said before, or when its outcome is in already), or 'not-leased-to-station' when the
 * database no longer has it leased to this station (an operator returned the block).
 */
export async function reportWritten(
  client: pg.ClientBase,
  o: { pool: string; id: string; station: string },
): Promise<'ok' | 'not-leased-to-station'> {
  const r = await client.query<{ state: string; station: string | null }>(
    `UPDATE ${SCHEMA}.identities SET written_at = coalesce(written_at, now())
      WHERE pool = $1 AND id = $2 AND (station = $3 OR state IN ('committed', 'burned'))
      RETURNING state, station`,
    [o.pool, o.id, o.station],
  );
  return r.rowCount === 1 ? 'ok' : 'not-leased-to-station';
}
