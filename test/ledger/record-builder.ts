/** Builds valid ledger records for tests: every field present and plausible, overridable one by one. */
import type { LedgerRecord } from '../../src/ledger/record.ts';

let counter = 0;

export const RECIPE_A = 'a'.repeat(64);
export const RECIPE_B = 'b'.repeat(64);

export function makeRecord(over: Partial<LedgerRecord> & { startMs?: number } = {}): LedgerRecord {
  const { startMs, ...fields } = over;
  const durationMs = fields.durationMs ?? 12_000;
  const startTime = startMs ?? Date.UTC(2026, 10, 23, 8, 0, 0);
  const result = fields.result ?? 'pass';
  const record: LedgerRecord = {
    v: 1,
    id: `st1-${startTime}-${++counter}`,
    start: new Date(startTime).toISOString(),
    end: new Date(startTime + durationMs).toISOString(),
    station: 'st1',
    slot: 'A1',
    portPath: '1-1.4.1',
    port: '/dev/ttyUSB0',
    usbSerial: '0001',
    vidPid: '10c4:ea60',
    operator: 'ann',
    lot: 'LOT-1',
    mac: 'AA:BB:CC:00:00:01',
    chip: 'esp32',
    revision: 300,
    flashId: 0x164020,
    flashSize: 4 * 1024 * 1024,
    secureBoot: false,
    flashEncryption: false,
    profile: 'at-esp32',
    recipe: RECIPE_A,
    regions: [
      {
        offset: 0x1000,
        label: 'bootloader',
        size: 26_000,
        md5Expected: '0'.repeat(32),
        md5Chip: '0'.repeat(32),
        seconds: 0.4,
        retries: 0,
      },
    ],
    baud: 921600,
    phases: { connect: 300, identify: 40, write: durationMs - 500, verify: 160 },
    durationMs,
    result,
    attempt: 1,
    ...(result === 'fail' ? { code: 'write-error' as const, message: 'write failed at 0x10000' } : {}),
    ...fields,
  };
  return record;
}

/** A MAC from a small integer, e.g. 5 → AA:BB:CC:00:00:05. */
export function mac(n: number): string {
  const hex = n.toString(16).padStart(6, '0').toUpperCase();
  return `AA:BB:CC:${hex.slice(0, 2)}:${hex.slice(2, 4)}:${hex.slice(4, 6)}`;
}
