import React from 'react';
import { Box, Text } from 'ink';
import type { Layout } from '../layout.ts';
import { arrangeSlots } from '../slot-order.ts';
import type { FixtureLayout } from '../slot-order.ts';
import type { SlotView } from '../store.ts';
import { SlotRow } from './SlotRow.tsx';
import { SlotTile } from './SlotTile.tsx';

function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** The slots as the fixture holds them: tiles (or one line each) in grid rows, a blank cell for a gap. */
export function SlotGrid({
  slots,
  layout,
  fixture,
}: {
  slots: readonly SlotView[];
  layout: Layout;
  fixture?: FixtureLayout;
}): React.JSX.Element {
  if (slots.length === 0) {
    return (
      <Box height={layout.gridHeight}>
        <Text dimColor>No slots yet: plug a board into the fixture.</Text>
      </Box>
    );
  }
  const nameWidth = Math.min(10, Math.max(3, ...slots.map((s) => s.name.length)));
  const atColumn = slots.some((s) => s.atPort !== undefined);
  if (layout.mode === 'tiles' || layout.fixture) {
    const grid = arrangeSlots(slots, layout.gridColumns, layout.fixture ? fixture : undefined);
    const tiles = layout.mode === 'tiles';
    return (
      <Box flexDirection="column" height={layout.gridHeight}>
        {grid.map((row, r) => (
          <Box key={r} flexDirection="row" height={tiles ? layout.tileHeight : 1}>
            {row.map((s, c) =>
              s === null ? (
                <Box key={`gap-${c}`} width={layout.cellWidth} />
              ) : tiles ? (
                <SlotTile
                  key={s.portPath}
                  slot={s}
                  width={layout.cellWidth}
                  height={layout.tileHeight}
                  px={layout.big?.px}
                  ph={layout.big?.ph}
                />
              ) : (
                <SlotRow
                  key={s.portPath}
                  slot={s}
                  width={layout.cellWidth}
                  nameWidth={nameWidth}
                  atColumn={atColumn}
                />
              ),
            )}
          </Box>
        ))}
      </Box>
    );
  }
  // Compact rows fill column by column, so slot order reads top to bottom like the fixture's numbering.
  const perColumn = layout.gridHeight;
  const visible = slots.slice(0, perColumn * layout.gridColumns);
  return (
    <Box flexDirection="row" height={layout.gridHeight}>
      {chunk(visible, perColumn).map((col, c) => (
        <Box key={c} flexDirection="column" width={layout.cellWidth}>
          {col.map((s) => (
            <SlotRow
              key={s.portPath}
              slot={s}
              width={layout.cellWidth}
              nameWidth={nameWidth}
              atColumn={atColumn}
            />
          ))}
        </Box>
      ))}
      {layout.hiddenSlots > 0 ? <Text color="yellow">+{layout.hiddenSlots} more</Text> : null}
    </Box>
  );
}
