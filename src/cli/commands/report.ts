/**
 * `esp-station report`: yield figures from the ledger as text, CSV, JSON or one self-contained HTML file.
 * Exit 0 with a report (unreadable ledger lines are reported, never fatal), 2 for bad input.
 */
import { parseCommandArgs } from '../command-args.ts';
import { createWriteStream, existsSync } from 'node:fs';
import { rename, unlink } from 'node:fs/promises';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { InputError } from '../../config/problems.ts';
import type { Problem } from '../../config/problems.ts';
import { formatLedgerProblem } from '../../ledger/reader.ts';
import { boardHistoryChunks, historyChunks } from '../../report/board-history.ts';
import { buildReport } from '../../report/build-report.ts';
import { CSV_TABLES, formatCsv } from '../../report/format-csv.ts';
import type { CsvTable } from '../../report/format-csv.ts';
import { formatHtml } from '../../report/format-html.ts';
import { formatText } from '../../report/format-text.ts';
import { defaultLedgerLocation } from '../ledger-location.ts';
import { parseTimeArgument } from '../../report/time-argument.ts';
import type { ReportFilter, YieldReport } from '../../report/yield-report.ts';
import type { YieldAggregator } from '../../report/yield-aggregator.ts';
import type { CentralTarget } from '../../central/connection.ts';
import type { StationComparisonRow } from '../../central/station-comparison.ts';
import { centralTargetFrom } from '../central-target.ts';
import { formatStationComparisonCsv, formatStationComparisonText } from '../format-station-comparison.ts';
import { reportOutputProblem } from '../report-output.ts';
import { writeAll } from '../write-chunks.ts';

/** The CSV table only `--db` has: the stations side by side. */
const STATIONS_COMPARED = 'stations-compared';

const FORMATS = ['text', 'csv', 'json', 'html'] as const;
type Format = (typeof FORMATS)[number];

const USAGE = `usage: esp-station report [--ledger FILE|DIR] [--db URL] [--since T] [--until T] [--lot L]
                          [--station S] [--profile P] [--recipe R] [--mac M] [--serial S]
                          [--format text|csv|json|html] [--table T] [--out FILE]

Yield figures from the ledger: totals, first-pass and final yield, failure Pareto, per-slot yield with
outliers flagged, time per phase, attempts over time, split by firmware recipe; CSV board list for MES import.
  --ledger FILE|DIR  a ledger file or a directory of rotated files (default: ledger.dir of --config or
                     ./config.yaml, else var/ledger)
  --config FILE      station config to take the ledger location from
  --since T, --until T
                     attempts that ended in [since, until): 2026-11-23, 2026-11-23T14:00 (UTC unless an
                     offset is given, e.g. +01:00), or back from now: 90m, 12h, 7d
  --db URL           the central database instead of a ledger: postgres://user@host:port/db (password
                     from --password-env NAME, --password-file FILE, or PGPASSWORD / ~/.pgpass); the same
                     figures, plus the stations compared side by side (text, json, csv --table stations-compared)
  --lot L, --station S, --profile P
                     only these (repeat the option or separate with commas)
  --recipe R         only this firmware recipe (its fingerprint or the first characters shown in reports)
  --mac M, --serial S
                     only these boards (MAC in any case, with or without colons; serial number), each
                     board's history first (what it got, every attempt: station, slot, operator, time)
  --format F         text (default), csv, json or html
  --tz ZONE          time zone the text and HTML reports show times in, e.g. Europe/Berlin or UTC
                     (default: this machine's; CSV and JSON times are always ISO UTC)
  --table T          for csv: ${CSV_TABLES.join(', ')} (default boards: one row per board)
  --out FILE         write to FILE instead of standard output
  --workers N        threads for large ledgers (1 = none; default: one per CPU from 4 CPUs and 64 MB up)`;

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

export async function run(argv: string[]): Promise<number> {
  const cmd = '<command line>';
  const parsed = parseCommandArgs(
    {
      args: argv,
      options: {
        ledger: { type: 'string' },
        config: { type: 'string' },
        since: { type: 'string' },
        until: { type: 'string' },
        lot: { type: 'string', multiple: true },
        station: { type: 'string', multiple: true },
        profile: { type: 'string', multiple: true },
        recipe: { type: 'string', multiple: true },
        mac: { type: 'string', multiple: true },
        serial: { type: 'string', multiple: true },
        db: { type: 'string' },
        'password-env': { type: 'string' },
        'password-file': { type: 'string' },
        format: { type: 'string' },
        tz: { type: 'string' },
        table: { type: 'string' },
        out: { type: 'string' },
        workers: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    },
    USAGE,
  );
  if (!parsed) return 0;
  const values: Record<string, string | string[] | boolean | undefined> = parsed.values;

  const problems: Problem[] = [];
  const now = new Date();
  const format = (values.format as string | undefined) ?? 'text';
  if (!(FORMATS as readonly string[]).includes(format)) {
    problems.push({
      file: cmd,
      key: '--format',
      message: `unknown format '${format}'; use one of ${FORMATS.join(', ')}`,
    });
  }
  const table = values.table as string | undefined;
  const db = values.db as string | undefined;
  const tables: readonly string[] = db !== undefined ? [...CSV_TABLES, STATIONS_COMPARED] : CSV_TABLES;
  if (table !== undefined && format !== 'csv') {
    problems.push({ file: cmd, key: '--table', message: '--table only applies with --format csv' });
  } else if (table === STATIONS_COMPARED && db === undefined) {
    problems.push({
      file: cmd,
      key: '--table',
      message: `--table ${STATIONS_COMPARED} needs --db (the central database)`,
    });
  } else if (table !== undefined && !tables.includes(table)) {
    problems.push({
      file: cmd,
      key: '--table',
      message: `unknown table '${table}'; use one of ${tables.join(', ')}`,
    });
  }
  const timeZone = values.tz as string | undefined;
  if (timeZone !== undefined && !isTimeZone(timeZone)) {
    problems.push({
      file: cmd,
      key: '--tz',
      message: `unknown time zone '${timeZone}'; give an IANA zone such as Europe/Berlin, America/Chicago or UTC`,
    });
  }
  const workersText = values.workers as string | undefined;
  const workers = workersText === undefined ? undefined : Number(workersText);
  if (workers !== undefined && !(Number.isInteger(workers) && workers >= 1 && workers <= 64)) {
    problems.push({
      file: cmd,
      key: '--workers',
      message: `'${workersText}' is not a thread count; use 1 to 64`,
    });
  }
  const filter: ReportFilter = {};
  for (const key of ['since', 'until'] as const) {
    const text = values[key] as string | undefined;
    if (text === undefined) continue;
    const iso = parseTimeArgument(text, now);
    if (iso === undefined) {
      problems.push({
        file: cmd,
        key: `--${key}`,
        message: `'${text}' is not a time; use 2026-11-23, 2026-11-23T14:00, 2026-11-23T14:00+01:00, or 90m / 12h / 7d back from now`,
      });
    } else filter[key] = iso;
  }
  if (filter.since && filter.until && filter.since >= filter.until) {
    problems.push({
      file: cmd,
      key: '--until',
      message: `--until (${filter.until}) must be after --since (${filter.since})`,
    });
  }
  const list = (v: unknown) => {
    const items = ((v as string[] | undefined) ?? [])
      .flatMap((s) => s.split(','))
      .map((s) => s.trim())
      .filter(Boolean);
    return items.length > 0 ? items : undefined;
  };
  const lots = list(values.lot);
  const stations = list(values.station);
  const profiles = list(values.profile);
  if (lots) filter.lots = lots;
  if (stations) filter.stations = stations;
  if (profiles) filter.profiles = profiles;
  const recipes = list(values.recipe);
  for (const r of recipes ?? []) {
    if (!/^[0-9a-f]{4,64}$/i.test(r)) {
      problems.push({
        file: cmd,
        key: '--recipe',
        message: `'${r}' is not a recipe fingerprint; give its hex digits (at least 4, e.g. the 12 a report shows)`,
      });
    }
  }
  if (recipes) filter.recipes = recipes.map((r) => r.toLowerCase());
  const macs = list(values.mac);
  for (const m of macs ?? []) {
    if (normalMac(m) === undefined) {
      problems.push({
        file: cmd,
        key: '--mac',
        message: `'${m}' is not a MAC; write it as 24:0A:C4:12:34:56 or 240ac4123456`,
      });
    }
  }
  if (macs) filter.macs = macs.map((m) => normalMac(m) ?? m);
  const serials = list(values.serial);
  if (serials) filter.serials = serials;
  if (db !== undefined && values.ledger !== undefined) {
    problems.push({ file: cmd, key: '--db', message: 'give --ledger or --db, not both' });
  }
  if (db === undefined) {
    for (const k of ['password-env', 'password-file'] as const) {
      if (values[k] !== undefined)
        problems.push({ file: cmd, key: `--${k}`, message: `--${k} only applies with --db` });
    }
  } else if (workers !== undefined) {
    problems.push({
      file: cmd,
      key: '--workers',
      message: '--workers is for ledgers; with --db the database aggregates',
    });
  }
  if (problems.length > 0) throw new InputError(problems);
  if (db !== undefined) {
    const target = await centralTargetFrom({
      url: db,
      urlOption: '--db',
      passwordEnv: values['password-env'] as string | undefined,
      passwordFile: values['password-file'] as string | undefined,
    });
    return reportFromDatabase({
      target,
      filter,
      now,
      format: format as Format,
      table,
      out: values.out as string | undefined,
    });
  }

  let ledger = values.ledger as string | undefined;
  if (ledger === undefined) {
    const found = await defaultLedgerLocation(values.config as string | undefined);
    ledger = found.path;
    if (!existsSync(ledger)) {
      throw new InputError({
        file: cmd,
        key: '--ledger',
        message: `no ledger at ${ledger} (${found.from === 'default' ? 'the default location' : `ledger.dir of ${found.from}`}); give --ledger FILE|DIR`,
      });
    }
  } else if (!existsSync(ledger)) {
    throw new InputError({ file: cmd, key: '--ledger', message: `no such file or directory: ${ledger}` });
  }

  const out = values.out as string | undefined;
  if (out !== undefined) {
    const outProblem = await reportOutputProblem(out, ledger);
    if (outProblem) throw new InputError(outProblem);
  }

  const ac = new AbortController();
  const onSigint = () => ac.abort();
  process.once('SIGINT', onSigint);
  try {
    const { report, aggregator } = await buildReport({
      ledger,
      filter,
      now,
      signal: ac.signal,
      workers,
      ...(timeZone && { timeZone }),
    });
    if (report.ledger.problemCount > 0) {
      const first = report.ledger.problems[0];
      console.error(
        `esp-station report: warning: ${report.ledger.problemCount} unreadable ledger line(s) skipped` +
          (first ? `, first at ${formatLedgerProblem(first)}` : ''),
      );
    }
    // Asked about particular boards: each one's history first (what it got, every attempt, where, by whom).
    const history = (await boardHistoryChunks(ledger, filter, format, report)) ?? [];
    const rest =
      history.length > 0 && format === 'json' ? [] : chunksOf(format as Format, table, report, aggregator);
    return await emit(out, [...history, ...rest]);
  } catch (err) {
    if (out) await unlink(`${out}.partial-${process.pid}`).catch(() => undefined);
    if (!ac.signal.aborted) throw err;
    console.error('esp-station report: interrupted; no report written');
    return 1;
  } finally {
    process.removeListener('SIGINT', onSigint);
  }
}

/** The report's text in the chosen format; the database's station comparison joins text, json and its CSV table. */
function chunksOf(
  format: Format,
  table: string | undefined,
  report: YieldReport,
  aggregator: YieldAggregator,
  stations?: StationComparisonRow[],
): Iterable<string> {
  if (report.demo.attempts > 0) {
    console.error(`esp-station report: warning: ${report.demo.attempts} attempt(s) flashed DEMO FIRMWARE`);
  }
  if (format === 'csv') {
    if (table === STATIONS_COMPARED && stations) return formatStationComparisonCsv(stations);
    return formatCsv((table as CsvTable | undefined) ?? 'boards', report, aggregator);
  }
  if (format === 'json') {
    return [`${JSON.stringify(stations ? { ...report, stationsCompared: stations } : report, null, 2)}\n`];
  }
  if (format === 'html') return [formatHtml(report)];
  return [formatText(report) + (stations ? formatStationComparisonText(stations) : '')];
}

async function emit(out: string | undefined, chunks: Iterable<string>): Promise<number> {
  // Written beside the target and renamed into place: a failed or interrupted report leaves no half file.
  const partial = out ? `${out}.partial-${process.pid}` : undefined;
  const sink: Writable = partial ? createWriteStream(partial) : process.stdout;
  try {
    await writeAll(sink, chunks);
  } catch (err) {
    // `esp-station report | head`: the reader went away, which is not an error of the report.
    if ((err as NodeJS.ErrnoException).code === 'EPIPE' && !out) return 0;
    throw err;
  }
  if (out && partial) {
    sink.end();
    await once(sink, 'finish');
    await rename(partial, out);
    console.error(`esp-station report: wrote ${out}`);
  }
  return 0;
}

async function reportFromDatabase(o: {
  target: CentralTarget;
  filter: ReportFilter;
  now: Date;
  format: Format;
  table: string | undefined;
  out: string | undefined;
}): Promise<number> {
  // Loaded only for --db: a ledger report never loads the PostgreSQL client.
  const { buildDbReport, explainDatabaseFailure } = await import('../db-report.ts');
  let built;
  try {
    built = await buildDbReport({ target: o.target, filter: o.filter, now: o.now });
  } catch (err) {
    console.error(`esp-station report: ${explainDatabaseFailure(err, o.target)}`);
    return 1;
  }
  if (o.format === 'html') {
    console.error(
      'esp-station report: the HTML report has no station comparison; use text, json or csv for it',
    );
  }
  // Asked about particular boards: each one's history first, as with --ledger.
  const history =
    built.boards && (o.format === 'text' || o.format === 'json')
      ? historyChunks(built.boards, o.filter, o.format, built.report)
      : [];
  const rest =
    history.length > 0 && o.format === 'json'
      ? []
      : chunksOf(o.format, o.table, built.report, built.aggregator, built.stations);
  return emit(o.out, [...history, ...rest]);
}

/** `24:0a:c4:12:34:56`, `240AC4123456`, `24-0A-…` → `24:0A:C4:12:34:56`; undefined when not a MAC. */
function normalMac(text: string): string | undefined {
  const hex = text.replace(/[:-]/g, '').toUpperCase();
  if (!/^[0-9A-F]{12}$/.test(hex)) return undefined;
  return hex.match(/../g)?.join(':');
}
