/**
 * Chooses how the slot grid is drawn for a terminal size and slot count. The live region must stay shorter than
 * the terminal: Ink clears the whole screen on every frame once its output reaches `rows` (that is the flicker
 * operators complain about), and the <Static> event log needs a few visible lines above it.
 */

/** Lines of one slot tile: 5 content lines + top and bottom border. */
export const TILE_HEIGHT = 7;
export const TILE_MIN_WIDTH = 30;
export const TILE_MAX_WIDTH = 44;
export const ROW_MIN_WIDTH = 38;
/** Width at which a compact row shows everything (tty, speed, region, MAC); see slot-text.ts rowLine. */
export const ROW_FULL_WIDTH = 78;
/** Event log lines we keep visible above the live region. */
export const MIN_LOG_LINES = 2;

export interface Layout {
  mode: 'tiles' | 'rows';
  /** Columns of tiles or of compact rows. */
  gridColumns: number;
  /** Width of one tile or one compact row, in cells. */
  cellWidth: number;
  /** Lines the grid occupies (overlays get the same space). */
  gridHeight: number;
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

export function demoBannerHeight(columns: number, rows: number): number {
  return columns >= 100 && rows >= 30 ? 3 : 1;
}

export function chooseLayout(
  columns: number,
  rows: number,
  slotCount: number,
  demoFirmware: boolean,
): Layout {
  const width = Math.max(40, columns);
  const n = Math.max(1, slotCount);
  const headerHeight = 2 + (demoFirmware ? demoBannerHeight(columns, rows) : 0);
  const footer = 1;

  // Tiles: fewest tile rows that fit the width, if their height leaves room for the log.
  const yieldFull = 3;
  const maxTileCols = Math.floor(width / TILE_MIN_WIDTH);
  if (maxTileCols >= 1) {
    const tileRows = Math.ceil(n / maxTileCols);
    const tileCols = Math.ceil(n / tileRows);
    const gridHeight = tileRows * TILE_HEIGHT;
    const liveHeight = headerHeight + yieldFull + gridHeight + footer;
    if (liveHeight + MIN_LOG_LINES < rows) {
      return {
        mode: 'tiles',
        gridColumns: tileCols,
        cellWidth: Math.min(TILE_MAX_WIDTH, Math.floor(width / tileCols)),
        gridHeight,
        headerHeight,
        yieldHeight: yieldFull,
        liveHeight,
        width,
        hiddenSlots: 0,
      };
    }
  }

  // Compact: one line per slot, in as many columns as the height requires.
  const yieldHeight = rows >= 30 ? yieldFull : 2;
  const maxRowCols = Math.max(1, Math.floor(width / ROW_MIN_WIDTH));
  const chrome = headerHeight + yieldHeight + footer + 1;
  let available = Math.max(1, rows - chrome - MIN_LOG_LINES);
  // Every slot visible matters more than log lines: give up the log's reserve before hiding slots.
  if (n > available * maxRowCols) available = Math.max(1, rows - chrome);
  // Ink redraws the whole live region every frame, so a shorter region is cheaper: use as many columns as
  // still leave each row wide enough for the full row (speed and region), else as many as the height needs.
  const fullRowCols = Math.max(1, Math.floor(width / ROW_FULL_WIDTH));
  const rowCols = Math.min(
    maxRowCols,
    Math.max(Math.ceil(n / available), Math.min(fullRowCols, Math.ceil(n / 8))),
  );
  const perColumn = Math.min(available, Math.ceil(n / rowCols));
  const gridHeight = perColumn;
  return {
    mode: 'rows',
    gridColumns: rowCols,
    cellWidth: Math.floor(width / rowCols),
    gridHeight,
    headerHeight,
    yieldHeight,
    liveHeight: headerHeight + yieldHeight + gridHeight + footer,
    width,
    hiddenSlots: Math.max(0, n - perColumn * rowCols),
  };
}
