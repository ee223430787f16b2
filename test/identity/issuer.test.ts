/** The calls the pipeline will make (reserve → markWriting → commit | release), on the real release's mfg_nvs. */
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { appendFile, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { tempDir } from '../firmware/fixture-paths.ts';
import { IdentityError, IdentityIssuer } from '../../src/identity/index.ts';
import { decodePartition, findEntry } from '../../src/nvs/index.ts';
import { walkNvs } from '../nvs/nvs-walk.ts';
import { mac, makeBundleFolder, pattern, releaseRegion, settingsFor } from './identity-fixture.ts';

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

async function setup(t: TestContext, bundles = 5) {
  const dir = await tempDir(t, 'esp-station-identity-');
  await makeBundleFolder(path.join(dir, 'pool'), bundles);
  return { dir, settings: settingsFor(dir), base: await releaseRegion() };
}

test('reserve builds the board region: the release as it was plus the serial and the bundle; values carry SHA-256s', async (t) => {
  const { dir, settings, base } = await setup(t);
  const issuer = await IdentityIssuer.open(settings, base);
  t.after(() => issuer.close());
  const id = await issuer.reserve('240ac4000001', 'A01', 1);
  assert.equal(id.reservation.mac, '24:0A:C4:00:00:01');
  assert.equal(id.reused, false);
  assert.equal(id.values.serial, 'ACME-L7-000001');
  assert.equal(id.values.credential, 'dev-0001');
  assert.equal(id.regionBytes.length, base.length);
  assert.deepEqual(walkNvs(id.regionBytes).crcFailures, []);
  const board = decodePartition(id.regionBytes);
  assert.deepEqual(board.problems, []);
  const crt = await readFile(path.join(dir, 'pool/dev-0001/client.crt'));
  assert.deepEqual(findEntry(board.partition, 'client_cert', 'client_cert.0')?.value, {
    type: 'blob',
    value: new Uint8Array(crt),
  });
  assert.deepEqual(findEntry(board.partition, 'factory_param', 'sn')?.value, {
    type: 'string',
    value: 'ACME-L7-000001',
  });
  // Everything else is the release's own.
  const release = decodePartition(base).partition;
  const others = (items: typeof release.items) =>
    items.filter((i) => !(i.kind === 'entry' && ['client_cert.0', 'client_key.0', 'sn'].includes(i.key)));
  assert.deepEqual(others(board.partition.items), others(release.items));
  const { bytes: certBytes, ...certValue } = id.values.values.find((v) => v.key === 'client_cert.0')!;
  assert.deepEqual(Buffer.from(certBytes), Buffer.from(crt));
  assert.deepEqual(certValue, {
    namespace: 'client_cert',
    key: 'client_cert.0',
    type: 'blob',
    size: crt.length,
    sha256: sha256(crt),
  });
  const snValue = id.values.values.find((v) => v.key === 'sn');
  assert.equal(snValue?.sha256, sha256(Buffer.from('ACME-L7-000001\0')));
});

test('PASS: markWriting then commit; the pool report counts it committed', async (t) => {
  const { settings, base } = await setup(t);
  const issuer = await IdentityIssuer.open(settings, base);
  t.after(() => issuer.close());
  const id = await issuer.reserve(mac(1), 'A01', 1);
  await issuer.markWriting(id.reservation);
  await issuer.commit(id.reservation);
  const r = issuer.report();
  assert.deepEqual([r.free, r.total, r.reserved, r.burned, r.committed, r.releases], [4, 5, 0, 0, 1, 0]);
  // A passed board that comes back (rework) gets the same identity, not a new one.
  const again = await issuer.reserve(mac(1), 'A03', 2);
  assert.equal(again.reused, true);
  assert.equal(again.values.serial, id.values.serial);
  assert.deepEqual(again.regionBytes, id.regionBytes);
  assert.equal(issuer.report().free, 4);
});

test('failed before the region was written: released, and the next board gets that serial and bundle', async (t) => {
  const { settings, base } = await setup(t);
  const issuer = await IdentityIssuer.open(settings, base);
  t.after(() => issuer.close());
  const first = await issuer.reserve(mac(1), 'A01', 1);
  assert.equal(await issuer.release(first.reservation, 'unplugged during the app region'), 'released');
  const next = await issuer.reserve(mac(2), 'A02', 1);
  assert.equal(next.values.serial, 'ACME-L7-000001');
  assert.equal(next.values.credential, 'dev-0001');
  const back = await issuer.reserve(mac(1), 'A01', 2);
  assert.equal(back.values.serial, 'ACME-L7-000002');
  assert.equal(issuer.report().releases, 1);
});

test('failed after the region was written: kept by the MAC; the retest gets the same identity, others never do', async (t) => {
  const { settings, base } = await setup(t);
  const issuer = await IdentityIssuer.open(settings, base);
  t.after(() => issuer.close());
  const first = await issuer.reserve(mac(1), 'A01', 1);
  await issuer.markWriting(first.reservation);
  assert.equal(await issuer.release(first.reservation, 'boot check timed out'), 'kept');
  assert.equal(issuer.report().burned, 1);
  const other = await issuer.reserve(mac(2), 'A01', 1);
  assert.equal(other.values.serial, 'ACME-L7-000002');
  assert.equal(other.values.credential, 'dev-0002');
  const retest = await issuer.reserve(mac(1), 'B04', 2);
  assert.equal(retest.reused, true);
  assert.deepEqual(retest.values, first.values);
  assert.deepEqual(retest.regionBytes, first.regionBytes);
  await issuer.markWriting(retest.reservation);
  await issuer.commit(retest.reservation);
  const r = issuer.report();
  assert.deepEqual([r.reserved, r.burned, r.committed], [1, 0, 1]);
});

test('a board that never comes back keeps its identity across restarts (burned); a stopped station releases what it never wrote', async (t) => {
  const { settings, base } = await setup(t);
  let issuer = await IdentityIssuer.open(settings, base);
  const gone = await issuer.reserve(mac(1), 'A01', 1);
  await issuer.markWriting(gone.reservation);
  const notWritten = await issuer.reserve(mac(2), 'A02', 1);
  assert.equal(notWritten.values.serial, 'ACME-L7-000002');
  await issuer.close();
  issuer = await IdentityIssuer.open(settings, base);
  t.after(() => issuer.close());
  const r = issuer.report();
  assert.deepEqual([r.free, r.reserved, r.burned, r.releases], [4, 0, 1, 1]);
  assert.deepEqual(
    r.burnedList.map((b) => [b.mac, b.serial, b.credential]),
    [[mac(1), 'ACME-L7-000001', 'dev-0001']],
  );
  const next = await issuer.reserve(mac(3), 'A02', 1);
  assert.equal(next.values.serial, 'ACME-L7-000002');
  assert.equal(next.values.credential, 'dev-0002');
  const journal = (await readFile(settings.journal, 'utf8'))
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.deepEqual(
    journal.map((j) => j.op),
    ['reserve', 'writing', 'reserve', 'release', 'reserve'],
  );
  assert.equal(journal[3].reason, 'the station stopped before writing it');
});

test('pool low-water and empty: values the station can act on; an empty pool refuses new boards, not known ones', async (t) => {
  const { settings, base } = await setup(t, 3);
  const issuer = await IdentityIssuer.open(settings, base);
  t.after(() => issuer.close());
  assert.deepEqual(issuer.status(), { level: 'ok', free: 3, lowWater: 2 });
  const a = await issuer.reserve(mac(1), 'A01', 1);
  assert.equal(issuer.status().level, 'low');
  assert.match(issuer.status().message ?? '', /identity pool low: 2 boards left \(warning at 2\)/);
  await issuer.reserve(mac(2), 'A02', 1);
  await issuer.reserve(mac(3), 'A03', 1);
  const empty = issuer.status();
  assert.equal(empty.level, 'empty');
  assert.match(empty.message ?? '', /no credential bundle left for a new board; add bundles to .*pool/);
  await assert.rejects(
    issuer.reserve(mac(4), 'A04', 1),
    (err: unknown) =>
      err instanceof IdentityError &&
      err.code === 'pool-empty' &&
      /refill .*pool and start again/.test(err.message),
  );
  assert.equal((await issuer.reserve(mac(1), 'A01', 2)).reservation.id, a.reservation.id);
});

test('bundles added while the station runs are found when the pool runs dry', async (t) => {
  const { dir, settings, base } = await setup(t, 1);
  const issuer = await IdentityIssuer.open(settings, base);
  t.after(() => issuer.close());
  await issuer.reserve(mac(1), 'A01', 1);
  await makeBundleFolder(path.join(dir, 'pool'), 1, 2);
  assert.equal((await issuer.reserve(mac(2), 'A01', 1)).values.credential, 'dev-0002');
});

test('a serial range runs out like a pool; a MAC-only serial has no limit but refuses a clash', async (t) => {
  const { dir, base } = await setup(t, 5);
  const settings = settingsFor(dir);
  settings.serial = { ...settings.serial!, start: 98, end: 99 };
  const issuer = await IdentityIssuer.open(settings, base);
  await issuer.reserve(mac(1), 'A01', 1);
  await issuer.reserve(mac(2), 'A01', 1);
  assert.equal(issuer.status().free, 0);
  await assert.rejects(issuer.reserve(mac(3), 'A01', 1), /no serial number \(98\.\.99 used in lot L7\) left/);
  await issuer.close();

  const dir2 = await tempDir(t, 'esp-station-identity-');
  const macOnly = settingsFor(dir2, {
    credentials: undefined,
    serial: { pattern: pattern('W{mac:4}'), prefix: '', start: 1, namespace: 'factory_param', key: 'sn' },
  });
  const byMac = await IdentityIssuer.open(macOnly, base);
  t.after(() => byMac.close());
  assert.equal(byMac.status().free, undefined);
  assert.equal((await byMac.reserve('24:0A:C4:00:12:34', 'A01', 1)).values.serial, 'W1234');
  await assert.rejects(
    byMac.reserve('30:AE:A4:00:12:34', 'A01', 1),
    /serial W1234 is already issued to MAC 24:0A:C4:00:12:34; the pattern 'W\{mac:4\}' does not tell these boards apart/,
  );
});

test('a bundle changed or removed after a board got it is never re-issued silently', async (t) => {
  const { dir, settings, base } = await setup(t);
  const issuer = await IdentityIssuer.open(settings, base);
  t.after(() => issuer.close());
  const id = await issuer.reserve(mac(1), 'A01', 1);
  await issuer.markWriting(id.reservation);
  await issuer.release(id.reservation, 'verify failed');
  await appendFile(path.join(dir, 'pool/dev-0001/client.key'), 'tampered');
  await assert.rejects(
    issuer.reserve(mac(1), 'A01', 2),
    (err: unknown) =>
      err instanceof IdentityError &&
      err.code === 'bundle-changed' &&
      /bundle dev-0001: client\.key changed since MAC 24:0A:C4:00:00:01 got it .*restore the original file/.test(
        err.message,
      ),
  );
  await rm(path.join(dir, 'pool/dev-0001'), { recursive: true });
  await assert.rejects(
    issuer.reserve(mac(1), 'A01', 2),
    /holds bundle dev-0001, which is no longer in .*put it back/,
  );
});

test('calls for an old attempt or an unwritten commit are refused as stale', async (t) => {
  const { settings, base } = await setup(t);
  const issuer = await IdentityIssuer.open(settings, base);
  t.after(() => issuer.close());
  const first = await issuer.reserve(mac(1), 'A01', 1);
  await assert.rejects(
    issuer.commit(first.reservation),
    (err: unknown) =>
      err instanceof IdentityError && err.code === 'stale' && /was never written/.test(err.message),
  );
  const second = await issuer.reserve(mac(1), 'A02', 2);
  await assert.rejects(
    issuer.markWriting(first.reservation),
    /belongs to attempt 2 of MAC 24:0A:C4:00:00:01 now, not attempt 1/,
  );
  await issuer.markWriting(second.reservation);
  await issuer.commit(second.reservation);
});

test('a bundle too large for the region is set aside and named; the next one is issued', async (t) => {
  const { dir, settings, base } = await setup(t, 2);
  await writeFile(path.join(dir, 'pool/dev-0001/client.crt'), Buffer.alloc(200_000, 0x41));
  const issuer = await IdentityIssuer.open(settings, base);
  t.after(() => issuer.close());
  const id = await issuer.reserve(mac(1), 'A01', 1);
  assert.equal(id.values.credential, 'dev-0002');
  assert.match(
    issuer.report().problems.join('\n'),
    /bundle dev-0001 set aside: the data needs \d+ pages plus the blank page/,
  );
  assert.equal(issuer.status().free, 0);
});

test('a CSV manifest is a pool too; a bundle missing a file is listed, never issued', async (t) => {
  const { dir, base } = await setup(t, 3);
  await rm(path.join(dir, 'pool/dev-0002/client.key'));
  await writeFile(
    path.join(dir, 'manifest.csv'),
    'id,client.crt,client.key\nB-1,pool/dev-0003/client.crt,pool/dev-0003/client.key\nB-2,pool/dev-0002/client.crt,pool/dev-0002/client.key\nB-3,pool/dev-0001/client.crt,pool/dev-0001/client.key\nB-1,x,y\n',
  );
  const settings = settingsFor(dir);
  settings.credentials = {
    ...settings.credentials!,
    folder: undefined,
    manifest: path.join(dir, 'manifest.csv'),
  };
  const issuer = await IdentityIssuer.open(settings, base);
  t.after(() => issuer.close());
  assert.equal((await issuer.reserve(mac(1), 'A01', 1)).values.credential, 'B-1');
  assert.equal((await issuer.reserve(mac(2), 'A01', 1)).values.credential, 'B-3');
  const problems = issuer.report().problems.join('\n');
  assert.match(problems, /bundle B-2 lacks client\.key; it is not issued until it has them/);
  assert.match(problems, /manifest\.csv:5: id B-1 is also on line 2; only the first is issued/);
});

test('fixed values from the profile go into every board; a base that does not verify is refused', async (t) => {
  const { settings, base } = await setup(t);
  settings.set = [
    { namespace: 'factory_param', key: 'module_name', value: { type: 'string', value: 'ACME-W32' } },
  ];
  const issuer = await IdentityIssuer.open(settings, base);
  t.after(() => issuer.close());
  const id = await issuer.reserve(mac(1), 'A01', 1);
  assert.deepEqual(
    findEntry(decodePartition(id.regionBytes).partition, 'factory_param', 'module_name')?.value,
    { type: 'string', value: 'ACME-W32' },
  );
  const damaged = Buffer.from(base);
  damaged[64 + 3 * 32] ^= 1;
  await assert.rejects(
    IdentityIssuer.open({ ...settings, journal: `${settings.journal}.2` }, damaged),
    /mfg_nvs: the release's partition does not verify \(page 0 entry 1: data CRC/,
  );
});
