/** `esp-station identity pool` through the real CLI, beside a station that holds the journal open. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { REPO_ROOT, tempDir } from '../firmware/fixture-paths.ts';
import { identitySettingsOf } from '../../src/config/identity-settings.ts';
import { loadProfile } from '../../src/config/profile.ts';
import { IdentityIssuer } from '../../src/identity/index.ts';
import { mac, makeBundleFolder, releaseRegion } from '../identity/identity-fixture.ts';

function cli(...args: string[]) {
  return spawnSync(process.execPath, [path.join(REPO_ROOT, 'bin/esp-station.mjs'), 'identity', ...args], {
    encoding: 'utf8',
    cwd: REPO_ROOT,
  });
}

const PROFILE = `name: acme
chip: esp32
imageSet:
  folder: release
identity:
  lot: L7
  journal: var/journal.jsonl
  lowWater: 3
  serial: { pattern: 'ACME-{lot}-{seq:05}', namespace: factory_param, key: sn }
  credentials:
    folder: pool
    files:
      client.crt: { namespace: client_cert, key: client_cert.0 }
      client.key: { namespace: client_key, key: client_key.0 }
`;

test('identity pool reports free, reserved, committed and burned while the station holds the journal', async (t) => {
  const dir = await tempDir(t, 'esp-station-identity-cli-');
  await makeBundleFolder(path.join(dir, 'pool'), 6);
  const profileFile = path.join(dir, 'acme.yaml');
  await writeFile(profileFile, PROFILE);
  const settings = identitySettingsOf(await loadProfile(profileFile), { stationLot: '' });
  assert.ok(settings);
  const issuer = await IdentityIssuer.open(settings, await releaseRegion());
  t.after(() => issuer.close());
  const passed = await issuer.reserve(mac(1), 'A01', 1);
  await issuer.markWriting(passed.reservation);
  await issuer.commit(passed.reservation);
  const burned = await issuer.reserve(mac(2), 'A02', 1);
  await issuer.markWriting(burned.reservation);
  await issuer.release(burned.reservation, 'unplugged during verify');
  await issuer.reserve(mac(3), 'A03', 1);

  const json = cli('pool', '--profile', profileFile, '--json');
  assert.equal(json.status, 0, json.stderr);
  const r = JSON.parse(json.stdout);
  assert.deepEqual([r.total, r.free, r.reserved, r.committed, r.burned], [6, 3, 1, 1, 1]);
  assert.equal(r.status.level, 'low');
  assert.deepEqual(
    r.burnedList.map((b: { mac: string; serial: string }) => [b.mac, b.serial]),
    [[mac(2), 'ACME-L7-00002']],
  );

  const text = cli('pool', '--profile', profileFile);
  assert.equal(text.status, 0, text.stderr);
  assert.match(text.stdout, /free {7}3 of 6/);
  assert.match(text.stdout, /burned {5}1 .*never reissued/);
  assert.match(text.stdout, new RegExp(`${mac(2)}  ACME-L7-00002  dev-0002`));
});

test('identity pool: a profile without an identity section, or no subcommand, says what to do', async (t) => {
  const dir = await tempDir(t, 'esp-station-identity-cli-');
  const profileFile = path.join(dir, 'plain.yaml');
  await writeFile(profileFile, 'name: plain\nchip: esp32\nimageSet:\n  folder: release\n');
  const none = cli('pool', '--profile', profileFile);
  assert.equal(none.status, 2);
  assert.match(none.stderr, /plain\.yaml: has no identity: section; see docs\/identity\.md/);
  const bare = cli('--profile', profileFile);
  assert.equal(bare.status, 2);
  assert.match(bare.stderr, /give a subcommand: pool/);
});
