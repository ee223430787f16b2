import React from 'react';
import { Text } from 'ink';
import type { Segment } from '../segments.ts';

/** One terminal line drawn from styled segments; never wraps (the segments are already fitted). */
export function SegmentLine({ segments }: { segments: readonly Segment[] }): React.JSX.Element {
  return (
    <Text wrap="truncate-end">
      {segments.length === 0
        ? ' '
        : segments.map((s, i) => (
            <Text
              key={i}
              color={s.color}
              backgroundColor={s.backgroundColor}
              bold={s.bold}
              dimColor={s.dimColor}
            >
              {s.text}
            </Text>
          ))}
    </Text>
  );
}
