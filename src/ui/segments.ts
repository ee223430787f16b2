/** A run of styled text. Slot tiles and rows are built as segment lists by pure functions, then drawn by Ink. */
export interface Segment {
  text: string;
  color?: string;
  backgroundColor?: string;
  bold?: boolean;
  dimColor?: boolean;
}

export function segmentsWidth(segs: readonly Segment[]): number {
  let w = 0;
  for (const s of segs) w += s.text.length;
  return w;
}

/** Cuts a segment list to `width` cells (last visible character becomes '…' when something was cut). */
export function fitSegments(segs: readonly Segment[], width: number): Segment[] {
  const out: Segment[] = [];
  let left = width;
  for (const s of segs) {
    if (left <= 0) {
      if (out.length > 0 && s.text.length > 0) {
        const last = out[out.length - 1];
        out[out.length - 1] = { ...last, text: `${last.text.slice(0, -1)}…` };
      }
      break;
    }
    if (s.text.length <= left) {
      out.push(s);
      left -= s.text.length;
    } else {
      out.push({ ...s, text: `${s.text.slice(0, Math.max(0, left - 1))}…` });
      break;
    }
  }
  return out;
}
