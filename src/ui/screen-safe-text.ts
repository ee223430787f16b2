/**
 * Strings from boards and files (slot names, ttys, boot log tails in messages, operator, lot) reach the
 * operator's terminal. An escape sequence inside one could retitle or clear the screen, or paint a fake PASS,
 * so every such string is made printable before the store keeps it: escape sequences go, other control
 * characters become visible.
 */
import { stripVTControlCharacters } from 'node:util';
import type { StationEvent } from '../station/events.ts';

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;

export function screenSafe(s: string): string {
  const stripped = stripVTControlCharacters(s);
  return stripped.replace(CONTROL, (c) =>
    c === '\n' || c === '\r' || c === '\t' ? ' ' : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

function hasControl(s: string): boolean {
  CONTROL.lastIndex = 0;
  return CONTROL.test(s);
}

function safeValue(v: unknown): unknown {
  if (typeof v === 'string') return hasControl(v) ? screenSafe(v) : v;
  if (Array.isArray(v)) return v.map(safeValue);
  if (v !== null && typeof v === 'object') {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, safeValue(x)]));
  }
  return v;
}

/** The event with every string made screen-safe; the common case (nothing to change) returns it as is. */
export function screenSafeEvent(e: StationEvent): StationEvent {
  return needsCleaning(e) ? (safeValue(e) as StationEvent) : e;
}

function needsCleaning(v: unknown): boolean {
  if (typeof v === 'string') return hasControl(v);
  if (Array.isArray(v)) return v.some(needsCleaning);
  if (v !== null && typeof v === 'object') return Object.values(v).some(needsCleaning);
  return false;
}
