/**
 * Chooses how the slot grid is drawn for a terminal size and slot count. The live region must stay shorter than
 * the terminal: Ink clears the whole screen on every frame once its output reaches `rows` (that is the flicker
 * operators complain about), and the <Static> event log needs a few visible lines above it.
 *
 * Three ways to draw a slot, largest first: big tiles (the state in block letters, readable from across the
 * bench), tiles (44×7) and compact rows (one line per slot). The first that fits is used; `big: 'always'`
 * gives up the log's reserve for big tiles, `big: 'never'` skips them.
 */
import { blockTextWidth, GLYPH_LINES, pixelWidthFor } from './block-letters.ts';

/** Lines of one slot tile: 5 content lines + top and bottom border. */
export const TILE_HEIGHT = 7;
export const TILE_MIN_WIDTH = 30;
export const TILE_MAX_WIDTH = 44;
/** A big tile: border, name line, block letters (5 lines per pixel row), two detail lines, border. */
export const BIG_TILE_CHROME = 5;
export const BIG_TILE_MIN_HEIGHT = BIG_TILE_CHROME + GLYPH_LINES;
/** Block letters never get taller than 2 lines per pixel; wider than 4 cells per pixel. */
const BIG_MAX_PIXEL_HEIGHT = 2;
const BIG_MAX_PIXEL_WIDTH = 4;
/** The widest thing a big tile spells: four glyphs (PASS, FAIL, 100%), at 2 cells per pixel, plus border. */
export const BIG_TILE_MIN_WIDTH = blockTextWidth('100%', 2) + 4;
export const BIG_TILE_MAX_WIDTH = blockTextWidth('100%', BIG_MAX_PIXEL_WIDTH) + 6;
export const ROW_MIN_WIDTH = 38;
/** Width at which a compact row shows everything (tty, speed, region, MAC); see slot-text.ts rowLine. */
export const ROW_FULL_WIDTH = 78;
/** Event log lines we keep visible above the live region. */
export const MIN_LOG_LINES = 2;

export type BigMode = 'auto' | 'always' | 'never';

export interface Layout {
  mode: 'tiles' | 'rows';
  /** Big tiles: block letters with pixels `px` cells wide and `ph` lines tall. */
  big?: { px: number; ph: number };
  /** Lines of one tile (tiles mode). */
  tileHeight: number;
  /** Columns of tiles or of compact rows. */
  gridColumns: number;
  /** The grid follows the configured fixture layout (rows and gaps as configured). */
  fixture: boolean;
  /** Width of one tile or one compact row, in cells. */
  cellWidth: number;
  /** Lines the grid occupies (overlays get the same space). */
  gridHeight: number;
  /** Lines of the demo-firmware banner (0 without demo firmware). */
  bannerHeight: number;
  /** Lines of the header (2, plus the demo-firmware banner). */
  headerHeight: number;
  /** Lines of the yield panel: 3 with a separator, 2 compact. */
  yieldHeight: number;
  /** Whole live region (header + yield + grid + footer); always < rows. */
  liveHeight: number;
  width: number;
  /** Slots that did not fit at all (only with absurd slot counts for the terminal). */
  hiddenSlots: number;
}

export interface LayoutOptions {
  /** Rows × columns of the configured fixture layout (slots outside it included), when there is one. */
  fixture?: { rows: number; columns: number };
  big?: BigMode;
}

export function demoBannerHeight(columns: number, rows: number): number {
  return columns >= 100 && rows >= 30 ? 3 : 1;
}

export function chooseLayout(
  columns: number,
  rows: number,
  slotCount: number,
  demoFirmware: boolean,
  opts: LayoutOptions = {},
): Layout {
  const width = Math.max(40, columns);
  const n = Math.max(1, slotCount);
  const fullBanner = demoFirmware ? demoBannerHeight(columns, rows) : 0;
  const footer = 1;
  const yieldFull = 3;
  const fixture = opts.fixture;

  /** Grid rows × columns of tiles at most `maxCols` wide, or undefined when the fixture is wider. */
  const tileShape = (maxCols: number): { rows: number; cols: number } | undefined => {
    if (maxCols < 1) return undefined;
    if (fixture)
      return fixture.columns <= maxCols ? { rows: fixture.rows, cols: fixture.columns } : undefined;
    const tileRows = Math.ceil(n / maxCols);
    return { rows: tileRows, cols: Math.ceil(n / tileRows) };
  };

  const tiles = (
    shape: { rows: number; cols: number },
    cellWidth: number,
    tileHeight: number,
    banner: number,
    big?: { px: number; ph: number },
  ): Layout => {
    const headerHeight = 2 + banner;
    const gridHeight = shape.rows * tileHeight;
    return {
      mode: 'tiles',
      ...(big && { big }),
      tileHeight,
      gridColumns: shape.cols,
      fixture: fixture !== undefined,
      cellWidth,
      gridHeight,
      bannerHeight: banner,
      headerHeight,
      yieldHeight: yieldFull,
      liveHeight: headerHeight + yieldFull + gridHeight + footer,
      width,
      hiddenSlots: 0,
    };
  };

  // Big tiles, when they fit (with the full demo banner, else with a one-line banner).
  if (opts.big !== 'never') {
    const logReserve = opts.big === 'always' ? 0 : MIN_LOG_LINES;
    const shape = tileShape(Math.floor(width / BIG_TILE_MIN_WIDTH));
    for (const banner of new Set([fullBanner, Math.min(fullBanner, 1)])) {
      if (!shape) break;
      const gridLines = rows - 1 - logReserve - (2 + banner + yieldFull + footer);
      const perTile = Math.floor(gridLines / shape.rows);
      const ph = Math.min(BIG_MAX_PIXEL_HEIGHT, Math.floor((perTile - BIG_TILE_CHROME) / GLYPH_LINES));
      const cellWidth = Math.min(BIG_TILE_MAX_WIDTH, Math.floor(width / shape.cols));
      const px = pixelWidthFor('100%', cellWidth - 4, BIG_MAX_PIXEL_WIDTH);
      if (ph >= 1 && px >= 2) {
        return tiles(shape, cellWidth, BIG_TILE_CHROME + GLYPH_LINES * ph, banner, { px, ph });
      }
    }
  }

  // Tiles: fewest tile rows that fit the width, if their height leaves room for the log.
  const shape = tileShape(Math.floor(width / TILE_MIN_WIDTH));
  if (shape) {
    const layout = tiles(
      shape,
      Math.min(TILE_MAX_WIDTH, Math.floor(width / shape.cols)),
      TILE_HEIGHT,
      fullBanner,
    );
    if (layout.liveHeight + MIN_LOG_LINES < rows) return layout;
  }

  // Compact: one line per slot, in as many columns as the height requires.
  const headerHeight = 2 + fullBanner;
  const yieldHeight = rows >= 30 ? yieldFull : 2;
  const maxRowCols = Math.max(1, Math.floor(width / ROW_MIN_WIDTH));
  const chrome = headerHeight + yieldHeight + footer + 1;
  let available = Math.max(1, rows - chrome - MIN_LOG_LINES);
  const rowsLayout = (rowCols: number, perColumn: number, followsFixture: boolean): Layout => ({
    mode: 'rows',
    tileHeight: 1,
    gridColumns: rowCols,
    fixture: followsFixture,
    cellWidth: Math.floor(width / rowCols),
    gridHeight: perColumn,
    bannerHeight: fullBanner,
    headerHeight,
    yieldHeight,
    liveHeight: headerHeight + yieldHeight + perColumn + footer,
    width,
    hiddenSlots: followsFixture ? 0 : Math.max(0, n - perColumn * rowCols),
  });
  // The fixture's shape as lines: one line per fixture row, one column per fixture column.
  if (fixture && fixture.columns <= maxRowCols) {
    if (fixture.rows <= available) return rowsLayout(fixture.columns, fixture.rows, true);
    if (fixture.rows <= rows - chrome) return rowsLayout(fixture.columns, fixture.rows, true);
  }
  // Every slot visible matters more than log lines: give up the log's reserve before hiding slots.
  if (n > available * maxRowCols) available = Math.max(1, rows - chrome);
  // Ink redraws the whole live region every frame, so a shorter region is cheaper: use as many columns as
  // still leave each row wide enough for the full row (speed and region), else as many as the height needs.
  const fullRowCols = Math.max(1, Math.floor(width / ROW_FULL_WIDTH));
  const rowCols = Math.min(
    maxRowCols,
    Math.max(Math.ceil(n / available), Math.min(fullRowCols, Math.ceil(n / 8))),
  );
  return rowsLayout(rowCols, Math.min(available, Math.ceil(n / rowCols)), false);
}
