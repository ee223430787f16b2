import React from 'react';
import { Box, Text } from 'ink';
import { formatDuration, formatPercent } from '../display-text.ts';
import { FAILURE_WORDS } from '../failure-words.ts';
import type { YieldFigures } from '../yield-figures.ts';

/** The `r` overlay: the lot in full, failures by reason, and every slot's pass/fail counts. */
export function YieldSummary({
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
  const total = figures.lot.passed + figures.lot.failed;
  const slotCellWidth = 22;
  const perLine = Math.max(1, Math.floor((width - 4) / slotCellWidth));
  const slotLines: string[][] = [];
  figures.perSlot.forEach((s, i) => {
    if (i % perLine === 0) slotLines.push([]);
    slotLines[slotLines.length - 1].push(s.slot);
  });
  const bySlot = new Map(figures.perSlot.map((s) => [s.slot, s]));
  return (
    <Box
      flexDirection="column"
      width={width}
      height={height}
      borderStyle="double"
      borderColor="green"
      paddingX={1}
      overflow="hidden"
    >
      <Text bold>
        Yield summary, lot {lot || '—'} ({total} board{total === 1 ? '' : 's'})
      </Text>
      <Text wrap="truncate-end">
        passed{' '}
        <Text bold color="green">
          {figures.lot.passed}
        </Text>{' '}
        failed{' '}
        <Text bold color="red">
          {figures.lot.failed}
        </Text>{' '}
        first-pass yield <Text bold>{formatPercent(figures.firstPassYield)}</Text> boards/hour{' '}
        <Text bold>{figures.boardsPerHour === undefined ? '—' : Math.round(figures.boardsPerHour)}</Text> mean
        cycle{' '}
        <Text bold>{figures.meanCycleMs === undefined ? '—' : formatDuration(figures.meanCycleMs)}</Text>
      </Text>
      <Text wrap="truncate-end">
        today: passed <Text bold>{figures.today.passed}</Text> failed <Text bold>{figures.today.failed}</Text>
      </Text>
      <Text bold>Failures by reason</Text>
      {figures.failsByCode.length === 0 ? <Text dimColor>none</Text> : null}
      {figures.failsByCode.slice(0, 4).map((f) => (
        <Text key={f.code} wrap="truncate-end">
          <Text color="red">{String(f.count).padStart(4)}</Text>{' '}
          {f.code === 'unknown'
            ? 'no code'
            : `${FAILURE_WORDS[f.code].short}: ${FAILURE_WORDS[f.code].advice}`}
        </Text>
      ))}
      <Text bold>Per slot (pass/fail)</Text>
      {slotLines.map((line, i) => (
        <Text key={i} wrap="truncate-end">
          {line.map((slot) => {
            const s = bySlot.get(slot)!;
            const cell = `${s.name} ${s.passed}/${s.failed}${s.suspect ? ' CHECK' : ''}`.padEnd(
              slotCellWidth,
            );
            return s.suspect ? (
              <Text key={slot} bold color="white" backgroundColor="red">
                {cell}
              </Text>
            ) : (
              <Text key={slot}>{cell}</Text>
            );
          })}
        </Text>
      ))}
      <Text dimColor>Esc or r closes this summary.</Text>
    </Box>
  );
}
