import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  BoardIdentityRecordSchema,
  BoardTestRecordSchema,
  LedgerRecordSchema,
  RegionRecordSchema,
  TestStepRecordSchema,
} from '../../src/ledger/record.ts';
import {
  CHECKED_IDENTITY_KEYS,
  CHECKED_IDENTITY_VALUE_KEYS,
  CHECKED_RECORD_KEYS,
  CHECKED_REGION_KEYS,
  CHECKED_TEST_KEYS,
  CHECKED_TEST_STEP_KEYS,
  isCertainlyLedgerRecord,
} from '../../src/ledger/record-check.ts';
import { mac, makeRecord } from './record-builder.ts';

test('the fast check knows exactly the fields of the schema (update record-check.ts with record.ts)', () => {
  assert.deepEqual([...CHECKED_RECORD_KEYS].sort(), Object.keys(LedgerRecordSchema.shape).sort());
  assert.deepEqual([...CHECKED_REGION_KEYS].sort(), Object.keys(RegionRecordSchema.shape).sort());
  assert.deepEqual([...CHECKED_TEST_KEYS].sort(), Object.keys(BoardTestRecordSchema.shape).sort());
  assert.deepEqual([...CHECKED_TEST_STEP_KEYS].sort(), Object.keys(TestStepRecordSchema.shape).sort());
  assert.deepEqual([...CHECKED_IDENTITY_KEYS].sort(), Object.keys(BoardIdentityRecordSchema.shape).sort());
  assert.deepEqual(
    [...CHECKED_IDENTITY_VALUE_KEYS].sort(),
    Object.keys(BoardIdentityRecordSchema.shape.values.element.shape).sort(),
  );
});

function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

const ODD_VALUES: unknown[] = [
  null,
  '',
  'x',
  -1,
  0,
  1.5,
  2 ** 60,
  true,
  [],
  {},
  'pass',
  'timeout',
  '0123456789abcdef0123456789abcdef',
  '0123456789ABCDEF0123456789ABCDEF',
  [{}],
];

test('the fast check never accepts what the schema rejects, and accepts valid records', () => {
  const rand = prng(42);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
  const bases = [
    makeRecord({ mac: mac(1) }),
    makeRecord({ mac: undefined, result: 'fail', code: 'no-sync', message: 'm' }),
    makeRecord({ demoFirmware: true, regions: [] }),
    makeRecord({
      result: 'fail',
      code: 'at-version-mismatch',
      test: {
        result: 'fail',
        port: '/dev/ttyUSB1',
        baud: 115200,
        failedStep: 'version',
        transcript: [
          { step: 'ready', lines: ['ready'], ms: 1200, result: 'ok' },
          {
            step: 'version',
            command: 'AT+GMR',
            lines: ['Bin version:v3.3.0.0(WROOM-32)', 'OK'],
            ms: 9,
            result: 'fail',
          },
        ],
      },
    }),
    makeRecord({ test: { result: 'skipped', note: 'no AT port', transcript: [] } }),
    makeRecord({
      identity: {
        serial: 'ACME-L1-000001',
        credential: 'dev-0001',
        values: [
          { namespace: 'factory_param', key: 'sn', type: 'string', size: 15, sha256: 'a'.repeat(64) },
          { namespace: 'client_cert', key: 'client_cert.0', type: 'blob', size: 900, sha256: 'b'.repeat(64) },
        ],
        reused: false,
        outcome: 'committed',
      },
    }),
    makeRecord({
      regions: [
        {
          offset: 0,
          label: 'a',
          size: 1,
          md5Expected: 'f'.repeat(32),
          seconds: 0,
          retries: 0,
          skipped: true,
        },
      ],
    }),
  ];
  for (const b of bases) {
    const json = JSON.parse(JSON.stringify(b));
    assert.equal(isCertainlyLedgerRecord(json), true);
    assert.equal(LedgerRecordSchema.safeParse(json).success, true);
  }
  let acceptedMutants = 0;
  let rejectedMutants = 0;
  for (let i = 0; i < 5000; i++) {
    const r = JSON.parse(JSON.stringify(pick(bases))) as Record<string, unknown>;
    const mutations = 1 + Math.floor(rand() * 2);
    for (let m = 0; m < mutations; m++) {
      const where = rand();
      if (where < 0.6) {
        const key = pick([...CHECKED_RECORD_KEYS, 'extra', '__proto__']);
        if (rand() < 0.2) delete r[key];
        else r[key] = pick(ODD_VALUES);
      } else if (where < 0.7 && typeof r.test === 'object' && r.test !== null) {
        const t = r.test as Record<string, unknown>;
        const steps = t.transcript as Array<Record<string, unknown>>;
        const inStep = Array.isArray(steps) && steps.length > 0 && rand() < 0.5;
        const target = inStep && typeof steps[0] === 'object' && steps[0] !== null ? steps[0] : t;
        const key = pick([...(inStep ? CHECKED_TEST_STEP_KEYS : CHECKED_TEST_KEYS), 'extra']);
        if (rand() < 0.2) delete target[key];
        else target[key] = pick([...ODD_VALUES, 'skipped', 'ok', ['x', 1]]);
      } else if (where < 0.78 && typeof r.identity === 'object' && r.identity !== null) {
        const id = r.identity as Record<string, unknown>;
        const values = id.values as Array<Record<string, unknown>>;
        const inValue = Array.isArray(values) && values.length > 0 && rand() < 0.5;
        const target = inValue && typeof values[0] === 'object' && values[0] !== null ? values[0] : id;
        const key = pick([...(inValue ? CHECKED_IDENTITY_VALUE_KEYS : CHECKED_IDENTITY_KEYS), 'extra']);
        if (rand() < 0.2) delete target[key];
        else target[key] = pick([...ODD_VALUES, 'blob', 'kept', 'a'.repeat(64), 'A'.repeat(64)]);
      } else if (where < 0.85) {
        const regions = r.regions as Array<Record<string, unknown>>;
        if (!Array.isArray(regions) || regions.length === 0) continue;
        const region = regions[0];
        if (typeof region !== 'object' || region === null) continue;
        const key = pick([...CHECKED_REGION_KEYS, 'extra']);
        if (rand() < 0.2) delete region[key];
        else region[key] = pick(ODD_VALUES);
      } else {
        const phases = r.phases as Record<string, unknown>;
        if (typeof phases !== 'object' || phases === null) continue;
        phases[pick(['write', 'x'])] = pick(ODD_VALUES);
      }
    }
    const fast = isCertainlyLedgerRecord(r);
    const full = LedgerRecordSchema.safeParse(r).success;
    if (fast) assert.equal(full, true, `fast check accepted what the schema rejects: ${JSON.stringify(r)}`);
    if (full) acceptedMutants++;
    else rejectedMutants++;
  }
  // The mutations exercise both sides.
  assert.ok(acceptedMutants > 100 && rejectedMutants > 1000, `${acceptedMutants} / ${rejectedMutants}`);
});
