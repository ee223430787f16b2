import React from 'react';
import { Box, Text } from 'ink';

const KEYS: ReadonlyArray<[string, string]> = [
  ['p', 'pause / resume: finishes boards in flight, starts no new ones'],
  ['q', 'quit: asks first when boards are in flight; results stay recorded'],
  ['^C', 'twice: stop now, failing the boards in flight (they are recorded)'],
  ['o', 'set operator (type or scan a badge, Enter saves, Esc cancels)'],
  ['l', 'set lot (type or scan the lot barcode, Enter saves, Esc cancels)'],
  ['r', 'yield summary for this lot and today'],
  ['?', 'this help'],
  ['Esc', 'close an overlay or cancel an entry'],
];

const COLOURS: ReadonlyArray<[string, string, string]> = [
  ['cyan', 'busy', 'leave the board in place'],
  ['green', 'PASS', 'remove the board, put it with the good ones'],
  ['red', 'FAIL', 'remove the board to the reject tray; the tile says why'],
  ['yellow', 'SAVING', 'the result is being recorded; wait'],
];

export function HelpOverlay({ width, height }: { width: number; height: number }): React.JSX.Element {
  return (
    <Box
      flexDirection="column"
      width={width}
      height={height}
      borderStyle="double"
      borderColor="cyan"
      paddingX={1}
      overflow="hidden"
    >
      <Text bold>Keys</Text>
      {KEYS.map(([k, what]) => (
        <Text key={k} wrap="truncate-end">
          <Text bold color="cyan">
            {k.padEnd(4)}
          </Text>
          {what}
        </Text>
      ))}
      <Text bold>Slot colours</Text>
      {COLOURS.map(([c, label, what]) => (
        <Text key={label} wrap="truncate-end">
          <Text bold color={c}>
            {label.padEnd(7)}
          </Text>
          {what}
        </Text>
      ))}
      <Text dimColor>Esc or ? closes this help.</Text>
    </Box>
  );
}
