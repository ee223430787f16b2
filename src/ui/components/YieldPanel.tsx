import React from 'react';
import { Box, Text } from 'ink';
import { formatDuration, formatPercent } from '../display-text.ts';
import type { YieldFigures } from '../yield-figures.ts';

/** Lot and today's figures on one line; per-slot failure counts on the next, a suspect slot in red. */
export function YieldPanel({
  figures,
  lot,
  width,
  height,
}: {
  figures: YieldFigures;
  lot: string;
  width: number;
  height: number;
}): React.JSX.Element {
  const narrow = width < 100;
  const failing = figures.perSlot.filter((s) => s.failed > 0).sort((a, b) => b.failed - a.failed);
  return (
    // The separator is a line of its own, not a border: Ink keeps a removed border's width in the layout, so a
    // Box whose border comes and goes (as the layout changes with the slot count) would overlap its own lines.
    <Box flexDirection="column" width={width} height={height}>
      {height >= 3 ? <Text color="gray">{'─'.repeat(width)}</Text> : null}
      <Text wrap="truncate-end">
        <Text bold>LOT {lot || '—'} </Text>
        <Text color="green" bold>
          {narrow ? `✔${figures.lot.passed}` : `✔ ${figures.lot.passed} passed`}{' '}
        </Text>
        <Text color={figures.lot.failed > 0 ? 'red' : undefined} bold>
          {narrow ? `✘${figures.lot.failed}` : `✘ ${figures.lot.failed} failed`}{' '}
        </Text>
        <Text> FPY </Text>
        <Text bold>{formatPercent(figures.firstPassYield)}</Text>
        <Text> </Text>
        <Text bold>{figures.boardsPerHour === undefined ? '—' : Math.round(figures.boardsPerHour)}</Text>
        {/* Spelled out even when narrow: '—/h' told nobody what was missing. */}
        <Text>{narrow ? ' boards/h ' : ' boards/h  cycle '}</Text>
        <Text bold>{figures.cycleMs === undefined ? '—' : formatDuration(figures.cycleMs)}</Text>
        <Text dimColor>
          {narrow
            ? ` │ today ✔${figures.today.passed} ✘${figures.today.failed}`
            : `  │ TODAY ✔ ${figures.today.passed} ✘ ${figures.today.failed}`}
        </Text>
      </Text>
      <Text wrap="truncate-end">
        <Text dimColor>fails by slot: </Text>
        {failing.length === 0 ? <Text dimColor>none</Text> : null}
        {failing.map((s) =>
          s.suspect ? (
            <Text key={s.slot} bold color="white" backgroundColor="red">
              {` ${s.name} ${s.failed}/${s.failed + s.passed} CHECK SLOT `}
            </Text>
          ) : (
            <Text key={s.slot}>{` ${s.name} ${s.failed} `}</Text>
          ),
        )}
      </Text>
    </Box>
  );
}
