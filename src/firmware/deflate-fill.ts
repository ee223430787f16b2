/**
 * Filling the deflate cache for a prepared image set, on a worker thread (deflate-fill-worker.ts): zopfli takes
 * seconds per release, so it never runs on an event loop that talks to boards. `esp-station check` waits for
 * it; the station and the flash command start it in the background and stop it when they are done — what they
 * are flashing keeps the streams it was prepared with, later preparations pick up the new ones.
 */
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import {
  deflateCacheFromEnv,
  DEFLATE_CACHE_ENV,
  validatedInThisProcess,
  type DeflateCache,
} from './deflate-cache.ts';
import type { FillJob, FillMessage } from './deflate-fill-worker.ts';
import type { PreparedRegion } from './prepared-region.ts';

export interface FillSummary {
  /** Undefined: the cache is off. */
  dir?: string;
  regions: number;
  /** Pieces newly packed, and pieces that already had a valid entry. */
  filled: number;
  had: number;
  /** What a fresh board is sent through the stub (blank sectors skipped), with zlib-9 and with the cache. */
  zlib9Bytes: number;
  packedBytes: number;
  ms: number;
  /** Why the fill did not finish (a read-only directory, stopped); runs send zlib-9 for what is missing. */
  failure?: string;
}

export interface DeflateFill {
  done: Promise<FillSummary>;
  /** Ends the worker now (its finished entries stay); `done` then resolves with failure 'stopped'. */
  stop(): void;
}

/**
 * The pieces prepareFirmware compresses, the ones a fresh board is sent first (each region, or the parts
 * between its blank sectors), then whole regions that have such parts (sent by the ROM loader).
 */
export function fillPieces(regions: readonly Pick<PreparedRegion, 'data' | 'erasedPlan'>[]): {
  sent: Uint8Array[];
  others: Uint8Array[];
} {
  const sent = regions.flatMap((r) => (r.erasedPlan ? r.erasedPlan.parts.map((p) => p.data) : [r.data]));
  const others = regions.filter((r) => r.erasedPlan).map((r) => r.data);
  return { sent, others };
}

export function startDeflateFill(
  regions: readonly Pick<PreparedRegion, 'data' | 'erasedPlan'>[],
  opts: {
    /** Default: the cache the environment names (none when it is off). */
    cache?: DeflateCache | undefined;
    /** Called once, when the first piece without an entry is being packed (the slow part begins). */
    onPacking?: () => void;
    /**
     * Leave out pieces whose entry this process already found valid (preparing them): with a warm cache a
     * background fill then starts no worker at all and costs the run nothing.
     */
    onlyMissing?: boolean;
  } = {},
): DeflateFill {
  const cache = 'cache' in opts ? opts.cache : deflateCacheFromEnv();
  const started = performance.now();
  const summary: FillSummary = {
    regions: regions.length,
    filled: 0,
    had: 0,
    zlib9Bytes: 0,
    packedBytes: 0,
    ms: 0,
  };
  if (!cache) return { done: Promise.resolve(summary), stop: () => undefined };
  summary.dir = cache.dir;
  const all = fillPieces(regions);
  const missing = (d: Uint8Array) => !opts.onlyMissing || !validatedInThisProcess(cache.fileFor(d));
  const sent = all.sent.filter(missing);
  const others = all.others.filter(missing);
  if (sent.length + others.length === 0) {
    summary.had = all.sent.length + all.others.length;
    return { done: Promise.resolve(summary), stop: () => undefined };
  }
  // Copies: the prepared bytes are shared by every worker of the station and must stay attached here.
  const job: FillJob = { dir: cache.dir, tag: cache.tag, pieces: [...sent, ...others].map((d) => d.slice()) };
  const worker = new Worker(new URL('./deflate-fill-worker-entry.mjs', import.meta.url), { workerData: job });
  // Never the reason a command is still running.
  worker.unref();
  let settle!: (s: FillSummary) => void;
  const done = new Promise<FillSummary>((resolve) => (settle = resolve));
  let settled = false;
  let packing = false;
  const finish = (failure?: string) => {
    if (settled) return;
    settled = true;
    summary.ms = performance.now() - started;
    if (failure) summary.failure = failure;
    settle(summary);
  };
  worker.on('message', (m: FillMessage) => {
    if (m.type === 'piece') {
      summary[m.state]++;
      if (m.index < sent.length) {
        summary.zlib9Bytes += m.zlib9Bytes;
        summary.packedBytes += m.packedBytes;
      }
    } else if (m.type === 'packing') {
      if (!packing) opts.onPacking?.();
      packing = true;
    } else if (m.type === 'failed') finish(m.message);
    else finish();
  });
  worker.on('error', (err) => finish(err.message));
  worker.on('exit', () => finish('stopped'));
  return {
    done,
    stop: () => {
      void worker.terminate();
    },
  };
}

const bytes = (n: number) => n.toLocaleString('en-US');
/** The cache's directory as the engineer typed paths: relative when it is below the current one. */
const shown = (dir: string) => {
  const rel = path.relative(process.cwd(), dir);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : dir;
};

/** One line for the engineer: what the cache holds for this set and what it saves per board. */
export function formatFillSummary(s: FillSummary): string {
  if (s.dir === undefined)
    return `deflate cache: off (${DEFLATE_CACHE_ENV}=off); every run sends zlib-9 streams`;
  if (s.failure)
    return (
      `deflate cache: not filled (${s.failure}); runs send zlib-9 streams for what is missing ` +
      `(${DEFLATE_CACHE_ENV}=<dir> puts the cache elsewhere)`
    );
  const saved = s.zlib9Bytes - s.packedBytes;
  const percent = s.zlib9Bytes ? ((100 * saved) / s.zlib9Bytes).toFixed(1) : '0.0';
  const regions = `${s.regions} region${s.regions === 1 ? '' : 's'}`;
  const what =
    s.filled === 0 ? `${regions} already packed` : `packed ${regions} in ${(s.ms / 1000).toFixed(1)} s`;
  return (
    `deflate cache: ${what}: ${bytes(s.zlib9Bytes)} → ${bytes(s.packedBytes)} B (−${percent} %); ` +
    `later runs send ${Math.round(saved / 1000)} KB less (${shown(s.dir)})`
  );
}
