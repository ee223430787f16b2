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
  // Yoga shrinks lines to nothing when a column overflows its box, so fit the content to the box here:
  // the figures first, then as many slot lines as fit, then a note of what was left out.
  const head: React.JSX.Element[] = [
    <Text key="title" bold>
      Yield summary, lot {lot || '—'} ({total} board{total === 1 ? '' : 's'})
    </Text>,
    <Text key="lot" wrap="truncate-end">
      passed{' '}
      <Text bold color="green">
        {figures.lot.passed}
      </Text>{' '}
      failed{' '}
      <Text bold color="red">
        {figures.lot.failed}
      </Text>{' '}
      first-pass yield <Text bold>{formatPercent(figures.firstPassYield)}</Text> boards/hour{' '}
      <Text bold>{figures.boardsPerHour === undefined ? '—' : Math.round(figures.boardsPerHour)}</Text> median
      cycle <Text bold>{figures.cycleMs === undefined ? '—' : formatDuration(figures.cycleMs)}</Text>
    </Text>,
    <Text key="today" wrap="truncate-end">
      today: passed <Text bold>{figures.today.passed}</Text> failed <Text bold>{figures.today.failed}</Text>
    </Text>,
    <Text key="reasons" bold>
      Failures by reason
    </Text>,
  ];
  if (figures.failsByCode.length === 0) {
    head.push(
      <Text key="none" dimColor>
        none
      </Text>,
    );
  }
  for (const f of figures.failsByCode.slice(0, 4)) {
    head.push(
      <Text key={f.code} wrap="truncate-end">
        <Text color="red">{String(f.count).padStart(4)}</Text>{' '}
        {f.code === 'unknown' ? 'no code' : `${FAILURE_WORDS[f.code].short}: ${FAILURE_WORDS[f.code].advice}`}
      </Text>,
    );
  }
  head.push(
    <Text key="slots" bold>
      Per slot (pass/fail)
    </Text>,
  );
  const room = Math.max(0, height - 2 - head.length - 1);
  const shown = slotLines.length <= room ? slotLines : slotLines.slice(0, Math.max(0, room - 1));
  const hidden = slotLines.slice(shown.length).reduce((n, l) => n + l.length, 0);
  return (
    <Box
      flexDirection="column"
      width={width}
      height={height}
      borderStyle="double"
      borderColor="green"
      paddingX={1}
    >
      {head}
      {shown.map((line, i) => (
        <Text key={`s${i}`} wrap="truncate-end">
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
      {hidden > 0 ? <Text dimColor>+{hidden} more slots (a bigger terminal shows all)</Text> : null}
      <Text dimColor>Esc or r closes this summary.</Text>
    </Box>
  );
}
