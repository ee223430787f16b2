/**
 * Strings from boards and files (slot names, ttys, boot log tails in messages, operator, lot) reach the
 * operator's terminal. An escape sequence inside one could retitle or clear the screen, or paint a fake PASS,
 * so every such string is made printable before the store keeps it: escape sequences go, other control
 * characters become visible.
 */
import type { StationEvent } from '../station/events.ts';
import { hasControlCharacters as hasControl, terminalSafe } from '../text/terminal-safe.ts';

/** One rule for every terminal: src/text/terminal-safe.ts. */
export const screenSafe = terminalSafe;

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
