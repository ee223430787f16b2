/** Escaping for text and attribute values in HTML and inline SVG: every string from the ledger goes through it. */
const ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

// Control characters have no business in a report and some are invalid in HTML: shown as U+FFFD.
// eslint-disable-next-line no-control-regex
const INVALID_IN_HTML = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g;

export function esc(value: string | number): string {
  return String(value)
    .replace(/[&<>"']/g, (c) => ENTITIES[c])
    .replace(INVALID_IN_HTML, '\ufffd');
}

/** Cuts long labels for charts (the full text stays in a <title> tooltip). */
export function clip(s: string, max: number): string {
  return [...s].length > max ? `${[...s].slice(0, max - 1).join('')}…` : s;
}
