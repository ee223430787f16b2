/**
 * One simulated station of `bench/central.ts`: appends `count` real-size records to its own ledger (each
 * written and fsynced, as the station does) while a shipper sends them to the central database. Prints
 * "WRITTEN <ms>" once every record is in the ledger and "RESULT <json>" once every one is in the database.
 *   node --import tsx bench/central-station-child.ts URL DIR STATION COUNT SEED
 */
import { Outbox } from '../src/central/outbox.ts';
import { CentralShipper } from '../src/central/shipper.ts';
import { parseDatabaseUrl } from '../src/central/database-url.ts';
import { LedgerWriter } from '../src/ledger/writer.ts';
import { sampleRecords } from './sample-ledger.ts';

const [url, dir, station, countText, seedText] = process.argv.slice(2);
const count = Number(countText);
const parsed = parseDatabaseUrl(url);
if (!parsed.ok) throw new Error(parsed.message);

const outbox = await Outbox.open({ ledger: { dir, station } });
let maxLagRecords = 0;
let maxLagSeconds = 0;
const shipper = new CentralShipper({
  target: { address: parsed.address },
  outbox,
  station: { name: station, host: 'bench', version: 'bench' },
  onStatus: (s) => {
    maxLagRecords = Math.max(maxLagRecords, s.lagRecords);
    maxLagSeconds = Math.max(maxLagSeconds, s.lagSeconds);
  },
  retryFirstMs: 200,
  retryMaxMs: 1_000,
});
shipper.start();
const writer = await LedgerWriter.open({ dir, station, rotate: { by: 'day' } });
const t0 = performance.now();
let n = 0;
for (const sample of sampleRecords({ records: count, seed: Number(seedText) })) {
  // Records as this station would write them now (so the lag in seconds is real).
  const end = Date.now();
  const record = {
    ...sample,
    id: `${station}/${n++}`,
    station,
    start: new Date(end - sample.durationMs).toISOString(),
    end: new Date(end).toISOString(),
  };
  await writer.append(record);
  shipper.nudge();
}
await writer.close();
const writtenMs = performance.now() - t0;
console.log(`WRITTEN ${writtenMs.toFixed(0)}`);
while (!(await shipper.drain(10_000))) {
  // the database is away: the parent brings it back
}
const shippedMs = performance.now() - t0;
await shipper.stop();
console.log(
  `RESULT ${JSON.stringify({ station, records: count, writtenMs, shippedMs, maxLagRecords, maxLagSeconds, shipped: shipper.status.shipped })}`,
);
