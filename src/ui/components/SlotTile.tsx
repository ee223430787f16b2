import React, { memo } from 'react';
import { Box } from 'ink';
import type { SlotView } from '../store.ts';
import { bigTileLines, slotTone, tileLines, TONE_COLORS } from '../slot-text.ts';
import { SegmentLine } from './SegmentLine.tsx';

/**
 * A bordered tile: the border colour alone says idle / busy / PASS / FAIL from across the room; a big tile also
 * spells PASS, FAIL or the % in block letters.
 */
export const SlotTile = memo(function SlotTile({
  slot,
  width,
  height,
  px = 0,
  ph = 0,
}: {
  slot: SlotView;
  width: number;
  height: number;
  /** Block-letter pixel width and height; 0 for a normal tile. (Numbers, not an object: memo compares them.) */
  px?: number;
  ph?: number;
}): React.JSX.Element {
  const tone = slotTone(slot);
  const lines = px > 0 && ph > 0 ? bigTileLines(slot, width - 4, { px, ph }) : tileLines(slot, width - 4);
  return (
    <Box
      width={width}
      height={height}
      flexDirection="column"
      borderStyle={tone === 'pass' || tone === 'fail' ? 'bold' : 'round'}
      borderColor={TONE_COLORS[tone]}
      paddingX={1}
    >
      {lines.map((l, i) => (
        <SegmentLine key={i} segments={l} />
      ))}
    </Box>
  );
});
