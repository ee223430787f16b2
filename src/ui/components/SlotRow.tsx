import React, { memo } from 'react';
import { Box } from 'ink';
import type { SlotView } from '../store.ts';
import { rowLine } from '../slot-text.ts';
import { SegmentLine } from './SegmentLine.tsx';

/** The compact view: one line per slot. */
export const SlotRow = memo(function SlotRow({
  slot,
  width,
  nameWidth,
  atColumn,
}: {
  slot: SlotView;
  width: number;
  nameWidth: number;
  /** Some slot of the grid has an AT port: wide rows keep a column for the `+AT` mark. */
  atColumn: boolean;
}): React.JSX.Element {
  return (
    <Box width={width} height={1}>
      <SegmentLine segments={rowLine(slot, width - 1, nameWidth, atColumn)} />
    </Box>
  );
});
