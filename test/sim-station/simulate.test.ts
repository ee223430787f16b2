import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SimBoard } from '../../src/sim/board.ts';
import { VirtualUsbBus } from '../../src/sim/usb-bus.ts';
import { SimDeviceSource } from '../../src/sim-station/sim-source.ts';
import { VidPidFilter } from '../../src/station/detect/vid-pid-filter.ts';
import type { StationEvent } from '../../src/station/events.ts';
import { StationEventBus } from '../../src/station/events.ts';
import { boardRecipe, parseFaultMix } from '../../src/sim-station/fault-mix.ts';
import { SimOperator, simPortPath } from '../../src/sim-station/sim-operator.ts';

test('fault mixes: demo marks every third board, probabilities are seeded, bad items are explained', () => {
  const demo = parseFaultMix('demo');
  const recipes = Array.from({ length: 12 }, (_, i) => boardRecipe(demo, i, 1));
  assert.deepEqual(
    recipes.map((r) => [...r.faults, ...r.variations].join('+')),
    ['', '', 'silent-corruption', '', '', 'at-old-firmware', '', '', 'no-sync', '', '', 'at-no-ap'],
  );
  const mix = parseFaultMix('no-sync:0.5,drop-bytes:0.001:0.25,wrong-chip:0.2');
  const a = Array.from({ length: 200 }, (_, i) => boardRecipe(mix, i, 9));
  const b = Array.from({ length: 200 }, (_, i) => boardRecipe(mix, i, 9));
  assert.deepEqual(a, b, 'same seed, same boards');
  const noSync = a.filter((r) => r.faults.includes('no-sync')).length;
  assert.ok(noSync > 70 && noSync < 130, `about half the boards fail to sync (${noSync})`);
  assert.ok(a.some((r) => r.faults.includes('drop-bytes:0.001')));
  assert.ok(a.some((r) => r.variations.includes('wrong-chip')));
  assert.deepEqual(boardRecipe(parseFaultMix(undefined), 3, 1), { faults: [], variations: [] });
  assert.throws(() => parseFaultMix('no-sync'), /NAME\[:ARG\]:PROBABILITY/);
  assert.throws(() => parseFaultMix('no-sync:2'), /from 0 to 1/);
  assert.throws(() => parseFaultMix('gremlins:0.1'), /unknown fault 'gremlins'.*wrong-chip/);
});

test('the simulated source reports the virtual bus (present boards offered, filter applied, removal)', async (t) => {
  const bus = new VirtualUsbBus();
  t.after(() => bus.list().forEach((d) => bus.unplug(d.portPath)));
  bus.plugBoard('1-1.1', new SimBoard({ timing: 'fast' }));
  const src = new SimDeviceSource(bus, new VidPidFilter(['10c4:ea60', '1a86:7523']));
  const log: string[] = [];
  await src.start(
    {
      attach: (d) => log.push(`+${d.portPath} ${d.tty} ${d.vid}:${d.pid} ${d.usbSerial ?? '-'}`),
      detach: (p) => log.push(`-${p}`),
    },
    { offerPresent: true },
  );
  bus.plugBoard('1-1.2', new SimBoard({ timing: 'fast' }), { vidPid: '1a86:7523' });
  bus.plugBoard('1-1.3', new SimBoard({ timing: 'fast' }), { vidPid: '0403:6001' }); // not in the filter
  bus.unplug('1-1.1');
  await src.stop();
  bus.unplug('1-1.2');
  assert.equal(log.length, 3);
  assert.match(log[0], /^\+1-1\.1 \/dev\/ttyUSB0 10c4:ea60 [0-9A-F]{12}$/);
  assert.equal(log[1], '+1-1.2 /dev/ttyUSB1 1a86:7523 -');
  assert.equal(log[2], '-1-1.1');
});

test('the simulated operator plugs N boards over the positions and pulls each after its result', async (t) => {
  const bus = new VirtualUsbBus();
  const events = new StationEventBus();
  const op = new SimOperator({
    bus,
    events,
    boards: 5,
    mix: parseFaultMix('demo'),
    timing: 'fast',
    positions: 2,
    seed: 4,
  });
  t.after(() => {
    op.stop();
    bus.list().forEach((d) => bus.unplug(d.portPath));
  });
  const attached: string[] = [];
  bus.on('attach', (d) => {
    attached.push(d.portPath);
    // Play the station: start, then report a result a moment later.
    const time = Date.now();
    const started: StationEvent = { type: 'state', time, slot: d.portPath, state: 'connecting', attempt: 1 };
    const result: StationEvent = {
      type: 'result',
      time,
      slot: d.portPath,
      result: 'pass',
      durationMs: 1,
      attempt: 1,
      recorded: true,
    };
    setTimeout(() => {
      events.publish(started);
      events.publish(result);
    }, 5);
  });
  op.start();
  await op.done;
  assert.equal(attached.length, 5);
  assert.deepEqual([...new Set(attached)].sort(), [simPortPath(0), simPortPath(1)]);
  assert.equal(op.plugged.length, 5);
  assert.deepEqual(op.plugged.find((p) => p.index === 2)?.faults, ['silent-corruption']);
  assert.equal(new Set(op.plugged.map((p) => p.board.mac)).size, 5, 'every board has its own MAC');
  assert.deepEqual(bus.list(), [], 'every board was pulled');
});

test('an "unplug" board is pulled by the simulated operator once a third of the image is written', async (t) => {
  const bus = new VirtualUsbBus();
  const events = new StationEventBus();
  const op = new SimOperator({
    bus,
    events,
    boards: 1,
    mix: parseFaultMix('unplug:1'),
    timing: 'fast',
    seed: 2,
  });
  t.after(() => {
    op.stop();
    bus.list().forEach((d) => bus.unplug(d.portPath));
  });
  const log: string[] = [];
  bus.on('detach', (d) => log.push(`-${d.portPath}`));
  bus.on('attach', (d) => {
    log.push(`+${d.portPath}`);
    const time = Date.now();
    const progress = (done: number): StationEvent => ({
      type: 'progress',
      time,
      slot: d.portPath,
      progress: {
        regionIndex: 0,
        regionCount: 1,
        regionOffset: 0x1000,
        regionLabel: 'app',
        regionDone: done,
        regionTotal: 300,
        overallDone: done,
        overallTotal: 300,
        bytesPerSecond: 100,
      },
    });
    setTimeout(() => {
      events.publish({ type: 'state', time, slot: d.portPath, state: 'connecting', attempt: 1 });
      events.publish(progress(50));
      log.push('progress 50');
      events.publish(progress(150));
      log.push('progress 150');
    }, 5);
  });
  op.start();
  await op.done;
  assert.deepEqual(log, ['+1-1.1', 'progress 50', '-1-1.1', 'progress 150']);
  assert.deepEqual(op.plugged[0].variations, [], 'the pull happened once');
});
