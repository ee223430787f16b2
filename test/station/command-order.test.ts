// The pipeline talks to a chip in esptool's order: SYNC, chip registers (revision, MAC, eFuses), the stub at
// the ROM's baud, the baud change through the stub, and only then the flash (RDID through the SPI registers,
// SPI_SET_PARAMS, writes). The pipeline used to attach the flash and read its id through the ROM while
// identifying, which esptool never does; ROM-only runs attach once the flashing baud is set.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Op } from '../../src/esp/commands.ts';
import { SimBinding } from '../../src/sim/binding.ts';
import { SimBoard } from '../../src/sim/board.ts';
import { EspBoardLink } from '../../src/station/esp-board-link.ts';
import { runPipeline, type PipelinePolicy } from '../../src/station/pipeline.ts';
import { makeFirmware } from './fakes.ts';

const POLICY: PipelinePolicy = {
  chip: 'esp32',
  allowSecureBoot: false,
  allowFlashEncryption: false,
  baudLadder: [921600],
  regionRetries: 0,
  boardRetriesPerBaud: 0,
  stub: true,
  compress: true,
  skipUnchanged: false,
  eraseAll: false,
  resetAfter: false,
};

async function opsSent(t: { after(fn: () => unknown): void }, policy: PipelinePolicy) {
  const binding = new SimBinding();
  const board = new SimBoard({ chip: 'esp32', timing: 'fast' });
  binding.plug('/dev/ttyORDER0', board);
  t.after(() => binding.unplug('/dev/ttyORDER0'));
  const ops: { op: number; loader: string }[] = [];
  board.on('request', (op, mode) => ops.push({ op, loader: mode }));
  const outcome = await runPipeline({
    slot: { portPath: 'sim-0', name: 'A1', tty: '/dev/ttyORDER0', vid: '10c4', pid: 'ea60' },
    link: new EspBoardLink({ binding: binding as never, resetTimeScale: 0.02 }),
    policy,
    firmware: makeFirmware(),
    signal: AbortSignal.timeout(30_000),
    publish: () => undefined,
    attemptNumberFor: () => 1,
  });
  assert.equal(outcome.result, 'pass', outcome.message);
  return ops;
}

test('stub runs: no SPI command reaches the ROM; RDID and SPI_SET_PARAMS go to the stub after the baud change', async (t) => {
  const ops = await opsSent(t, POLICY);
  const rom = ops.filter((o) => o.loader === 'download').map((o) => o.op);
  assert.ok(!rom.includes(Op.SPI_ATTACH), 'no SPI_ATTACH to the ROM');
  assert.ok(!rom.includes(Op.SPI_SET_PARAMS), 'no SPI_SET_PARAMS to the ROM');
  assert.ok(!rom.includes(Op.WRITE_REG), 'no SPI register writes (RDID) through the ROM');
  const memEnd = ops.findIndex((o) => o.op === Op.MEM_END);
  const baud = ops.findIndex((o) => o.op === Op.CHANGE_BAUDRATE);
  const params = ops.findIndex((o) => o.op === Op.SPI_SET_PARAMS);
  const firstWrite = ops.findIndex((o) => o.op === Op.FLASH_DEFL_BEGIN);
  assert.ok(memEnd >= 0 && baud > memEnd && ops[baud].loader === 'stub', JSON.stringify(ops));
  assert.ok(params > baud && firstWrite > params, 'flash size set before the first write');
});

test('ROM only: the baud is changed first, then SPI_ATTACH, the flash id and SPI_SET_PARAMS, then writes', async (t) => {
  const ops = (await opsSent(t, { ...POLICY, stub: false })).map((o) => o.op);
  const baud = ops.indexOf(Op.CHANGE_BAUDRATE);
  const attach = ops.indexOf(Op.SPI_ATTACH);
  const params = ops.indexOf(Op.SPI_SET_PARAMS);
  const firstWrite = ops.findIndex((op) => op === Op.FLASH_DEFL_BEGIN || op === Op.FLASH_BEGIN);
  assert.ok(
    baud >= 0 && attach > baud && params > attach && firstWrite > params,
    ops.map((o) => o.toString(16)).join(' '),
  );
});
