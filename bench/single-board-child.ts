/**
 * One single-board run in a process of its own (so parallel runs never share an event loop):
 *   node --import tsx bench/single-board-child.ts <esp-at-v3.4.0.0|demo> <baud> <station|esptool-js>
 * Prints `RESULT {json}` as its last line.
 */
import { loadBenchImageSets } from './image-sets.ts';
import { flashWithEsptoolJs, flashWithStation } from './single-board.ts';

const [setName, baudText, tool] = process.argv.slice(2);
const set = (await loadBenchImageSets()).find((s) => s.name === setName);
if (!set || !Number(baudText) || (tool !== 'station' && tool !== 'esptool-js')) {
  console.error('usage: single-board-child.ts <esp-at-v3.4.0.0|demo> <baud> <station|esptool-js>');
  process.exit(2);
}
const baud = Number(baudText);
const result =
  tool === 'station'
    ? await flashWithStation(set.firmware, baud, new AbortController().signal)
    : await flashWithEsptoolJs(set.firmware, baud);
console.log(`RESULT ${JSON.stringify(result)}`);
