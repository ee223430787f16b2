import { test } from 'node:test';
import assert from 'node:assert/strict';
import { simulatedMac } from '../../src/sim-station/sim-operator.ts';

test('simulated boards get Espressif-OUI MACs, one per board index, the same for the same seed', () => {
  const mac = simulatedMac(7, 3);
  assert.match(mac, /^24:0A:C4(:[0-9A-F]{2}){3}$/);
  assert.equal(simulatedMac(7, 3), mac);
  const run = Array.from({ length: 2000 }, (_, i) => simulatedMac(7, i));
  assert.equal(new Set(run).size, 2000, 'every board of a run has its own MAC');
});

test('two runs with different seeds never share boards (a demo run is not a retest of the last one)', () => {
  // Seeds 1..300 used to give identical MACs (only seed >> 8 reached the MAC): every board looked like a retest.
  for (const [a, b] of [
    [1, 2],
    [1, 255],
    [41, 42],
    [123456, 123457],
  ]) {
    const first = new Set(Array.from({ length: 32 }, (_, i) => simulatedMac(a, i)));
    const shared = Array.from({ length: 32 }, (_, i) => simulatedMac(b, i)).filter((m) => first.has(m));
    assert.deepEqual(shared, [], `seeds ${a} and ${b} share ${shared.join(', ')}`);
  }
});
