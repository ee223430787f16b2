/**
 * Where each slot sits on the screen: the grid mirrors the fixture, so the operator finds B2 where B2 is.
 * Configured slots come in config order; slots nobody named follow in natural port-path order (1-1.2 before
 * 1-1.10); a configured layout (rows of port paths, null for a gap) places them exactly. A slot keeps its place
 * when its board is pulled.
 */

/** The fixture's shape: rows of slot port paths, null where the fixture has no slot. */
export type FixtureLayout = readonly (readonly (string | null)[])[];

const collator = new Intl.Collator('en', { numeric: true });

/** 1-1.2 before 1-1.10, 1-2.1 after 1-1.4. */
export function naturalCompare(a: string, b: string): number {
  return collator.compare(a, b);
}

/** Order of slots by port path: the configured ones in config order, then the rest naturally. */
export function slotComparator(configured: readonly string[]): (a: string, b: string) => number {
  const index = new Map(configured.map((p, i) => [p, i]));
  return (a, b) => {
    const ia = index.get(a);
    const ib = index.get(b);
    if (ia !== undefined && ib !== undefined) return ia - ib;
    if (ia !== undefined) return -1;
    if (ib !== undefined) return 1;
    return naturalCompare(a, b);
  };
}

/** Rows and columns of the fixture's grid once slots outside the layout are added below it. */
export function fixtureShape(
  fixture: FixtureLayout,
  portPaths: readonly string[],
): { rows: number; columns: number } {
  const columns = Math.max(1, ...fixture.map((r) => r.length));
  const placed = new Set(fixture.flat());
  const extra = portPaths.filter((p) => !placed.has(p)).length;
  return { rows: fixture.length + Math.ceil(extra / columns), columns };
}

/**
 * The slots as grid rows (null = a gap). With a fixture layout: its rows, then any slot it does not place, in
 * rows of the same width. Without: `columns` slots per row in order.
 */
export function arrangeSlots<T extends { portPath: string }>(
  slots: readonly T[],
  columns: number,
  fixture?: FixtureLayout,
): (T | null)[][] {
  const rows: (T | null)[][] = [];
  let rest = slots;
  let width = Math.max(1, columns);
  if (fixture) {
    const byPath = new Map(slots.map((s) => [s.portPath, s]));
    for (const row of fixture) rows.push(row.map((p) => (p === null ? null : (byPath.get(p) ?? null))));
    const placed = new Set(fixture.flat());
    rest = slots.filter((s) => !placed.has(s.portPath));
    width = Math.max(1, ...fixture.map((r) => r.length));
  }
  for (let i = 0; i < rest.length; i += width) rows.push(rest.slice(i, i + width));
  return rows;
}
