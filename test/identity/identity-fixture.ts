/** Test pools and settings: bundles of made-up certificate and key files, the real release's mfg_nvs as base. */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { REAL_AT_DIR } from '../firmware/fixture-paths.ts';
import { parseSerialPattern } from '../../src/identity/index.ts';
import type { IdentitySettings, SerialPattern } from '../../src/identity/index.ts';

export const MFG_NVS = path.join(REAL_AT_DIR, 'customized_partitions/mfg_nvs.bin');

export function releaseRegion(): Promise<Buffer> {
  return readFile(MFG_NVS);
}

export function pattern(source: string): SerialPattern {
  const parsed = parseSerialPattern(source);
  if (!parsed.ok) throw new Error(parsed.message);
  return parsed.pattern;
}

export function certText(id: string, size = 1100): string {
  const body = Buffer.from(`${id}:`.repeat(Math.ceil(size / (id.length + 1))))
    .toString('base64')
    .slice(0, size);
  return `-----BEGIN CERTIFICATE-----\n${body.replace(/(.{64})/g, '$1\n')}\n-----END CERTIFICATE-----\n`;
}

/** `count` bundles dev-0001… in `dir`, each with client.crt and client.key. */
export async function makeBundleFolder(dir: string, count: number, first = 1): Promise<void> {
  for (let n = first; n < first + count; n++) {
    const id = `dev-${String(n).padStart(4, '0')}`;
    await mkdir(path.join(dir, id), { recursive: true });
    await writeFile(path.join(dir, id, 'client.crt'), certText(id));
    await writeFile(
      path.join(dir, id, 'client.key'),
      `-----BEGIN PRIVATE KEY-----\n${id}-key\n-----END PRIVATE KEY-----\n`,
    );
  }
}

export function settingsFor(dir: string, overrides: Partial<IdentitySettings> = {}): IdentitySettings {
  return {
    partition: 'mfg_nvs',
    journal: path.join(dir, 'journal.jsonl'),
    lot: 'L7',
    serial: {
      pattern: pattern('{prefix}-{lot}-{seq:06}'),
      prefix: 'ACME',
      start: 1,
      namespace: 'factory_param',
      key: 'sn',
    },
    credentials: {
      folder: path.join(dir, 'pool'),
      files: {
        'client.crt': { namespace: 'client_cert', key: 'client_cert.0', type: 'blob' },
        'client.key': { namespace: 'client_key', key: 'client_key.0', type: 'blob' },
      },
    },
    set: [],
    lowWater: 2,
    ...overrides,
  };
}

export function mac(n: number): string {
  return `24:0A:C4:00:${((n >> 8) & 0xff).toString(16).padStart(2, '0')}:${(n & 0xff).toString(16).padStart(2, '0')}`.toUpperCase();
}
