/**
 * The yield report's aggregation done by PostgreSQL: counts per slot, hour, recipe, lot, station, operator and
 * failure, the attempt-duration histogram, and one row per board (first and latest attempt), all over the
 * filtered rows of one snapshot (REPEATABLE READ). The result is plain data in the shape of the JSONL
 * aggregator's own state, so `report --db` ends in the same report code as `report --ledger`.
 *
 * Order-dependent choices of the JSONL aggregator are reproduced with the ledger position each row keeps
 * (ledger_file, ledger_line, in byte order): a board's first attempt is the earliest start, ties to the record
 * read first; its latest the last end, ties to the record read last; boards and failure messages are listed
 * in the order a directory walk would first meet them.
 */
import type pg from 'pg';
import { SCHEMA } from './migrations.ts';
import { whereClause } from './record-query-filter.ts';
import type { RecordQueryFilter } from './record-query-filter.ts';

export interface Counted {
  attempts: number;
  passed: number;
}

export interface BoardAggregate {
  mac: string;
  attempts: number;
  /** ms since epoch; Infinity / -Infinity when no attempt had a readable time (as the JSONL aggregator). */
  firstStart: number;
  firstPass: boolean;
  firstRecipe: string;
  lastEnd: number;
  lastPass: boolean;
  lastDemo: boolean;
  lastRecipe: string;
  lastLot: string;
  lastStation: string;
  lastSlot: string;
  /** '' when the latest attempt passed. */
  lastCode: string;
  /** The latest attempt's message in full ('' when it passed). */
  lastMessage: string;
}

export interface RecordAggregates {
  /** Rows in the database before filtering (the JSONL report's "records read"). */
  records: number;
  attempts: number;
  passed: number;
  withoutMac: number;
  demoAttempts: number;
  firstStart: number;
  lastEnd: number;
  /** Exact attempt durations and how often each occurred. */
  durations: Array<[number, number]>;
  codes: Array<[string, number]>;
  /** Failed attempts per AT test step that failed (records with a test section). */
  testSteps: Array<[string, number]>;
  /** Failure messages in first-seen order, with their counts. */
  messages: Array<[string, number]>;
  slots: Array<{
    station: string;
    slot: string;
    attempts: number;
    passed: number;
    codes: Array<[string, number]>;
  }>;
  /** Attempts by bucket of attempt end (epoch ms, a multiple of the bucket width asked for). */
  timeline: Array<[number, Counted]>;
  /** Passed attempts that needed a retry (a region with retries > 0). */
  passedAfterRetry: number;
  /** Every phase's exact durations and how often each occurred. */
  phases: Array<[string, Array<[number, number]>]>;
  /** Per slot: passed attempts that needed a retry, passes by baud, the fastest baud any attempt used. */
  slotBauds: Array<{
    station: string;
    slot: string;
    passedRetried: number;
    passBauds: Array<[number, number]>;
    maxBaud: number;
  }>;
  recipes: Array<{
    recipe: string;
    attempts: number;
    passed: number;
    profiles: string[];
    demo: boolean;
    first: number;
    last: number;
  }>;
  lots: Array<[string, Counted]>;
  stations: Array<[string, Counted]>;
  operators: Array<[string, Counted]>;
}

/** Epoch milliseconds; stored instants are whole milliseconds (Date.parse), so round() is exact on every version. */
const MS = (column: string) => `round(extract(epoch FROM ${column}) * 1000)::float8`;
/** A row's place in a walk of the ledger directory: file name in byte order, then line. */
const LEDGER_ORDER = `ledger_file COLLATE "C", ledger_line`;
const LEDGER_ORDER_DESC = `ledger_file COLLATE "C" DESC, ledger_line DESC`;
const FIRST_SEEN = `min(ledger_file || ':' || lpad(ledger_line::text, 10, '0') COLLATE "C")`;

const num = (x: string | number | null): number => (x === null ? NaN : Number(x));
const counted = (r: { attempts: string; passed: string }): Counted => ({
  attempts: Number(r.attempts),
  passed: Number(r.passed),
});

/** Runs `fn` inside one REPEATABLE READ, READ ONLY snapshot, so every query sees the same rows. */
export async function inSnapshot<T>(client: pg.ClientBase, fn: () => Promise<T>): Promise<T> {
  await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  try {
    const result = await fn();
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

/** Everything but the per-board rows (see boardPages). Call inside inSnapshot with boardPages. */
export async function aggregateRecords(
  client: pg.ClientBase,
  filter: RecordQueryFilter,
  bucketMs: number,
): Promise<RecordAggregates> {
  const w = whereClause(filter);
  const from = `FROM ${SCHEMA}.records ${w.sql}`;
  const failed = `${w.sql ? `${w.sql} AND` : 'WHERE'} result = 'fail'`;
  const q = <R extends pg.QueryResultRow>(sql: string) => client.query<R>(sql, w.params).then((r) => r.rows);
  const groups = async (column: string) =>
    (
      await q<{ key: string; attempts: string; passed: string }>(
        `SELECT ${column} AS key, count(*) AS attempts, count(*) FILTER (WHERE result = 'pass') AS passed
           ${from} GROUP BY ${column}`,
      )
    ).map((r): [string, Counted] => [r.key, counted(r)]);

  const [all] = await client
    .query<{ n: string }>(`SELECT count(*) AS n FROM ${SCHEMA}.records`)
    .then((r) => r.rows);
  const [totals] = await q<{
    attempts: string;
    passed: string;
    without_mac: string;
    demo: string;
    first_start: number | null;
    last_end: number | null;
  }>(
    `SELECT count(*) AS attempts, count(*) FILTER (WHERE result = 'pass') AS passed,
            count(*) FILTER (WHERE mac IS NULL) AS without_mac, count(*) FILTER (WHERE demo_firmware) AS demo,
            min(${MS('start_at')}) AS first_start, max(${MS('end_at')}) AS last_end
       ${from}`,
  );
  const durations = await q<{ d: number; n: string }>(
    `SELECT duration_ms AS d, count(*) AS n ${from} GROUP BY duration_ms`,
  );
  const codes = await q<{ code: string; n: string }>(
    `SELECT coalesce(code, '(no code)') AS code, count(*) AS n FROM ${SCHEMA}.records ${failed} GROUP BY 1`,
  );
  const testSteps = await q<{ step: string; n: string }>(
    `SELECT record->'test'->>'failedStep' AS step, count(*) AS n
       FROM ${SCHEMA}.records ${failed} AND record->'test'->>'failedStep' IS NOT NULL GROUP BY 1`,
  );
  const messages = await q<{ message: string; n: string }>(
    `SELECT coalesce(message, '(no message)') AS message, count(*) AS n
       FROM ${SCHEMA}.records ${failed} GROUP BY 1 ORDER BY ${FIRST_SEEN}`,
  );
  const slots = await q<{ station: string; slot: string; attempts: string; passed: string }>(
    `SELECT station, slot, count(*) AS attempts, count(*) FILTER (WHERE result = 'pass') AS passed
       ${from} GROUP BY station, slot`,
  );
  const slotCodes = await q<{ station: string; slot: string; code: string; n: string }>(
    `SELECT station, slot, coalesce(code, '(no code)') AS code, count(*) AS n
       FROM ${SCHEMA}.records ${failed} GROUP BY 1, 2, 3`,
  );
  const bucket = Math.floor(bucketMs);
  const timeline = await q<{ bucket: number; attempts: string; passed: string }>(
    `SELECT floor(${MS('end_at')} / ${bucket}) * ${bucket} AS bucket, count(*) AS attempts,
            count(*) FILTER (WHERE result = 'pass') AS passed
       ${from} ${w.sql ? 'AND' : 'WHERE'} end_at IS NOT NULL GROUP BY 1`,
  );
  const recipes = await q<{
    recipe: string;
    attempts: string;
    passed: string;
    profiles: string[];
    demo: boolean;
    first: number | null;
    last: number | null;
  }>(
    `SELECT recipe, count(*) AS attempts, count(*) FILTER (WHERE result = 'pass') AS passed,
            array_agg(DISTINCT profile) AS profiles, bool_or(demo_firmware) AS demo,
            min(${MS('start_at')}) AS first, max(${MS('end_at')}) AS last
       ${from} GROUP BY recipe ORDER BY ${FIRST_SEEN}`,
  );

  const RETRIED = `EXISTS (SELECT 1 FROM jsonb_array_elements(record->'regions') AS g
                            WHERE (g->>'retries')::int > 0)`;
  const [retried] = await q<{ n: string }>(
    `SELECT count(*) AS n ${from} ${w.sql ? 'AND' : 'WHERE'} result = 'pass' AND ${RETRIED}`,
  );
  const phaseRows = await q<{ phase: string; ms: number; n: string }>(
    `SELECT p.key AS phase, p.value::float8 AS ms, count(*) AS n
       FROM ${SCHEMA}.records CROSS JOIN LATERAL jsonb_each_text(record->'phases') AS p ${w.sql}
      GROUP BY 1, 2`,
  );
  const slotBaudRows = await q<{
    station: string;
    slot: string;
    baud: number | null;
    passed: string;
    retried: string;
    max_baud: number | null;
  }>(
    `SELECT station, slot, (record->>'baud')::int AS baud,
            count(*) FILTER (WHERE result = 'pass') AS passed,
            count(*) FILTER (WHERE result = 'pass' AND ${RETRIED}) AS retried,
            max((record->>'baud')::int) AS max_baud
       ${from} GROUP BY 1, 2, 3`,
  );
  const phaseMap = new Map<string, Array<[number, number]>>();
  for (const r of phaseRows) {
    const list = phaseMap.get(r.phase) ?? [];
    list.push([Number(r.ms), Number(r.n)]);
    phaseMap.set(r.phase, list);
  }
  const slotBauds = new Map<string, RecordAggregates['slotBauds'][number]>();
  for (const r of slotBaudRows) {
    const key = `${r.station}\u0000${r.slot}`;
    let e = slotBauds.get(key);
    if (!e)
      slotBauds.set(
        key,
        (e = { station: r.station, slot: r.slot, passedRetried: 0, passBauds: [], maxBaud: 0 }),
      );
    e.passedRetried += Number(r.retried);
    if (r.baud !== null && Number(r.passed) > 0) e.passBauds.push([r.baud, Number(r.passed)]);
    if (r.max_baud !== null) e.maxBaud = Math.max(e.maxBaud, r.max_baud);
  }

  const slotCodeMap = new Map<string, Array<[string, number]>>();
  for (const r of slotCodes) {
    const key = `${r.station}\u0000${r.slot}`;
    const list = slotCodeMap.get(key) ?? [];
    list.push([r.code, Number(r.n)]);
    slotCodeMap.set(key, list);
  }
  return {
    records: Number(all.n),
    attempts: Number(totals.attempts),
    passed: Number(totals.passed),
    withoutMac: Number(totals.without_mac),
    demoAttempts: Number(totals.demo),
    firstStart: totals.first_start ?? Infinity,
    lastEnd: totals.last_end ?? -Infinity,
    durations: durations.map((r) => [r.d, Number(r.n)]),
    codes: codes.map((r) => [r.code, Number(r.n)]),
    testSteps: testSteps.map((r) => [r.step, Number(r.n)]),
    messages: messages.map((r) => [r.message, Number(r.n)]),
    slots: slots.map((r) => ({
      station: r.station,
      slot: r.slot,
      ...counted(r),
      codes: slotCodeMap.get(`${r.station}\u0000${r.slot}`) ?? [],
    })),
    timeline: timeline.map((r) => [num(r.bucket), counted(r)]),
    passedAfterRetry: Number(retried.n),
    phases: [...phaseMap],
    slotBauds: [...slotBauds.values()],
    recipes: recipes.map((r) => ({
      recipe: r.recipe,
      ...counted(r),
      profiles: r.profiles,
      demo: r.demo,
      first: r.first ?? Infinity,
      last: r.last ?? -Infinity,
    })),
    lots: await groups('lot'),
    stations: await groups('station'),
    operators: await groups('operator'),
  };
}

/**
 * One row per board (records with a MAC), in first-seen order, a page at a time through a cursor (memory stays
 * bounded by the page, not by the million boards of a year). Call inside inSnapshot: a cursor lives in a
 * transaction.
 */
export async function* boardPages(
  client: pg.ClientBase,
  filter: RecordQueryFilter,
  pageSize = 20_000,
): AsyncGenerator<BoardAggregate[]> {
  const w = whereClause(filter);
  const boardFilter = `${w.sql ? `${w.sql} AND` : 'WHERE'} mac IS NOT NULL`;
  await client.query(
    `DECLARE esp_station_boards NO SCROLL CURSOR FOR
     WITH f AS (SELECT * FROM ${SCHEMA}.records ${boardFilter}),
          boards AS (SELECT mac, count(*) AS attempts, ${FIRST_SEEN} AS seen FROM f GROUP BY mac),
          firsts AS (SELECT DISTINCT ON (mac) mac, start_at, result, recipe FROM f
                      ORDER BY mac, start_at ASC NULLS LAST, ${LEDGER_ORDER}),
          lasts AS (SELECT DISTINCT ON (mac) mac, end_at, result, demo_firmware, recipe, lot, station, slot, code,
                           message
                      FROM f ORDER BY mac, end_at DESC NULLS LAST, ${LEDGER_ORDER_DESC})
     SELECT boards.mac, boards.attempts,
            ${MS('firsts.start_at')} AS first_start, firsts.result = 'pass' AS first_pass,
            firsts.recipe AS first_recipe,
            ${MS('lasts.end_at')} AS last_end, lasts.result = 'pass' AS last_pass,
            lasts.demo_firmware AS last_demo, lasts.recipe AS last_recipe, lasts.lot AS last_lot,
            lasts.station AS last_station, lasts.slot AS last_slot,
            CASE WHEN lasts.result = 'pass' THEN '' ELSE coalesce(lasts.code, '(no code)') END AS last_code,
            CASE WHEN lasts.result = 'pass' THEN '' ELSE coalesce(lasts.message, '') END AS last_message
       FROM boards JOIN firsts USING (mac) JOIN lasts USING (mac)
      ORDER BY boards.seen COLLATE "C"`,
    w.params,
  );
  try {
    for (;;) {
      const { rows } = await client.query<{
        mac: string;
        attempts: string;
        first_start: number | null;
        first_pass: boolean;
        first_recipe: string;
        last_end: number | null;
        last_pass: boolean;
        last_demo: boolean;
        last_recipe: string;
        last_lot: string;
        last_station: string;
        last_slot: string;
        last_code: string;
        last_message: string;
      }>(`FETCH ${Math.max(1, Math.floor(pageSize))} FROM esp_station_boards`);
      if (rows.length === 0) return;
      yield rows.map((r) => ({
        mac: r.mac,
        attempts: Number(r.attempts),
        firstStart: r.first_start ?? Infinity,
        firstPass: r.first_start !== null && r.first_pass,
        firstRecipe: r.first_recipe,
        lastEnd: r.last_end ?? -Infinity,
        lastPass: r.last_pass,
        lastDemo: r.last_demo,
        lastRecipe: r.last_recipe,
        lastLot: r.last_lot,
        lastStation: r.last_station,
        lastSlot: r.last_slot,
        lastCode: r.last_code,
        lastMessage: r.last_message,
      }));
    }
  } finally {
    await client.query('CLOSE esp_station_boards').catch(() => undefined);
  }
}
