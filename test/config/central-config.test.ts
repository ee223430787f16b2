/** config.yaml's `central:` section: a URL without secrets, the password from one source, file:line:column. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseStationConfig } from '../../src/config/station-config.ts';
import { problemsOf } from './problems-of.ts';

const head = 'station: s1\nprofile: p.yaml\n';

test('a central database with a password file resolved beside the config', () => {
  const c = parseStationConfig(
    '/etc/esp/config.yaml',
    `${head}central:\n  url: postgres://station@db.factory.lan:6543/esp_station?sslmode=require\n  passwordFile: secrets/db-password\n`,
  );
  assert.deepEqual(c.central, {
    address: {
      host: 'db.factory.lan',
      port: 6543,
      user: 'station',
      database: 'esp_station',
      sslmode: 'require',
    },
    passwordFile: '/etc/esp/secrets/db-password',
    drainSeconds: 30,
  });
});

test('no central section: nothing is shipped', () => {
  assert.equal(parseStationConfig('c.yaml', head).central, undefined);
});

test('a password in the URL, two password sources and a bad URL are problems at their line and column', () => {
  const text = [
    'station: s1', // 1
    'profile: p.yaml', // 2
    'central:', // 3
    '  url: postgres://station:hunter2@db:5432/esp', // 4
    '  passwordEnv: DB_PASSWORD', // 5
    '  passwordFile: /run/secrets/db', // 6
    '',
  ].join('\n');
  const ps = problemsOf(() => parseStationConfig('config.yaml', text));
  const url = ps.find((p) => p.key === 'central.url');
  assert.deepEqual(
    { file: url?.file, line: url?.line, column: url?.column },
    { file: 'config.yaml', line: 4, column: 8 },
  );
  assert.match(url!.message, /carries a password; take it out of the URL.*passwordEnv.*passwordFile/);
  // The message never repeats the secret it refuses.
  assert.doesNotMatch(url!.message, /hunter2/);
  const both = ps.find((p) => p.key === 'central.passwordFile');
  assert.equal(both?.line, 6);
  assert.match(both!.message, /one way: passwordEnv or passwordFile, not both/);

  for (const [bad, why] of [
    ['mysql://s@db/x', /not a PostgreSQL URL/],
    ['postgres://db:5432/x', /names no user/],
    ['postgres://s@db:5432/', /names no database/],
    ['postgres://s@db/x?connect_timeout=3', /unknown URL option 'connect_timeout=3'/],
    ['not a url', /not a database URL/],
  ] as const) {
    const [p] = problemsOf(() => parseStationConfig('c.yaml', `${head}central:\n  url: '${bad}'\n`));
    assert.equal(p.key, 'central.url', bad);
    assert.equal(p.line, 4, bad);
    assert.match(p.message, why, bad);
  }
  const [env] = problemsOf(() =>
    parseStationConfig('c.yaml', `${head}central:\n  url: postgres://s@db/x\n  passwordEnv: 'DB PASSWORD'\n`),
  );
  assert.equal(env.key, 'central.passwordEnv');
  assert.equal(env.line, 5);
  assert.match(env.message, /name of an environment variable/);
});
