/**
 * A shipper in a process of its own, for the tests that kill it: ships `<ledger dir>` of `<station>` to
 * `<url>`, prints "drained" and exits 0 once nothing is left. Small batches, so a kill lands mid-batch often.
 */
import { Outbox } from '../../src/central/outbox.ts';
import { CentralShipper } from '../../src/central/shipper.ts';
import { targetOf } from './central-fixtures.ts';

const [url, dir, station] = process.argv.slice(2);
const outbox = await Outbox.open({ ledger: { dir, station }, maxBatchBytes: 8 * 1024 });
const shipper = new CentralShipper({
  target: targetOf(url),
  outbox,
  station: { name: station, host: 'child', version: '0.0.0-test' },
  pollMs: 50,
  retryFirstMs: 50,
  retryMaxMs: 200,
});
shipper.start();
while (!(await shipper.drain(60_000))) {
  // keep trying: the parent decides when this process ends
}
await shipper.stop();
console.log('drained');
