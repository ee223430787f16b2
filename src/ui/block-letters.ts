/**
 * Large block letters for reading a slot's state from across the bench: PASS, FAIL and a percentage, drawn with
 * full-block characters in the state's colour (a monochrome terminal and a text capture still show the shape).
 * Each glyph is 3 × 5 pixels; a pixel is `px` cells wide and `ph` lines tall. Only a dozen slots fit as big
 * tiles, and each line is one segment. Measured (bench/ui-frame-cost.ts): 8 flashing slots on 200×50 cost
 * about twice the CPU per frame of plain tiles, so the sampler draws them about half as often.
 */
import type { Segment } from './segments.ts';

const FONT: Readonly<Record<string, readonly string[]>> = {
  P: ['###', '#.#', '###', '#..', '#..'],
  A: ['###', '#.#', '###', '#.#', '#.#'],
  S: ['###', '#..', '###', '..#', '###'],
  F: ['###', '#..', '##.', '#..', '#..'],
  I: ['###', '.#.', '.#.', '.#.', '###'],
  L: ['#..', '#..', '#..', '#..', '###'],
  '0': ['###', '#.#', '#.#', '#.#', '###'],
  '1': ['.#.', '##.', '.#.', '.#.', '###'],
  '2': ['###', '..#', '###', '#..', '###'],
  '3': ['###', '..#', '.##', '..#', '###'],
  '4': ['#.#', '#.#', '###', '..#', '..#'],
  '5': ['###', '#..', '###', '..#', '###'],
  '6': ['###', '#..', '###', '#.#', '###'],
  '7': ['###', '..#', '..#', '..#', '..#'],
  '8': ['###', '#.#', '###', '#.#', '###'],
  '9': ['###', '#.#', '###', '..#', '###'],
  '%': ['#.#', '..#', '.#.', '#..', '#.#'],
  ' ': ['...', '...', '...', '...', '...'],
};

export const GLYPH_LINES = 5;

/** Cells a text takes at pixel width `px` (glyphs 3 pixels wide, one pixel apart). */
export function blockTextWidth(text: string, px: number): number {
  return text.length === 0 ? 0 : (text.length * 4 - 1) * px;
}

/** Widest pixel that fits `text` into `width` cells (0 when even 1 does not fit). */
export function pixelWidthFor(text: string, width: number, max = 4): number {
  const perPixel = text.length * 4 - 1;
  return Math.max(0, Math.min(max, Math.floor(width / perPixel)));
}

/** The text as 5 × ph lines of segments, centred in `width` cells, the lit pixels in `color`. */
export function blockLetters(
  text: string,
  opts: { px: number; ph: number; width: number; color: string },
): Segment[][] {
  const { px, ph, width, color } = opts;
  const inner = blockTextWidth(text, px);
  const left = Math.max(0, Math.floor((width - inner) / 2));
  const lines: Segment[][] = [];
  for (let row = 0; row < GLYPH_LINES; row++) {
    let bits = '';
    [...text].forEach((ch, i) => {
      if (i > 0) bits += '.';
      bits += (FONT[ch] ?? FONT[' '])[row];
    });
    // One segment per line (the gaps are spaces inside it): fewer nodes for Ink to lay out every frame.
    const line = ' '.repeat(left) + bits.replace(/#/g, '█'.repeat(px)).replace(/\./g, ' '.repeat(px));
    const segs: Segment[] = [{ text: line, color }];
    for (let k = 0; k < ph; k++) lines.push(segs);
  }
  return lines;
}
