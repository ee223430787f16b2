import React, { memo } from 'react';
import { Box } from 'ink';
import type { SlotView } from '../store.ts';
import { slotTone, tileLines, TONE_COLORS } from '../slot-text.ts';
import { SegmentLine } from './SegmentLine.tsx';

/** A bordered tile: the border colour alone says idle / busy / PASS / FAIL from across the room. */
export const SlotTile = memo(function SlotTile({
  slot,
  width,
}: {
  slot: SlotView;
  width: number;
}): React.JSX.Element {
  const tone = slotTone(slot);
  const lines = tileLines(slot, width - 4);
  return (
    <Box
      width={width}
      height={7}
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
