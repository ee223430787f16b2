import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { StationEventBus } from '../../src/station/events.ts';
import { renderStationUi } from '../../src/ui/index.ts';
import { HEADER, RecordingControls, attach, plain, result } from './ui-harness.ts';

/** A terminal-shaped sink: Ink writes frames here. */
class FakeStdout extends EventEmitter {
  columns = 100;
  rows = 40;
  isTTY = false;
  out = '';
  write(s: string): boolean {
    this.out += s;
    return true;
  }
}

/** Keyboard source; `isTTY: undefined` is what a pipe looks like (no raw mode). */
class FakeStdin extends EventEmitter {
  isTTY: boolean | undefined;
  private pending: string | null = null;
  constructor(isTTY: boolean | undefined) {
    super();
    this.isTTY = isTTY;
  }
  type(s: string): void {
    this.pending = s;
    this.emit('readable');
  }
  read(): string | null {
    const p = this.pending;
    this.pending = null;
    return p;
  }
  setEncoding(): void {}
  setRawMode(): void {}
  ref(): void {}
  unref(): void {}
  resume(): void {}
  pause(): void {}
}

function start(stdin: FakeStdin) {
  const bus = new StationEventBus();
  const controls = new RecordingControls();
  const stdout = new FakeStdout();
  const ui = renderStationUi({
    bus,
    controls,
    header: HEADER,
    slots: [{ portPath: 'p1', name: 'A01' }],
    stdout: stdout as unknown as NodeJS.WriteStream,
    stdin: stdin as unknown as NodeJS.ReadStream,
  });
  return { bus, controls, stdout, stdin, ui };
}

test('renderStationUi: bus events reach the screen; q stops the station and the UI exits', async (t) => {
  const { bus, controls, stdout, stdin, ui } = start(new FakeStdin(true));
  t.after(() => ui.unmount());
  bus.publish(attach('p1'));
  bus.publish(result('p1', 'fail', { code: 'no-sync' }));
  const exited = ui.waitUntilExit();
  // Keep pressing q until Ink's input hook (subscribed in an effect after the first frame) takes it.
  const typing = setInterval(() => stdin.type('q'), 20);
  t.after(() => clearInterval(typing));
  await exited;
  clearInterval(typing);
  assert.deepEqual(controls.calls, ['stop']);
  // In CI mode Ink writes the last frame on exit only; otherwise every frame: either way the result is there.
  const text = plain(stdout.out);
  assert.match(text, /line-7/);
  assert.match(text, /no reply from chip/);
  // After exit the UI no longer listens to the bus: publishing is harmless.
  bus.publish(attach('p1'));
});

test('renderStationUi on a non-TTY stdin (a pipe) renders without raw mode and unmounts cleanly', async (t) => {
  const { bus, controls, stdout, ui } = start(new FakeStdin(undefined));
  t.after(() => ui.unmount());
  bus.publish(attach('p1'));
  bus.publish(result('p1', 'pass'));
  ui.unmount();
  await ui.waitUntilExit();
  assert.match(plain(stdout.out), /PASS/);
  assert.deepEqual(controls.calls, []);
});

test('a terminal made smaller is cleared before the next frame (no fragments of the wider one); a bigger one is not', async (t) => {
  const { stdout, ui } = start(new FakeStdin(true));
  t.after(() => ui.unmount());
  const CLEAR = '\x1b[2J';
  const resize = (columns: number, rows: number): string => {
    const before = stdout.out.length;
    stdout.columns = columns;
    stdout.rows = rows;
    stdout.emit('resize');
    return stdout.out.slice(before);
  };
  assert.ok(!stdout.out.includes(CLEAR), 'no clearing before any resize');
  assert.ok(resize(80, 24).includes(CLEAR), 'narrower and shorter');
  assert.ok(!resize(200, 50).includes(CLEAR), 'bigger: the next frame simply draws over');
  assert.ok(resize(200, 30).includes(CLEAR), 'shorter only');
});
