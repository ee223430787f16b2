/**
 * The station's part in filling the deflate cache (firmware/deflate-fill.ts): after it starts, the recipe's
 * streams are packed for the next start on a worker thread. Boards never wait for it and the firmware in use
 * keeps the streams it was prepared with; a fill that packed something, or failed, says so in the log.
 */
import { formatFillSummary, startDeflateFill } from '../firmware/deflate-fill.ts';
import type { PreparedFirmware } from '../firmware/prepared.ts';
import type { StationEvent } from '../station/events.ts';

/** Starts the fill; the returned function stops it (the station is stopping). */
export function packForNextStart(
  firmware: Pick<PreparedFirmware, 'regions'>,
  publish: (event: StationEvent) => void,
): () => void {
  const fill = startDeflateFill(firmware.regions, { onlyMissing: true });
  void fill.done.then((summary) => {
    if (summary.dir === undefined || summary.failure === 'stopped') return;
    if (summary.filled === 0 && !summary.failure) return;
    const level = summary.failure ? 'warn' : 'info';
    publish({ type: 'log', time: Date.now(), slot: '', level, message: formatFillSummary(summary) });
  });
  return fill.stop;
}
