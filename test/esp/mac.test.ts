import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assembleMac, macToRegisterWords, parseMac } from '../../src/esp/mac.ts';
import { CHIPS, CHIP_NAMES } from '../../src/esp/chips/index.ts';

test('standard layout (S2 and later): mac1>>8, mac1, mac0 bytes high to low', () => {
  assert.equal(assembleMac('standard', [0x11223344, 0x0000aabb]), 'AA:BB:11:22:33:44');
  // C6/H2 keep MAC_EXT in mac1's top half; it is not part of the base MAC.
  assert.equal(assembleMac('standard', [0x11223344, 0xfffeaabb]), 'AA:BB:11:22:33:44');
});

test('ESP32 layout drops the CRC bytes of word2', () => {
  assert.equal(assembleMac('esp32', [0x33445566, 0x7f001122]), '11:22:33:44:55:66');
  assert.equal(assembleMac('esp32', [0x0a0b0c0d, 0x00002400]), '24:00:0A:0B:0C:0D');
});

test('ESP8266 OUI comes from MAC3, or from MAC1 bits 23:16', () => {
  assert.equal(assembleMac('esp8266', [0xab000000, 0x0000cdef, 0]), '18:FE:34:CD:EF:AB');
  assert.equal(assembleMac('esp8266', [0xab000000, 0x0001cdef, 0]), 'AC:D0:74:CD:EF:AB');
  assert.equal(assembleMac('esp8266', [0xab000000, 0x0001cdef, 0x00123456]), '12:34:56:CD:EF:AB');
  assert.throws(() => assembleMac('esp8266', [0xab000000, 0x0002cdef, 0]), /unknown OUI/);
});

test('wrong number of words is refused', () => {
  assert.throws(() => assembleMac('standard', [1]), RangeError);
  assert.throws(() => assembleMac('esp8266', [1, 2]), RangeError);
});

test('every chip: MAC registers round-trip through macToRegisterWords', () => {
  for (const name of CHIP_NAMES) {
    const chip = CHIPS[name];
    const mac = name === 'esp8266' ? '5C:CF:7F:01:02:03' : '24:0A:C4:9E:8F:10';
    const words = macToRegisterWords(chip.macLayout, mac);
    assert.equal(words.length, chip.macRegisters.length, name);
    assert.equal(assembleMac(chip.macLayout, words), mac, name);
  }
});

test('parseMac rejects malformed input', () => {
  assert.deepEqual(parseMac('aa-bb-cc-dd-ee-ff'), [0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff]);
  assert.throws(() => parseMac('aa:bb:cc:dd:ee'), RangeError);
  assert.throws(() => parseMac('aa:bb:cc:dd:ee:fg'), RangeError);
});
