/**
 * One station per ledger: an exclusive advisory lock, held for as long as a LedgerWriter is open.
 *
 * Why fs-native-extensions: Node has no flock(). Its tryLock is an open-file-description lock on Linux
 * (fcntl F_OFD_SETLK): held by the open file, not by the process, so closing some other descriptor of the same
 * file (the reader's scan, a report) never drops it, two writers in one process exclude each other too, and the
 * kernel releases it when the holder dies — a station killed with -9 never leaves a stale lock behind, which a
 * lock *file* (mkdir / O_EXCL / pid file) cannot promise without guessing at staleness.
 *
 * The lock is taken on a small empty file beside what it protects (`<file>.jsonl.lock` for a single ledger file,
 * `<station>.lock` for a station's rotated files in a directory), never deleted (deleting lock files races), and
 * never named `*.jsonl`, so readers and reports do not see it.
 */
import { open, readdir, readFile, readlink, realpath } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { tryLock } from 'fs-native-extensions';
import { terminalSafe } from '../text/terminal-safe.ts';

export class LedgerLockedError extends Error {
  constructor(
    readonly lockPath: string,
    readonly holder: string | undefined,
    readonly ledger: string,
  ) {
    super(
      `the ledger ${ledger} is in use by another station (${holder ?? 'a process not visible from here, perhaps on another machine'}; lock ${lockPath}). ` +
        'Two stations must never share one ledger file: give this station its own ledger (--ledger FILE, or another ledger.dir or station name), or stop the other one',
    );
    this.name = 'LedgerLockedError';
  }
}

export interface LedgerLock {
  readonly path: string;
  release(): Promise<void>;
}

/** Takes the lock or throws LedgerLockedError naming the holder when it can be found. */
export async function lockLedger(lockPath: string, ledger: string): Promise<LedgerLock> {
  const handle: FileHandle = await open(lockPath, 'a');
  let locked = false;
  try {
    locked = tryLock(handle.fd);
  } finally {
    if (!locked) await handle.close();
  }
  if (!locked) throw new LedgerLockedError(lockPath, await lockHolder(lockPath), ledger);
  let released = false;
  return {
    path: lockPath,
    async release() {
      if (released) return;
      released = true;
      await handle.close(); // closing the description releases the lock
    },
  };
}

/**
 * Who has the lock file open (best effort, Linux /proc): "pid 1234: node bin/esp-station.mjs run ...".
 * Only lock holders open lock files, so an open descriptor names the other station.
 */
async function lockHolder(lockPath: string): Promise<string | undefined> {
  const target = await realpath(lockPath).catch(() => lockPath);
  const pids = (await readdir('/proc').catch(() => [] as string[])).filter(
    (n) => /^\d+$/.test(n) && Number(n) !== process.pid,
  );
  for (const pid of pids) {
    const fds = await readdir(`/proc/${pid}/fd`).catch(() => [] as string[]);
    for (const fd of fds) {
      const link = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '');
      if (link !== target) continue;
      const cmd = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
      // Another process's words reach the terminal.
      const words = terminalSafe(cmd.split('\0').filter(Boolean).join(' '));
      return `pid ${pid}${words ? `: ${words.length > 200 ? `${words.slice(0, 200)}…` : words}` : ''}`;
    }
  }
  return undefined;
}
