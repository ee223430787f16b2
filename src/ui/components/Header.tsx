import React from 'react';
import { Box, Text } from 'ink';
import type { StationHeader } from '../controls.ts';
import { formatClock, shortFingerprint } from '../display-text.ts';
import type { CentralView, RunState } from '../store.ts';

const RUN_STYLE: Readonly<Record<RunState, { label: string; color: string }>> = {
  running: { label: ' ● RUNNING ', color: 'green' },
  paused: { label: ' ❚❚ PAUSED ', color: 'yellow' },
  stopping: { label: ' STOPPING… ', color: 'magenta' },
  stopped: { label: ' ■ STOPPED ', color: 'red' },
};

/** Two lines: what this station is flashing, then who, which lot, whether it runs, and the time. */
export function Header({
  header,
  central,
  runState,
  now,
  width,
}: {
  header: StationHeader;
  central?: CentralView;
  runState: RunState;
  now: number;
  width: number;
}): React.JSX.Element {
  const run = RUN_STYLE[runState];
  return (
    <Box flexDirection="column" width={width}>
      <Box justifyContent="space-between" width={width}>
        <Text wrap="truncate-end">
          <Text bold inverse>
            {` ${header.stationName} `}
          </Text>
          <Text> profile </Text>
          <Text bold>{header.profileName}</Text>
          <Text dimColor> {shortFingerprint(header.recipeFingerprint)}</Text>
          <Text> chip </Text>
          <Text bold>{header.chip}</Text>
        </Text>
        <Text>
          <Text bold color="black" backgroundColor={run.color}>
            {run.label}
          </Text>
          <Text> {formatClock(now)}</Text>
        </Text>
      </Box>
      <Text wrap="truncate-end">
        <Text> operator </Text>
        <Text bold color="cyan">
          {header.operator || '(none: press o)'}
        </Text>
        <Text> lot </Text>
        <Text bold color="cyan">
          {header.lot || '(none: press l)'}
        </Text>
        {central && <CentralField central={central} />}
      </Text>
    </Box>
  );
}

const LINK_COLOR: Readonly<Record<CentralView['link'], string>> = {
  online: 'green',
  connecting: 'yellow',
  offline: 'red',
  stopped: 'gray',
};

/** The central database link and, when records wait, the backlog: `central ● offline 12 rec 45 s`. */
function CentralField({ central }: { central: CentralView }): React.JSX.Element {
  return (
    <Text>
      <Text> central </Text>
      <Text bold color={LINK_COLOR[central.link]}>
        ● {central.link}
      </Text>
      {central.lagRecords > 0 && (
        <Text>
          {' '}
          {central.lagRecords} rec {central.lagSeconds} s
        </Text>
      )}
    </Text>
  );
}

/** Impossible to miss: this recipe's firmware is for demonstration and must never ship. */
export function DemoBanner({ width, height }: { width: number; height: number }): React.JSX.Element {
  const text = 'DEMO FIRMWARE — NOT FOR SHIPPING — DEMO FIRMWARE';
  const pad = (s: string): string => {
    const left = Math.max(0, Math.floor((width - s.length) / 2));
    return (' '.repeat(left) + s).padEnd(width).slice(0, width);
  };
  const lines = height >= 3 ? [pad(''), pad(`⚠  ${text}  ⚠`), pad('')] : [pad(`⚠ ${text} ⚠`)];
  return (
    <Box flexDirection="column" width={width}>
      {lines.map((l, i) => (
        <Text key={i} bold color="white" backgroundColor="red">
          {l}
        </Text>
      ))}
    </Box>
  );
}
