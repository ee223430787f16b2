/**
 * `esp-station report`: yield figures from the ledger as text, CSV, JSON or one self-contained HTML file.
 * Exit 0 with a report (unreadable ledger lines are reported, never fatal), 2 for bad input.
 */
import { parseCommandArgs } from '../command-args.ts';
import { createWriteStream, existsSync } from 'node:fs';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { InputError } from '../../config/problems.ts';
import type { Problem } from '../../config/problems.ts';
import { formatLedgerProblem } from '../../ledger/reader.ts';
import { buildReport } from '../../report/build-report.ts';
import { CSV_TABLES, formatCsv } from '../../report/format-csv.ts';
import type { CsvTable } from '../../report/format-csv.ts';
import { formatHtml } from '../../report/format-html.ts';
import { formatText } from '../../report/format-text.ts';
import { defaultLedgerLocation } from '../ledger-location.ts';
import { parseTimeArgument } from '../../report/time-argument.ts';
import type { ReportFilter } from '../../report/yield-report.ts';

const FORMATS = ['text', 'csv', 'json', 'html'] as const;
type Format = (typeof FORMATS)[number];

const USAGE = `usage: esp-station report [--ledger FILE|DIR] [--since T] [--until T] [--lot L] [--station S]
                          [--profile P] [--format text|csv|json|html] [--table T] [--out FILE]

Yield figures from the ledger: totals, first-pass and final yield, failure Pareto, per-slot yield with
outliers flagged, time per phase, attempts over time, split by firmware recipe; CSV board list for MES import.
  --ledger FILE|DIR  a ledger file or a directory of rotated files (default: ledger.dir of --config or
                     ./config.yaml, else var/ledger)
  --config FILE      station config to take the ledger location from
  --since T, --until T
                     attempts that ended in [since, until): 2026-11-23, 2026-11-23T14:00 (UTC unless an
                     offset is given, e.g. +01:00), or back from now: 90m, 12h, 7d
  --lot L, --station S, --profile P
                     only these (repeat the option or separate with commas)
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
  if (table !== undefined && format !== 'csv') {
    problems.push({ file: cmd, key: '--table', message: '--table only applies with --format csv' });
  } else if (table !== undefined && !(CSV_TABLES as readonly string[]).includes(table)) {
    problems.push({
      file: cmd,
      key: '--table',
      message: `unknown table '${table}'; use one of ${CSV_TABLES.join(', ')}`,
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
  if (problems.length > 0) throw new InputError(problems);

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
    if (report.demo.attempts > 0) {
      console.error(`esp-station report: warning: ${report.demo.attempts} attempt(s) flashed DEMO FIRMWARE`);
    }
    const out = values.out as string | undefined;
    const sink: Writable = out ? createWriteStream(out) : process.stdout;
    const chunks: Iterable<string> =
      (format as Format) === 'csv'
        ? formatCsv((table as CsvTable | undefined) ?? 'boards', report, aggregator)
        : [
            format === 'json'
              ? `${JSON.stringify(report, null, 2)}\n`
              : format === 'html'
                ? formatHtml(report)
                : formatText(report),
          ];
    try {
      await writeAll(sink, chunks);
    } catch (err) {
      // `esp-station report | head`: the reader went away, which is not an error of the report.
      if ((err as NodeJS.ErrnoException).code === 'EPIPE' && !out) return 0;
      throw err;
    }
    if (out) {
      sink.end();
      await once(sink, 'finish');
      console.error(`esp-station report: wrote ${out}`);
    }
    return 0;
  } catch (err) {
    if (!ac.signal.aborted) throw err;
    console.error('esp-station report: interrupted; no report written');
    return 1;
  } finally {
    process.removeListener('SIGINT', onSigint);
  }
}

/** Writes in batches and honours back-pressure, so a million-row CSV never piles up in memory. */
async function writeAll(sink: Writable, chunks: Iterable<string>): Promise<void> {
  // Errors (EPIPE) arrive as events; turn them into a rejection of this call instead of a crash.
  let failed: Error | undefined;
  const onError = (err: Error) => (failed = err);
  sink.on('error', onError);
  try {
    await writeChunks(sink, chunks, () => failed);
  } finally {
    sink.off('error', onError);
  }
  if (failed) throw failed;
}

async function writeChunks(
  sink: Writable,
  chunks: Iterable<string>,
  failed: () => Error | undefined,
): Promise<void> {
  let batch = '';
  for (const c of chunks) {
    batch += c;
    if (batch.length >= 1 << 16) {
      const error = failed();
      if (error) throw error;
      if (!sink.write(batch)) await once(sink, 'drain');
      batch = '';
    }
  }
  if (batch.length > 0 && !sink.write(batch)) await once(sink, 'drain');
}
