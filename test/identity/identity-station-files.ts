/**
 * A station folder for identity runs over remote ports: the real ESP-AT release (its mfg_nvs is a real NVS
 * partition), no boot check (raw TCP has no reset lines), a pool of certificate bundles and a serial pattern.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REAL_AT_DIR } from '../firmware/fixture-paths.ts';
import { makeBundleFolder } from './identity-fixture.ts';

export interface IdentityStation {
  config: string;
  profile: string;
  journal: string;
  pool: string;
}

export async function writeIdentityStation(
  dir: string,
  o: { bundles: number; lowWater?: number; station?: string },
): Promise<IdentityStation> {
  const pool = join(dir, 'pool');
  mkdirSync(pool, { recursive: true });
  await makeBundleFolder(pool, o.bundles);
  const journal = join(dir, 'identity.jsonl');
  const profile = join(dir, 'profile.yaml');
  writeFileSync(
    profile,
    [
      'name: identity-at',
      'chip: esp32',
      'imageSet:',
      `  folder: ${REAL_AT_DIR}`,
      'flash:',
      '  size: 4MB',
      'identity:',
      '  lot: L9',
      `  journal: ${journal}`,
      `  lowWater: ${o.lowWater ?? 2}`,
      '  serial:',
      "    pattern: '{prefix}-{lot}-{seq:06}'",
      '    prefix: ACME',
      '    namespace: factory_param',
      '    key: sn',
      '  credentials:',
      `    folder: ${pool}`,
      '    files:',
      '      client.crt: { namespace: client_cert, key: client_cert.0 }',
      '      client.key: { namespace: client_key, key: client_key.0 }',
      '',
    ].join('\n'),
  );
  const config = join(dir, 'config.yaml');
  writeFileSync(
    config,
    [
      `station: ${o.station ?? 'id-station'}`,
      'profile: profile.yaml',
      'operator: ida',
      'ledger:',
      '  dir: ledger',
      '',
    ].join('\n'),
  );
  return { config, profile, journal, pool };
}
