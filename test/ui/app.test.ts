import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderApp } from './app-render.tsx';
import { attach, BOARD, plain, progress, result, state, waitFor } from './ui-harness.ts';
import { SLOT_STATES } from '../../src/station/events.ts';

const ESC = '\x1b';
const sixSlots = ['p1', 'p2', 'p3', 'p4', 'p5', 'p6'].map((p, i) => ({ portPath: p, name: `S${i + 1}` }));

async function ready(app: ReturnType<typeof renderApp>): Promise<void> {
  await waitFor(() => app.text().includes('line-7'), 'first frame');
  // Let Ink's input hook subscribe (it does so in an effect after the first commit).
  await new Promise((r) => setImmediate(r));
}

test('header shows station, profile, short fingerprint, chip, operator, lot, run state and clock', async (t) => {
  const app = renderApp(t, { slots: sixSlots });
  await ready(app);
  const f = app.text();
  for (const s of ['line-7', 'at-wroom32', 'abcdef01', 'ESP32', 'bob', 'LOT-1', 'RUNNING'])
    assert.ok(f.includes(s), s);
  assert.ok(!f.includes('abcdef0123'), 'fingerprint shortened');
  assert.match(f, /\d\d:\d\d:\d\d/);
  assert.ok(!f.includes('DEMO FIRMWARE'));
});

test('demo firmware shows a banner that cannot be missed', async (t) => {
  const app = renderApp(t, { slots: sixSlots, header: { demoFirmware: true } });
  await ready(app);
  assert.match(app.text(), /DEMO FIRMWARE — NOT FOR SHIPPING/);
});

test('every slot state is drawn in words; PASS/FAIL tell the operator what to do', async (t) => {
  const slots = SLOT_STATES.map((s) => ({ portPath: `p-${s}`, name: s.slice(0, 4).toUpperCase() }));
  const app = renderApp(t, { slots, size: { columns: 100, rows: 60 } });
  for (const s of SLOT_STATES) {
    const slot = `p-${s}`;
    if (s === 'empty') continue;
    app.store.handle(attach(slot));
    if (s === 'pass') app.store.handle(result(slot, 'pass', { durationMs: 14_200 }));
    else if (s === 'fail')
      app.store.handle(result(slot, 'fail', { code: 'verify-mismatch', message: 'app MD5 differs' }));
    else app.store.handle(state(slot, s));
  }
  app.store.handle({ type: 'progress', time: 1, slot: 'p-flashing', progress: progress(600, 1000) });
  await waitFor(() => app.text().includes('VERIFY MISMATCH'.toLowerCase()), 'fail reason');
  const f = app.text();
  for (const label of [
    'EMPTY',
    'DETECTED',
    'CONNECTING',
    'IDENTIFYING',
    'CHECKING',
    'FLASHING',
    'VERIFYING',
    'RESETTING',
    'BOOT CHECK',
    ' PASS ',
    ' FAIL ',
  ]) {
    assert.ok(f.includes(label), `state label ${label}`);
  }
  assert.match(f, /60%/);
  assert.match(f, /ETA 00:03/);
  assert.match(f, /400 KB\/s/);
  assert.match(f, /app 6\/6/);
  assert.match(f, /24:0A:C4:12:34:56/);
  assert.match(f, /14\.2 s/);
  assert.match(f, /app MD5 differs/);
  assert.equal(f.match(/REMOVE BOARD/g)?.length, 2);
});

test('a result not yet on disk shows SAVING, not PASS', async (t) => {
  const app = renderApp(t, { slots: sixSlots });
  app.store.handle(attach('p1'));
  app.store.handle(result('p1', 'pass', { recorded: false }));
  await waitFor(() => app.text().includes('SAVING'), 'saving');
  assert.ok(!app.text().includes(' PASS '));
  app.store.handle(result('p1', 'pass', { recorded: true }));
  await waitFor(() => app.text().includes(' PASS '), 'pass after recording');
});

test('yield panel: lot and today counts, FPY, median cycle, and a bad slot standing out', async (t) => {
  const app = renderApp(t, { slots: sixSlots });
  let board = 0;
  const outcome = (slot: string, r: 'pass' | 'fail'): void => {
    const mac = `24:0A:C4:00:${(++board >> 8).toString(16).padStart(2, '0')}:${(board & 0xff).toString(16).padStart(2, '0')}`;
    app.store.handle(attach(slot));
    const b = { ...BOARD, mac: mac.toUpperCase() };
    app.store.handle(
      r === 'pass' ? result(slot, 'pass', { board: b }) : result(slot, 'fail', { code: 'no-sync', board: b }),
    );
    app.store.handle({ type: 'slot-detached', time: 0, slot, wasBusy: false });
  };
  // 25 boards per slot; S3 fails 12 of its 25, the others 1 each.
  for (let i = 0; i < 25; i++) {
    for (const s of ['p1', 'p2', 'p4', 'p5']) outcome(s, i === 0 ? 'fail' : 'pass');
    outcome('p3', i < 12 ? 'fail' : 'pass');
  }
  await waitFor(() => app.text().includes('109 passed'), 'yield figures');
  const f = app.text();
  assert.match(f, /✔ 109 passed/);
  assert.match(f, /✘ 16 failed/);
  assert.match(f, /FPY 87\.2%/);
  assert.match(f, /cycle 12\.0 s/);
  assert.match(f, /TODAY ✔ 109 ✘ 16/);
  assert.match(f, /S3 12\/25 CHECK SLOT/);
});

test('event log lines appear above the screen through Static (with --verbose, warnings too)', async (t) => {
  const app = renderApp(t, { slots: sixSlots, verbose: true });
  await ready(app);
  app.store.handle({
    type: 'log',
    time: Date.now(),
    slot: 'p2',
    level: 'warn',
    message: 'baud fell back to 115200',
  });
  app.store.handle(attach('p1'));
  app.store.handle(result('p1', 'fail', { code: 'timeout' }));
  await waitFor(() => /S2 baud fell back/.test(app.text()), 'log line');
  assert.match(app.text(), /S1 FAIL 24:0A:C4:12:34:56: timed out/);
});

test('p pauses and resumes through the controls', async (t) => {
  const app = renderApp(t, { slots: sixSlots });
  await ready(app);
  app.stdin.write('p');
  await waitFor(() => app.text().includes('PAUSED'), 'paused');
  assert.deepEqual(app.controls.calls, ['pause']);
  app.stdin.write('p');
  await waitFor(() => app.text().includes('RUNNING'), 'running again');
  assert.deepEqual(app.controls.calls, ['pause', 'resume']);
});

test('q with no board in flight stops the station at once', async (t) => {
  const app = renderApp(t, { slots: sixSlots });
  await ready(app);
  app.stdin.write('q');
  await waitFor(() => app.controls.calls.includes('stop'), 'stop');
});

test('q with boards in flight asks; n keeps running, y stops', async (t) => {
  const app = renderApp(t, { slots: sixSlots });
  app.controls.inFlight = 3;
  await ready(app);
  app.stdin.write('q');
  await waitFor(() => /3 boards in flight\. Stop the station\?/.test(app.text()), 'question');
  app.stdin.write('n');
  await waitFor(() => app.text().includes('q quit'), 'question gone');
  assert.deepEqual(app.controls.calls, []);
  app.stdin.write('q');
  await waitFor(() => app.text().includes('Stop the station?'), 'asked again');
  let release!: () => void;
  app.controls.stopGate = new Promise((r) => (release = r));
  app.stdin.write('y');
  await waitFor(() => app.text().includes('Stopping: waiting for 3 boards'), 'stopping shown');
  assert.deepEqual(app.controls.calls, ['stop']);
  app.controls.inFlight = 0;
  release();
  // Once stop() resolves, the last frame says so before the UI exits.
  // (After exit Ink's last write is empty, so look through the frames.)
  const stoppedFrame = (): boolean =>
    app.frames.some((f) => plain(f).includes(' Stopped.') && plain(f).includes('STOPPED'));
  await waitFor(stoppedFrame, 'stopped frame');
});

test('Ctrl+C behaves like q: it asks when boards are in flight', async (t) => {
  const app = renderApp(t, { slots: sixSlots });
  app.controls.inFlight = 1;
  await ready(app);
  app.stdin.write('\x03');
  await waitFor(() => app.text().includes('1 board in flight'), 'question');
  app.stdin.write(ESC);
  await waitFor(() => app.text().includes('q quit'), 'cancelled');
  assert.deepEqual(app.controls.calls, []);
});

test('Ctrl+C twice with boards in flight stops now: the question, then the boards in flight are failed', async (t) => {
  const app = renderApp(t, { slots: sixSlots, size: { columns: 80, rows: 24 } });
  app.controls.inFlight = 2;
  app.controls.stopGate = new Promise(() => undefined); // the boards in flight never finish by themselves
  await ready(app);
  app.stdin.write('\x03');
  await waitFor(() => app.text().includes('Stop the station?'), 'question');
  assert.match(app.text(), /Ctrl\+C = fail them now/, 'the question says what a second Ctrl+C does');
  assert.deepEqual(app.controls.calls, []);
  app.stdin.write('\x03');
  await waitFor(() => app.text().includes('Stopping now: failing 2 boards'), 'forced');
  assert.deepEqual(app.controls.calls, ['stop', 'stop-abort']);
});

test('o: operator typed key by key, with backspace, saved by Enter', async (t) => {
  const app = renderApp(t, { slots: sixSlots });
  await ready(app);
  app.stdin.write('o');
  await waitFor(() => app.text().includes('OPERATOR:'), 'entry');
  for (const ch of ['a', 'n', 'x']) app.stdin.write(ch);
  app.stdin.write('\x7f');
  app.stdin.write('n');
  app.stdin.write('a');
  await waitFor(() => app.text().includes('OPERATOR:  anna'), 'typed');
  app.stdin.write('\r');
  await waitFor(() => app.controls.calls.includes('operator:anna'), 'saved');
  assert.deepEqual(app.controls.calls, ['operator:anna']);
  await waitFor(() => /operator anna/.test(app.text()), 'header updated');
});

test('l: a barcode scanner typing the lot and Enter in one burst; q and p inside it are text', async (t) => {
  const app = renderApp(t, { slots: sixSlots });
  await ready(app);
  app.stdin.write('l');
  await waitFor(() => app.text().includes('LOT:'), 'entry');
  app.stdin.write('LOT-2026-qp7\r');
  await waitFor(() => app.controls.calls.includes('lot:LOT-2026-qp7'), 'saved');
  assert.deepEqual(app.controls.calls, ['lot:LOT-2026-qp7']);
  await waitFor(() => /lot LOT-2026-qp7/.test(app.text()), 'header updated');
});

test('Esc cancels an entry; an empty Enter asks for a value', async (t) => {
  const app = renderApp(t, { slots: sixSlots });
  await ready(app);
  app.stdin.write('l');
  await waitFor(() => app.text().includes('LOT:'), 'entry');
  app.stdin.write('\r');
  await waitFor(() => app.text().includes('empty: type or scan'), 'empty hint');
  app.stdin.write('X9');
  await waitFor(() => app.text().includes('LOT:  X9'), 'typed');
  app.stdin.write(ESC);
  await waitFor(() => app.text().includes('q quit'), 'back to normal');
  assert.deepEqual(app.controls.calls, []);
  assert.match(app.text(), /lot LOT-1/);
});

test('r opens the yield summary and ? the help; Esc closes them', async (t) => {
  const app = renderApp(t, { slots: sixSlots });
  app.store.handle(attach('p1'));
  app.store.handle(result('p1', 'fail', { code: 'wrong-chip' }));
  await ready(app);
  await waitFor(() => app.text().includes('✘ 1 failed'), 'result sampled');
  app.stdin.write('r');
  await waitFor(() => app.text().includes('Yield summary, lot LOT-1'), 'summary');
  assert.match(app.text(), /wrong chip type: this board is not the chip/);
  assert.match(app.text(), /S1 0\/1/);
  app.stdin.write(ESC);
  await waitFor(() => !app.text().includes('Yield summary'), 'summary closed');
  app.stdin.write('?');
  await waitFor(() => app.text().includes('Slot colours'), 'help');
  app.stdin.write('?');
  await waitFor(() => !app.text().includes('Slot colours'), 'help closed');
});

test('compact layout at 80×24: 32 slots, one line each, nothing wider than 80 columns', async (t) => {
  const slots = Array.from({ length: 32 }, (_, i) => ({
    portPath: `p${i}`,
    name: `S${String(i + 1).padStart(2, '0')}`,
  }));
  const app = renderApp(t, { slots, size: { columns: 80, rows: 24 } });
  app.store.handle(attach('p0'));
  app.store.handle(state('p0', 'flashing'));
  app.store.handle({ type: 'progress', time: 1, slot: 'p0', progress: progress(250, 1000) });
  app.store.handle(attach('p31'));
  app.store.handle(result('p31', 'fail', { code: 'no-sync' }));
  await waitFor(() => app.text().includes('25%'), 'progress');
  const lines = app.text().split('\n');
  for (const l of lines) assert.ok(l.length <= 80, `line too wide (${l.length}): ${l}`);
  for (let i = 1; i <= 32; i++)
    assert.ok(app.text().includes(`S${String(i).padStart(2, '0')} `), `slot S${i}`);
  assert.ok(!app.text().includes('╭'), 'no tiles');
  assert.ok(lines.length < 24, `live region ${lines.length} lines`);
  assert.match(app.text(), /S32 +FAIL +REMOVE no reply from chip/);
});

test('the yield panel stays intact when the layout switches from tiles to compact rows as slots appear', async (t) => {
  const app = renderApp(t, { slots: [], size: { columns: 80, rows: 24 } });
  app.store.handle(attach('p1'));
  await waitFor(() => app.text().includes('─'.repeat(40)), 'tiles layout with separator');
  for (let i = 2; i <= 10; i++) app.store.handle(attach(`p${i}`));
  await waitFor(() => app.text().includes('p10 '), 'compact rows');
  const lines = app.text().split('\n');
  const lot = lines.findIndex((l) => l.startsWith('LOT '));
  assert.ok(lot > 0, 'LOT line present');
  assert.match(lines[lot + 1], /^fails by slot: none$/);
  assert.ok(!lines.some((l) => l.startsWith('╭')), 'no tiles left');
});

test('compact rows name every state too, in short words at 80 columns', async (t) => {
  const slots = SLOT_STATES.map((s, i) => ({ portPath: `p-${s}`, name: `R${String(i).padStart(2, '0')}` }));
  const extra = Array.from({ length: 21 }, (_, i) => ({
    portPath: `x${i}`,
    name: `X${String(i).padStart(2, '0')}`,
  }));
  const app = renderApp(t, { slots: [...slots, ...extra], size: { columns: 80, rows: 24 } });
  for (const s of SLOT_STATES) {
    if (s === 'empty') continue;
    app.store.handle(attach(`p-${s}`));
    if (s === 'pass') app.store.handle(result(`p-${s}`, 'pass'));
    else if (s === 'fail') app.store.handle(result(`p-${s}`, 'fail', { code: 'timeout' }));
    else app.store.handle(state(`p-${s}`, s));
  }
  await waitFor(() => app.text().includes('timed out'), 'rows drawn');
  const f = app.text();
  assert.ok(!f.includes('╭'), 'compact layout');
  for (const [i, label] of [
    'EMPTY',
    'DETECT',
    'CONNECT',
    'IDENT',
    'CHECK',
    'FLASH',
    'VERIFY',
    'RESET',
    'BOOT',
    'TEST',
    'PASS',
    'FAIL',
  ].entries()) {
    assert.match(f, new RegExp(`R${String(i).padStart(2, '0')} +${label}\\b`), label);
  }
  assert.match(f, /R10 +PASS +REMOVE/);
  assert.match(f, /R11 +FAIL +REMOVE timed out/);
});

test('while stopping, a second Ctrl+C fails the boards in flight at once; a second q asks first', async (t) => {
  for (const second of ['ctrl-c', 'q'] as const) {
    const app = renderApp(t, { slots: sixSlots });
    app.controls.inFlight = 2;
    app.controls.stopGate = new Promise(() => undefined); // the boards in flight never finish by themselves
    await ready(app);
    app.stdin.write('q');
    await waitFor(() => app.text().includes('Stop the station?'), 'question');
    app.stdin.write('y');
    await waitFor(() => app.text().includes('Ctrl+C again fails them now'), 'stopping, with the way out');
    if (second === 'q') {
      app.stdin.write('q');
      await waitFor(() => app.text().includes('Fail the 2 boards in flight now'), 'asked');
      app.stdin.write('n');
      await waitFor(() => app.text().includes('Stopping: waiting for 2 boards'), 'kept waiting');
      assert.deepEqual(app.controls.calls, ['stop']);
      app.stdin.write('q');
      await waitFor(() => app.text().includes('Fail the 2 boards in flight now'), 'asked again');
      app.stdin.write('y');
    } else {
      app.stdin.write('\x03');
    }
    await waitFor(() => app.text().includes('Stopping now: failing 2 boards'), `${second}: forced`);
    assert.deepEqual(app.controls.calls, ['stop', 'stop-abort']);
    app.stdin.write('\x03');
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(app.controls.calls, ['stop', 'stop-abort'], 'asked once is enough');
  }
});
