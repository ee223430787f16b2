/**
 * A stub left running by an earlier session (no reset in between), as esptool meets it: SYNC answers with value
 * 0, no upload, detection through the stub — GET_SECURITY_INFO where the stub has it (20 bytes on C3, 12 on S2;
 * esp-stub-lib: "not supported" on ESP32, then the magic word) — and the baud changed through the stub.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EspLoader } from '../../src/esp/loader.ts';
import type { ChipName } from '../../src/esp/chips/chip.ts';
import { FAST_CONNECT, simLoader } from './sim-link.ts';

for (const [chip, secureBoot] of [
  ['esp32', true],
  ['esp32s2', true],
  ['esp32c3', true],
] as [ChipName, boolean][]) {
  test(`${chip}: a running stub is found by SYNC, detected and identified through it, and changes baud`, async (t) => {
    const { loader, transport, board } = await simLoader(t, { chip, secureBoot });
    await loader.runStub();
    const lines: string[] = [];
    loader.dispose();
    const again = await EspLoader.connect(transport, {
      ...FAST_CONNECT,
      strategies: [{ name: 'none', steps: [] }],
      onLog: (l) => lines.push(l),
    });
    t.after(() => again.dispose());
    assert.equal(again.isStub, true);
    assert.equal(again.chip.name, chip);
    assert.ok(
      lines.some((l) => l.includes('(stub already running)')),
      lines.join(' | '),
    );
    const id = await again.identify();
    assert.equal(id.secureBoot, secureBoot);
    assert.equal(id.revision, board.revision);
    assert.equal(id.mac.toLowerCase(), board.mac);
    // No second upload: the board still runs the first stub, and the baud change goes through it.
    await again.runStub();
    assert.equal(board.stubRelease, 'v1.2.2');
    assert.equal(await again.changeBaud(460800), 460800);
    assert.equal(board.chipBaud, 460800);
    assert.equal(await again.readReg(0x40001000), board.chip.magicValues[0]);
  });
}
