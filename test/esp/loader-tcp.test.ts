import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { SimBoard } from '../../src/sim/board.ts';
import { startSimServer } from '../../src/sim/tcp-server.ts';
import { openTransport } from '../../src/serial/transport.ts';
import { EspLoader } from '../../src/esp/loader.ts';
import { EspError } from '../../src/esp/errors.ts';
import { writeRegions } from '../../src/esp/write-regions.ts';
import { pattern, region } from './sim-link.ts';

async function tcpBoard(t: TestContext, opts: ConstructorParameters<typeof SimBoard>[0] = {}) {
  const board = new SimBoard({ timing: 'fast', ...opts });
  const server = await startSimServer({ board });
  t.after(() => server.close());
  const url = `socket://127.0.0.1:${server.port}`;
  const transport = await openTransport(url);
  t.after(() => transport.close());
  return { board, server, url, transport };
}

test('over socket:// (no reset lines): connect, identify, stub, write and verify', async (t) => {
  const { board, transport } = await tcpBoard(t, { chip: 'esp32s3', mac: '34:85:18:AA:BB:CC' });
  const loader = await EspLoader.connect(transport);
  t.after(() => loader.dispose());
  const id = await loader.identify();
  assert.equal(id.chip, 'esp32s3');
  assert.equal(id.mac, '34:85:18:AA:BB:CC');
  await loader.runStub();
  // A raw TCP link keeps its rate unless told the far end follows the chip.
  assert.equal(await loader.changeBaud(921600), 115200);
  assert.equal(await loader.changeBaud(921600, undefined, { rawTcp: 'change' }), 921600);
  const r = region(0x10000, pattern(80_000, 21));
  const [res] = await writeRegions(loader, [r]);
  assert.equal(res.md5Chip, r.md5);
  assert.deepEqual(board.flash.read(0x10000, r.data.length), Buffer.from(r.data));
});

test('over socket://: the link dropping mid-write ends it as disconnected', async (t) => {
  const { transport } = await tcpBoard(t, { chip: 'esp32', faults: ['disconnect:40000'] });
  const loader = await EspLoader.connect(transport);
  t.after(() => loader.dispose());
  await loader.runStub();
  const err = await writeRegions(loader, [region(0x10000, pattern(200_000, 22))]).catch((e) => e);
  assert.ok(err instanceof EspError);
  assert.equal(err.kind, 'disconnected');
});

test('over socket://: the server going away rejects a waiting command as disconnected', async (t) => {
  const { server, transport } = await tcpBoard(t, { chip: 'esp32' });
  const loader = await EspLoader.connect(transport);
  t.after(() => loader.dispose());
  const pending = loader.readFlash(0, 64 * 1024);
  setImmediate(() => void server.close());
  await assert.rejects(pending, (e: EspError) => e.kind === 'disconnected');
});

test('over socket://: nothing listening-side answers → no-sync with a hint', async (t) => {
  const { board, transport } = await tcpBoard(t, { chip: 'esp32' });
  board.powerOff();
  const err = await EspLoader.connect(transport, { attempts: 1 }).catch((e) => e);
  assert.ok(err instanceof EspError);
  assert.equal(err.kind, 'no-sync');
  assert.match(err.message, /no data at all/);
});
