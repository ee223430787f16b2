// Readable from across the bench: when there is room, each slot's state in block letters (PASS, FAIL, the % while
// writing); `big: 'always'` (--big) takes the log's lines for them; the live region still never fills the screen.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { blockLetters } from '../../src/ui/block-letters.ts';
import { chooseLayout } from '../../src/ui/layout.ts';
import { renderApp } from './app-render.tsx';
import { attach, progress, result, state, waitFor } from './ui-harness.ts';

/** The letters' lines as text, without the centring. */
const lettersText = (text: string, px: number, ph: number) =>
  blockLetters(text, { px, ph, width: 0, color: 'green' }).map((l) => l.map((s) => s.text).join(''));

test('the glyphs spell what they say: P, A, S, F, I, L, digits and % differ from each other', () => {
  const glyphs = [...'PASFIL0123456789%'].map((c) => lettersText(c, 1, 1).join('/'));
  // 5 and S may share a shape; every other glyph is distinct.
  assert.equal(new Set(glyphs).size, glyphs.length - 1);
  assert.deepEqual(lettersText('P', 1, 1), ['███', '█ █', '███', '█  ', '█  ']);
  assert.deepEqual(lettersText('1', 2, 2).slice(0, 3), ['  ██  ', '  ██  ', '████  ']);
});

test('big tiles when there is room: 8 slots on 200×50 get 2-line pixels, 120×40 with the demo banner too', () => {
  const wide = chooseLayout(200, 50, 8, true);
  assert.equal(wide.mode, 'tiles');
  assert.deepEqual(wide.big, { px: 3, ph: 2 });
  assert.equal(wide.gridColumns, 4);
  const mid = chooseLayout(120, 40, 8, true);
  assert.ok(mid.big, 'big at 120×40');
  assert.equal(mid.bannerHeight, 1, 'the demo banner gives up two lines for the letters');
  assert.ok(mid.liveHeight + 2 < 40);
  assert.equal(chooseLayout(80, 24, 8, false).big, undefined, 'no room at 80×24');
  assert.equal(chooseLayout(200, 50, 8, true, { big: 'never' }).big, undefined);
});

test('--big (always) takes the log reserve when that is what it needs; never more than the screen', () => {
  assert.equal(chooseLayout(120, 38, 9, false).big, undefined);
  const forced = chooseLayout(120, 38, 9, false, { big: 'always' });
  assert.ok(forced.big);
  assert.ok(forced.liveHeight < 38);
  // Even forced, big tiles that cannot fit at all fall back to what does.
  const tiny = chooseLayout(80, 24, 32, false, { big: 'always' });
  assert.equal(tiny.big, undefined);
  assert.equal(tiny.hiddenSlots, 0);
});

test('with every option the live region stays shorter than the terminal and no slot is hidden', () => {
  for (const [cols, rows] of [
    [80, 24],
    [100, 30],
    [120, 40],
    [160, 48],
    [200, 50],
    [200, 60],
  ]) {
    for (const n of [1, 2, 4, 8, 12, 16, 24, 32]) {
      for (const big of ['auto', 'always', 'never'] as const) {
        for (const fixture of [undefined, { rows: Math.ceil(n / 4), columns: Math.min(n, 4) }]) {
          const l = chooseLayout(cols, rows, n, true, { big, ...(fixture && { fixture }) });
          const what = `${n} slots on ${cols}×${rows} big ${big}${fixture ? ' fixture' : ''}`;
          assert.ok(l.liveHeight < rows, `${what}: live ${l.liveHeight}`);
          assert.ok(l.cellWidth * l.gridColumns <= cols, `${what}: too wide`);
          assert.equal(l.hiddenSlots, 0, what);
        }
      }
    }
  }
});

test('on screen: PASS, FAIL and the % in block letters, with the reason and REMOVE BOARD below', async (t) => {
  const slots = ['A1', 'A2', 'A3'].map((n) => ({ portPath: n, name: n }));
  const app = renderApp(t, { slots, size: { columns: 100, rows: 40 } });
  app.store.handle(attach('A1'));
  app.store.handle(result('A1', 'pass', { durationMs: 9_400 }));
  app.store.handle(attach('A2'));
  app.store.handle(result('A2', 'fail', { code: 'verify-mismatch', message: 'app MD5 differs' }));
  app.store.handle(attach('A3'));
  app.store.handle(state('A3', 'flashing'));
  app.store.handle({ type: 'progress', time: Date.now(), slot: 'A3', progress: progress(420, 1000) });
  await waitFor(() => app.text().includes('verify mismatch'), 'results drawn');
  const f = app.text();
  const { big } = chooseLayout(100, 40, 3, false);
  assert.ok(big);
  for (const word of ['PASS', 'FAIL', '42%']) {
    for (const line of lettersText(word, big.px, big.ph))
      assert.ok(f.includes(line.trim()), `${word}: ${line}`);
  }
  assert.equal(f.match(/REMOVE BOARD/g)?.length, 2);
  assert.match(f, /9\.4 s/);
  assert.match(f, /app MD5 differs/);
});

test("big: 'never' draws no block letters", async (t) => {
  const app = renderApp(t, { slots: [{ portPath: 'A1', name: 'A1' }], big: 'never' });
  app.store.handle(attach('A1'));
  app.store.handle(result('A1', 'pass'));
  await waitFor(() => app.text().includes('REMOVE BOARD'), 'result');
  assert.ok(!app.text().includes('█'));
});
