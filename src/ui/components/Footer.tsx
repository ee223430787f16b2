import React from 'react';
import { Text } from 'ink';
import type { UiMode } from '../ui-mode.ts';

/** The bottom line: key hints, or the one question/entry the operator must answer now. */
export function Footer({
  mode,
  inFlight,
  paused,
  width,
}: {
  mode: UiMode;
  inFlight: number;
  paused: boolean;
  width: number;
}): React.JSX.Element {
  const line = (s: string): string => s.padEnd(width).slice(0, width);
  switch (mode.kind) {
    case 'entry': {
      const label = mode.field === 'operator' ? 'OPERATOR' : 'LOT';
      return (
        <Text wrap="truncate-end">
          <Text bold color="black" backgroundColor="cyan">
            {` ${label}: `}
          </Text>
          <Text bold> {mode.value}</Text>
          <Text inverse> </Text>
          <Text dimColor>{mode.hint ? `  ${mode.hint}` : '  scan or type, Enter saves, Esc cancels'}</Text>
        </Text>
      );
    }
    case 'confirm-quit':
      return (
        <Text bold color="black" backgroundColor="yellow">
          {line(
            ` ${inFlight} board${inFlight === 1 ? '' : 's'} in flight. Stop the station? y = yes, n = no, Ctrl+C = fail them now`,
          )}
        </Text>
      );
    case 'stopping': {
      const boards = `${inFlight} board${inFlight === 1 ? '' : 's'} in flight`;
      return (
        <Text bold color="black" backgroundColor="magenta">
          {line(
            inFlight === 0
              ? ' Stopped.'
              : mode.forced
                ? ` Stopping now: failing ${boards} (they are recorded)…`
                : ` Stopping: waiting for ${boards}, then exiting. Ctrl+C again fails them now.`,
          )}
        </Text>
      );
    }
    case 'confirm-abort':
      return (
        <Text bold color="black" backgroundColor="yellow">
          {line(
            ` Fail the ${inFlight} board${inFlight === 1 ? '' : 's'} in flight now (recorded as stopped)? y = yes, n = keep waiting`,
          )}
        </Text>
      );
    default:
      return (
        <Text wrap="truncate-end" dimColor>
          {`p ${paused ? 'resume' : 'pause'} · q quit · o operator · l lot · r yield · ? help`}
          {inFlight > 0 ? `   ${inFlight} in flight` : ''}
        </Text>
      );
  }
}
