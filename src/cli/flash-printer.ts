/**
 * What `esp-station flash` prints while the station's pipeline runs one board: the board's identity, the
 * loader and baud, a progress line on a terminal, one line per region written and verified, warnings, then a
 * summary table and PASS or FAIL. Text from the board (boot lines in messages) is made screen-safe first.
 */
import { formatKeyValues, identityLines } from '../esp/identity-text.ts';
import type { RegionRecord } from '../ledger/record.ts';
import type { BoardInfo } from '../station/events.ts';
import type { AttemptOutcome, PipelineEvent } from '../station/pipeline.ts';
import { screenSafe } from '../ui/screen-safe-text.ts';

export interface FlashPrinter {
  onEvent(e: PipelineEvent): void;
  /** Prints the summary and the verdict; returns the exit code (0 PASS, 1 FAIL). */
  finish(outcome: AttemptOutcome, seconds: number): number;
}

export function flashPrinter(o: {
  port: string;
  stub: boolean;
  /** --verbose: the link's own lines (every reset, the stub's start, a block sent again) go to stderr too. */
  verbose?: boolean;
  out?: NodeJS.WriteStream;
  err?: NodeJS.WriteStream;
}): FlashPrinter {
  const out = o.out ?? process.stdout;
  const err = o.err ?? process.stderr;
  const tty = out.isTTY === true;
  let identified = false;
  let lastBoard: BoardInfo | undefined;
  const printIdentity = (board: BoardInfo): void => {
    identified = true;
    line(formatKeyValues([['Port', o.port], ...identityLines({ ...board, displayName: board.chipDisplay })]));
  };
  let loaderShown = false;
  let lastProgress = 0;
  let progressOnLine = false;
  const line = (text: string, to = out): void => {
    if (progressOnLine) out.write('\n');
    progressOnLine = false;
    to.write(`${text}\n`);
  };
  return {
    onEvent(e) {
      if (e.type === 'state') {
        if (e.board) lastBoard = e.board;
        // The flash is identified once the loader runs; the identity is printed whole when it is known.
        if (e.board?.flashId !== undefined && !identified) printIdentity(e.board);
        if (e.state === 'flashing' && !loaderShown && e.baud !== undefined) {
          loaderShown = true;
          line(`Loader: ${o.stub ? 'stub' : 'ROM'} at ${e.baud} baud`);
        }
        if (e.state === 'resetting') line('Resetting the board into its firmware ...');
        if (e.state === 'boot-check' && e.message) line(`Boot check: ${screenSafe(e.message)}`);
        if (e.state === 'testing' && e.message) line(`AT test: ${screenSafe(e.message)}`);
      } else if (e.type === 'progress') {
        if (!tty) return;
        const now = Date.now();
        const p = e.progress;
        if (now - lastProgress < 100 && p.regionDone < p.regionTotal) return;
        lastProgress = now;
        const pct = p.regionTotal ? Math.floor((100 * p.regionDone) / p.regionTotal) : 100;
        const all = Math.floor((100 * p.overallDone) / Math.max(1, p.overallTotal));
        out.write(
          `\rWriting ${screenSafe(p.regionLabel)} @0x${p.regionOffset.toString(16)} ... ${String(pct).padStart(3)}% (${(p.bytesPerSecond / 1024).toFixed(1)} KiB/s, overall ${all}%)   `,
        );
        progressOnLine = true;
      } else if (e.type === 'region') {
        line(regionLine(e.region));
      } else if (e.type === 'retry') {
        // Printed as the warning it used to be: the sentence says what failed and that it is tried again.
        line(`warn: ${screenSafe(e.message)}`, err);
      } else if (e.level !== 'info') {
        line(`${e.level}: ${screenSafe(e.message)}`, err);
      } else if (o.verbose) {
        line(`log: ${screenSafe(e.message)}`, err);
      }
    },
    finish(outcome, seconds) {
      if (!identified && lastBoard) printIdentity(lastBoard);
      if (outcome.regions.length > 0) line(`\n${summaryTable(outcome.regions)}`);
      const t = outcome.test;
      if (t?.result === 'skipped') line(`AT test: skipped, ${screenSafe(t.note ?? '')}`);
      else if (t)
        line(
          `AT test: ${t.result.toUpperCase()} after ${t.transcript.length} step(s) on ${t.port} at ${t.baud} baud`,
        );
      if (outcome.result === 'pass') {
        const written = outcome.regions.filter((r) => !r.skipped);
        const bytes = written.reduce((n, r) => n + r.size, 0);
        line(
          `\nPASS: ${outcome.regions.length} region(s), ${bytes} bytes written and verified in ${seconds.toFixed(2)} s`,
        );
        return 0;
      }
      line(`FAIL: ${screenSafe(outcome.message ?? 'failed')} [${outcome.code ?? 'internal'}]`, err);
      return 1;
    },
  };
}

function regionLine(r: RegionRecord): string {
  const what = r.skipped
    ? 'unchanged, skipped'
    : `${r.size} bytes in ${r.seconds.toFixed(2)} s, MD5 verified${r.retries ? ` (${r.retries} retries)` : ''}`;
  return `Wrote ${screenSafe(r.label)} @0x${r.offset.toString(16)}: ${what}`;
}

function summaryTable(regions: readonly RegionRecord[]): string {
  const head = ['region', 'offset', 'bytes', 'MD5 (verified on chip)', 'seconds', 'retries'];
  const rows = regions.map((r) => [
    screenSafe(r.label),
    `0x${r.offset.toString(16).padStart(5, '0')}`,
    String(r.size),
    `${r.md5Chip ?? '(not verified)'}${r.skipped ? ' (unchanged)' : ''}`,
    r.seconds.toFixed(2),
    String(r.retries),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  return [head, ...rows]
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i]))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}
