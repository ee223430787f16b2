/**
 * The bench flashes with a warm deflate cache, as a station does after `esp-station check`: before any timing,
 * each bench image set is packed through the product's own fill (src/firmware/deflate-fill.ts, the path check
 * takes). Every child process then prepares its set from the cache (ESP_STATION_DEFLATE_CACHE or var/…).
 */
import { formatFillSummary, startDeflateFill } from '../src/firmware/deflate-fill.ts';
import { deflateCacheFromEnv } from '../src/firmware/deflate-cache.ts';
import { loadBenchImageSets } from './image-sets.ts';

/** One line per set: what the cache holds for it (or that the cache is off). */
export async function warmDeflateCache(): Promise<string[]> {
  if (!deflateCacheFromEnv()) return ['deflate cache off: every esp-station run sends zlib-9 streams'];
  const lines: string[] = [];
  for (const set of await loadBenchImageSets()) {
    const summary = await startDeflateFill(set.firmware.regions).done;
    lines.push(`${set.name}: ${formatFillSummary(summary)}`);
  }
  return lines;
}
