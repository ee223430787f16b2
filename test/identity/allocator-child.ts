/**
 * A station stand-in for the crash test: four slots reserve, write, commit and release identities as fast as
 * they can until the parent kills the process. Every step is acknowledged on stdout (one synchronous write)
 * only after its promise resolved, so the parent knows what the station was told was durable.
 * argv: DIR SEED
 */
import { writeSync } from 'node:fs';
import { IdentityError, IdentityIssuer } from '../../src/identity/index.ts';
import { mac, releaseRegion, settingsFor } from './identity-fixture.ts';

const [dir, seedText] = process.argv.slice(2);
let seed = Number(seedText);
const rnd = () => {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return seed / 2147483648;
};
const ack = (...fields: (string | number | undefined)[]) =>
  writeSync(1, `${fields.map((f) => f ?? '-').join(' ')}\n`);
const pause = () => new Promise((r) => setTimeout(r, Math.floor(rnd() * 3)));

const SLOTS = 4;
const MACS = 40;
const attempts = new Map<string, number>();

const issuer = await IdentityIssuer.open(settingsFor(dir), await releaseRegion());
ack('READY');

async function slot(k: number): Promise<void> {
  for (;;) {
    const board = mac(k + SLOTS * Math.floor(rnd() * (MACS / SLOTS)));
    const attempt = (attempts.get(board) ?? 0) + 1;
    attempts.set(board, attempt);
    let id;
    try {
      id = await issuer.reserve(board, `S${k}`, attempt);
    } catch (err) {
      if (err instanceof IdentityError && err.code === 'pool-empty') {
        await pause();
        continue;
      }
      throw err;
    }
    const { serial, credential } = id.values;
    ack('R', id.reservation.id, board, serial, credential, attempt);
    await pause();
    if (rnd() < 0.3) {
      const outcome = await issuer.release(id.reservation, 'failed before the identity region');
      ack(outcome === 'released' ? 'L' : 'K', id.reservation.id, board, serial, credential, attempt);
      continue;
    }
    await issuer.markWriting(id.reservation);
    ack('W', id.reservation.id, board, serial, credential, attempt);
    await pause();
    if (rnd() < 0.6) {
      await issuer.commit(id.reservation);
      ack('C', id.reservation.id, board, serial, credential, attempt);
    } else {
      const outcome = await issuer.release(id.reservation, 'failed after the identity region');
      ack(outcome === 'released' ? 'L' : 'K', id.reservation.id, board, serial, credential, attempt);
    }
  }
}

await Promise.all(Array.from({ length: SLOTS }, (_, k) => slot(k)));
