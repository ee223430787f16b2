/**
 * Text from a board or a file (a boot log line, an image file name, a slot name, another program's command
 * line) reaches a terminal. An escape sequence inside it could retitle the window, clear the screen or paint a
 * fake PASS, and a newline could forge a line of a table, so such text is made printable before it is shown:
 * escape sequences go, line breaks and tabs become spaces, other control characters become visible (\u001b).
 * The lowest room, so every room that prints or passes on such text can use it.
 */
import { stripVTControlCharacters } from 'node:util';

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;

export function terminalSafe(s: string): string {
  CONTROL.lastIndex = 0;
  if (!CONTROL.test(s)) return s;
  return stripVTControlCharacters(s).replace(CONTROL, (c) =>
    c === '\n' || c === '\r' || c === '\t' ? ' ' : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/** True when the text holds a character terminalSafe would change. */
export function hasControlCharacters(s: string): boolean {
  CONTROL.lastIndex = 0;
  return CONTROL.test(s);
}
