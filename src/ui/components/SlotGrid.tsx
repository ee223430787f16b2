import React from 'react';
import { Box, Text } from 'ink';
import type { Layout } from '../layout.ts';
import type { SlotView } from '../store.ts';
import { SlotRow } from './SlotRow.tsx';
import { SlotTile } from './SlotTile.tsx';

function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

export function SlotGrid({
  slots,
  layout,
}: {
  slots: readonly SlotView[];
  layout: Layout;
}): React.JSX.Element {
  if (slots.length === 0) {
    return (
      <Box height={layout.gridHeight}>
        <Text dimColor>No slots yet: plug a board into the fixture.</Text>
      </Box>
    );
  }
  if (layout.mode === 'tiles') {
    return (
      <Box flexDirection="column" height={layout.gridHeight}>
        {chunk(slots, layout.gridColumns).map((row, r) => (
          <Box key={r} flexDirection="row">
            {row.map((s) => (
              <SlotTile key={s.portPath} slot={s} width={layout.cellWidth} />
            ))}
          </Box>
        ))}
      </Box>
    );
  }
  // Compact rows fill column by column, so slot order reads top to bottom like the fixture's numbering.
  const perColumn = layout.gridHeight;
  const nameWidth = Math.min(10, Math.max(3, ...slots.map((s) => s.name.length)));
  const visible = slots.slice(0, perColumn * layout.gridColumns);
  return (
    <Box flexDirection="row" height={layout.gridHeight}>
      {chunk(visible, perColumn).map((col, c) => (
        <Box key={c} flexDirection="column" width={layout.cellWidth}>
          {col.map((s) => (
            <SlotRow key={s.portPath} slot={s} width={layout.cellWidth} nameWidth={nameWidth} />
          ))}
        </Box>
      ))}
      {layout.hiddenSlots > 0 ? <Text color="yellow">+{layout.hiddenSlots} more</Text> : null}
    </Box>
  );
}
