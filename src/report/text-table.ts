/** Plain-text tables for the terminal: columns padded to their widest cell, numbers right-aligned. */

export interface Column {
  title: string;
  align?: 'left' | 'right';
}

export function textTable(columns: Column[], rows: string[][], indent = '  '): string[] {
  const widths = columns.map((c, i) =>
    Math.max(c.title.length, ...rows.map((r) => [...(r[i] ?? '')].length)),
  );
  const pad = (s: string, i: number) => {
    const fill = ' '.repeat(widths[i] - [...s].length);
    return columns[i].align === 'right' ? fill + s : s + fill;
  };
  const line = (cells: string[]) => (indent + cells.map(pad).join('  ')).trimEnd();
  return [line(columns.map((c) => c.title)), ...rows.map(line)];
}
