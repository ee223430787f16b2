import React from 'react';
import { Static, Text } from 'ink';
import { formatClock } from '../display-text.ts';
import type { LogLevel, LogLine } from '../store.ts';

const LEVEL_COLOR: Readonly<Record<LogLevel, string | undefined>> = {
  info: undefined,
  warn: 'yellow',
  error: 'red',
  pass: 'green',
  fail: 'red',
};

/**
 * The event log, written once above the live region (Ink's Static). Each sampled batch gets its own Static
 * (keyed by its first line's id): Static remembers how many items it already wrote, so handing it only the
 * new lines keeps memory flat over a long shift instead of an ever-growing array.
 */
export function EventLog({
  batch,
}: {
  batch: { key: number; lines: readonly LogLine[] };
}): React.JSX.Element {
  return (
    <Static key={batch.key} items={batch.lines as LogLine[]}>
      {(line) => (
        // Wrapped, not cut: the log is written once, and its last words (a seed to repeat the run, what to do
        // with a failed board) matter as much as its first.
        <Text key={line.id} color={LEVEL_COLOR[line.level]} wrap="wrap">
          <Text dimColor>{formatClock(line.time)} </Text>
          {line.slotName ? <Text bold>{line.slotName} </Text> : null}
          {line.text}
        </Text>
      )}
    </Static>
  );
}
