/**
 * What a slot says, as styled segments: the tile (5 lines) and the compact row (1 line). Pure functions of the
 * slot's snapshot, so tests and the renderer agree and unchanged slots need no re-render.
 */
import type { SlotState } from '../station/events.ts';
import { blockLetters } from './block-letters.ts';
import { formatDuration, formatEta, formatKBps, progressBar } from './display-text.ts';
import { FAILURE_WORDS } from './failure-words.ts';
import { ROW_FULL_WIDTH } from './layout.ts';
import { fitSegments } from './segments.ts';
import type { Segment } from './segments.ts';
import type { SlotResult, SlotView } from './store.ts';

export const STATE_LABELS: Readonly<Record<SlotState, string>> = {
  empty: 'EMPTY',
  detected: 'DETECTED',
  connecting: 'CONNECTING',
  identifying: 'IDENTIFYING',
  checking: 'CHECKING',
  flashing: 'FLASHING',
  verifying: 'VERIFYING',
  resetting: 'RESETTING',
  'boot-check': 'BOOT CHECK',
  testing: 'TESTING',
  pass: 'PASS',
  fail: 'FAIL',
};

export type Tone = 'idle' | 'busy' | 'pass' | 'fail' | 'saving';

export function slotTone(slot: SlotView): Tone {
  if (slot.state === 'pass' || slot.state === 'fail') {
    if (slot.result && !slot.result.recorded) return 'saving';
    return slot.state;
  }
  if (slot.state === 'empty') return 'idle';
  return 'busy';
}

export const TONE_COLORS: Readonly<Record<Tone, string>> = {
  idle: 'gray',
  busy: 'cyan',
  pass: 'green',
  fail: 'red',
  saving: 'yellow',
};

export function failureWords(r: SlotResult): string {
  return r.code ? FAILURE_WORDS[r.code].short : (r.message ?? 'failed');
}

/** Short labels for narrow compact rows (80 columns with two columns of slots). */
export const SHORT_STATE_LABELS: Readonly<Record<SlotState, string>> = {
  empty: 'EMPTY',
  detected: 'DETECT',
  connecting: 'CONNECT',
  identifying: 'IDENT',
  checking: 'CHECK',
  flashing: 'FLASH',
  verifying: 'VERIFY',
  resetting: 'RESET',
  'boot-check': 'BOOT',
  testing: 'TEST',
  pass: 'PASS',
  fail: 'FAIL',
};

function stateBadge(slot: SlotView, short = false): Segment {
  const tone = slotTone(slot);
  // The result is not on screen as PASS/FAIL until the ledger holds it (durability before display).
  const label = tone === 'saving' ? 'SAVING' : (short ? SHORT_STATE_LABELS : STATE_LABELS)[slot.state];
  if (tone === 'idle') return { text: ` ${label} `, dimColor: true };
  return {
    text: ` ${label} `,
    color: tone === 'busy' ? 'black' : tone === 'saving' ? 'black' : 'white',
    backgroundColor: TONE_COLORS[tone],
    bold: true,
  };
}

function chipAndMac(slot: SlotView): string {
  if (!slot.board) return slot.state === 'identifying' ? 'identifying…' : '';
  return `${slot.board.chipDisplay} ${slot.board.mac}`;
}

function progressFraction(slot: SlotView): number {
  const p = slot.progress;
  if (!p || p.overallTotal <= 0) return 0;
  return p.overallDone / p.overallTotal;
}

/** Bytes are moving: a bar, speed and ETA mean something only while writing or verifying. */
function hasProgress(slot: SlotView): boolean {
  return slot.progress !== undefined && (slot.state === 'flashing' || slot.state === 'verifying');
}

function percentText(fraction: number): string {
  return `${Math.floor(fraction * 100)}%`.padStart(4);
}

function removeBoard(tone: Tone): Segment {
  return { text: ' REMOVE BOARD ', color: 'black', backgroundColor: TONE_COLORS[tone], bold: true };
}

function regionText(slot: SlotView): string {
  const p = slot.progress;
  if (!p) return slot.message ?? '';
  return `${p.regionLabel} ${p.regionIndex + 1}/${p.regionCount}`;
}

function lastResultText(r: SlotResult | undefined): Segment {
  if (!r) return { text: 'insert a board', dimColor: true };
  return { text: `last: ${r.result === 'pass' ? 'PASS' : `FAIL, ${failureWords(r)}`}`, dimColor: true };
}

/** What the board is waiting on or retrying, in yellow; undefined when it is simply working. */
function trouble(slot: SlotView): Segment | undefined {
  if (slot.waitingSeconds !== undefined) {
    const note = slot.notice ? `${slot.notice}, ` : '';
    return { text: `${note}no reply for ${slot.waitingSeconds} s, waiting`, color: 'yellow' };
  }
  if (slot.notice) return { text: slot.notice, color: 'yellow' };
  return undefined;
}

/** The 5 content lines of a tile, each fitted to `width` cells. */
export function tileLines(slot: SlotView, width: number): Segment[][] {
  const tone = slotTone(slot);
  const lines: Segment[][] = [];
  const head: Segment[] = [{ text: slot.name, bold: true }];
  if (slot.tty) head.push({ text: ` ${slot.tty.replace(/^\/dev\//, '')}`, dimColor: true });
  // A slot with an AT port tests its boards after flashing; one without relies on the boot check alone.
  if (slot.atPort) head.push({ text: ' +AT', color: 'cyan' });
  // A retest (the ledger has seen this MAC before) is worth noticing; an empty slot has no board to retest.
  if (slot.attempt > 1 && slot.state !== 'empty')
    head.push({ text: ` try ${slot.attempt}`, color: 'yellow' });
  lines.push(head);

  const badge = stateBadge(slot);
  if (tone === 'pass' && slot.result) {
    lines.push([badge, { text: ` ${formatDuration(slot.result.durationMs)}`, color: 'green' }]);
  } else if (tone === 'fail' && slot.result) {
    lines.push([badge, { text: ` ${failureWords(slot.result)}`, color: 'red', bold: true }]);
  } else {
    lines.push([badge]);
  }

  lines.push([{ text: chipAndMac(slot) }]);

  const barWidth = Math.max(4, width - 5);
  if (tone === 'busy' && hasProgress(slot)) {
    const f = progressFraction(slot);
    const p = slot.progress!;
    lines.push([{ text: progressBar(f, barWidth), color: 'cyan' }, { text: ` ${percentText(f)}`.slice(-5) }]);
    const t = trouble(slot);
    lines.push(
      t
        ? [t, { text: ` ${regionText(slot)}` }]
        : [
            { text: `ETA ${formatEta(p.etaSeconds)} ` },
            { text: `${formatKBps(p.bytesPerSecond)} `, dimColor: true },
            { text: regionText(slot) },
          ],
    );
  } else if (tone === 'busy') {
    const t = trouble(slot);
    lines.push([{ text: slot.message ?? '', dimColor: true }]);
    lines.push(t ? [t] : []);
  } else if (tone === 'pass' || (tone === 'saving' && slot.result?.result === 'pass')) {
    lines.push([{ text: progressBar(1, barWidth), color: 'green' }, { text: ' 100%' }]);
    lines.push(tone === 'pass' ? [removeBoard('pass')] : [{ text: 'saving result…', color: 'yellow' }]);
  } else if (tone === 'fail' || tone === 'saving') {
    const r = slot.result;
    const why = r?.message ?? (r?.code ? FAILURE_WORDS[r.code].advice : '');
    lines.push([{ text: why, color: 'red' }]);
    lines.push(tone === 'fail' ? [removeBoard('fail')] : [{ text: 'saving result…', color: 'yellow' }]);
  } else {
    lines.push([lastResultText(slot.lastResult)]);
    lines.push([]);
  }
  return lines.map((l) => fitSegments(l, width));
}

/** The text a big tile spells in block letters, if its state has one: PASS, FAIL, or the % while writing. */
function bigWord(slot: SlotView): { text: string; tone: Tone } | undefined {
  const tone = slotTone(slot);
  if (tone === 'pass' || tone === 'fail') return { text: tone === 'pass' ? 'PASS' : 'FAIL', tone };
  if (tone === 'busy' && hasProgress(slot))
    return { text: `${Math.floor(progressFraction(slot) * 100)}%`, tone };
  return undefined;
}

/**
 * A big tile's content lines (name, 5 × ph lines of block letters, two detail lines), each fitted to `width`.
 * States without a big word (connecting, empty, saving…) show their badge in the middle of the letter area.
 */
export function bigTileLines(slot: SlotView, width: number, big: { px: number; ph: number }): Segment[][] {
  const small = tileLines(slot, width);
  const word = bigWord(slot);
  const area = 5 * big.ph;
  let letters: Segment[][];
  if (word) {
    letters = blockLetters(word.text, { px: big.px, ph: big.ph, width, color: TONE_COLORS[word.tone] });
  } else {
    const badge = stateBadge(slot);
    const pad = ' '.repeat(Math.max(0, Math.floor((width - badge.text.length) / 2)));
    letters = Array.from({ length: area }, (_, i) =>
      i === Math.floor(area / 2) ? [{ text: pad }, badge] : [],
    );
  }
  const tone = slotTone(slot);
  let details: Segment[][];
  if (tone === 'pass' && slot.result) {
    const took = { text: ` ${formatDuration(slot.result.durationMs)}`, color: 'green' };
    details = [[{ text: chipAndMac(slot) }, took], [removeBoard('pass')]];
  } else if (tone === 'fail' && slot.result) {
    const r = slot.result;
    details = [
      [
        { text: failureWords(r), color: 'red', bold: true },
        { text: r.message ? ` ${r.message}` : '', color: 'red' },
      ],
      [removeBoard('fail'), { text: ` ${chipAndMac(slot)}`, dimColor: true }],
    ];
  } else if (word) {
    details = [[stateBadge(slot), { text: ` ${chipAndMac(slot)}` }], small[4]];
  } else {
    // Connecting, checking…: what it is doing, then any retry or wait, else the board.
    details = [small[3], small[4].length > 0 ? small[4] : small[2]];
  }
  return [small[0], ...letters, ...details].map((l) => fitSegments(l, width));
}

/**
 * One line per slot, for many slots or small terminals. `atColumn`: some slot of the grid has an AT port, so wide
 * rows mark those slots `+AT` (as tiles do) in a column of their own that keeps the rows aligned.
 */
export function rowLine(slot: SlotView, width: number, nameWidth: number, atColumn = false): Segment[] {
  const tone = slotTone(slot);
  // Every character costs Ink time on every frame (32 rows × 10 Hz): rows carry no padding beyond alignment.
  const wide = width >= ROW_FULL_WIDTH - 1;
  const segs: Segment[] = [{ text: `${slot.name.padEnd(nameWidth)} `, bold: true }];
  if (wide) {
    const tty = (slot.tty ?? '').replace(/^\/dev\//, '').padEnd(10);
    if (!atColumn) segs.push({ text: `${tty} ` });
    else segs.push({ text: tty }, slot.atPort ? { text: '+AT ', color: 'cyan' } : { text: '    ' });
  }
  const badge = stateBadge(slot, !wide);
  const badgeWidth = wide ? 14 : 10;
  segs.push(badge, { text: ' '.repeat(Math.max(1, badgeWidth - badge.text.length)) });
  if (tone === 'busy' && hasProgress(slot)) {
    // Narrow rows keep bar, % and ETA; wide rows add speed and region.
    const f = progressFraction(slot);
    const p = slot.progress!;
    const barWidth = wide ? 16 : Math.max(4, width - nameWidth - 1 - badgeWidth - 11);
    const t = trouble(slot);
    segs.push({ text: progressBar(f, barWidth), color: 'cyan' }, { text: ` ${percentText(f)} ` });
    if (t) segs.push(t);
    else {
      segs.push({ text: formatEta(p.etaSeconds) });
      if (wide) segs.push({ text: ` ${formatKBps(p.bytesPerSecond).padStart(9)} ${regionText(slot)}` });
    }
  } else if (tone === 'busy') {
    segs.push(trouble(slot) ?? { text: slot.message ?? '' });
  } else if (tone === 'pass' || tone === 'fail') {
    segs.push(wide ? removeBoard(tone) : { ...removeBoard(tone), text: 'REMOVE' });
    if (tone === 'fail' && slot.result)
      segs.push({ text: ` ${failureWords(slot.result)}`, color: 'red', bold: true });
    if (tone === 'pass' && slot.result)
      segs.push({ text: ` ${formatDuration(slot.result.durationMs)}`, color: 'green' });
    if (wide && slot.board) segs.push({ text: `  ${slot.board.mac}` });
  } else if (tone === 'saving') {
    segs.push({ text: 'saving result...', color: 'yellow' });
  } else {
    segs.push(lastResultText(slot.lastResult));
  }
  return fitSegments(segs, width);
}
