/**
 * The terminal or pipe going away is a stop request, never a silent exit. A closed stdout/stderr (`| head`,
 * a reader that died, a terminal that is gone: EPIPE, EIO) or a hang-up (SIGHUP: the terminal window closed,
 * the SSH session dropped) reaches the command that holds boards, which finishes or fails the boards in flight,
 * records them, and exits 1. Commands that hold no board keep the old manners: `report | head` exits quietly.
 */
export type StopCause = 'output closed' | 'hang-up';

type StopListener = (cause: StopCause) => void;

const listeners = new Set<StopListener>();
let requested: StopCause | undefined;

/** Error codes of a write to an output nobody reads any more. */
const GONE = new Set(['EPIPE', 'EIO', 'ECONNRESET', 'ENOTCONN', 'ERR_STREAM_DESTROYED']);

/** The first stop request of this process, if any (the command's exit code depends on it). */
export function stopRequested(): StopCause | undefined {
  return requested;
}

/**
 * A command that holds boards listens here for as long as it does. A request that came before the command
 * started listening is delivered at once.
 */
export function onStopRequest(listener: StopListener): () => void {
  listeners.add(listener);
  if (requested) queueMicrotask(() => listeners.has(listener) && listener(requested!));
  return () => listeners.delete(listener);
}

let outputClosed = false;

function request(cause: StopCause, orElse: () => void): void {
  requested ??= cause;
  if (listeners.size === 0) {
    orElse();
    return;
  }
  // Every later write to a closed output fails again: that is one request. A second hang-up, like a second
  // Ctrl+C, is passed on (it may mean "now").
  if (cause === 'output closed') {
    if (outputClosed) return;
    outputClosed = true;
  }
  for (const l of listeners) l(cause);
}

let installed = false;

/** Installed once by bin/esp-station.mjs, before the command runs. */
export function installStopRequests(): void {
  if (installed) return;
  installed = true;
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (!GONE.has(err.code ?? '')) throw err;
      // Without a command holding boards, a reader that went away is the reader's choice (`report | head`).
      request('output closed', () => process.exit(process.exitCode ?? 0));
    });
  }
  process.on('SIGHUP', () => request('hang-up', () => process.exit(1)));
}
