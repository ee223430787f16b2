import { EspError } from './errors.ts';

/** Abortable sleep; rejects with EspError 'aborted'. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(abortedError(signal));
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortedError(signal!));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export function abortedError(signal: AbortSignal): EspError {
  if (signal.reason instanceof EspError) return signal.reason;
  const why = signal.reason instanceof Error ? `: ${signal.reason.message}` : '';
  return new EspError('aborted', `operation aborted${why}`, { cause: signal.reason });
}
