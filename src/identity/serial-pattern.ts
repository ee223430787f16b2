/**
 * Serial-number patterns: literal text with `{prefix}`, `{lot}`, `{seq}` or `{seq:06}` (zero-padded to 6
 * digits), `{mac}` (12 hex digits) or `{mac:6}` (its last 6). A pattern needs `{seq}` or `{mac}` so that
 * every board gets its own serial.
 */
export type SerialPart =
  | { kind: 'text'; text: string }
  | { kind: 'prefix' }
  | { kind: 'lot' }
  | { kind: 'seq'; width: number }
  | { kind: 'mac'; digits: number };

export interface SerialPattern {
  source: string;
  parts: SerialPart[];
  /** Zero-pad width of `{seq}` (0 = none); undefined when the pattern has no `{seq}`. */
  seqWidth?: number;
  usesMac: boolean;
  usesLot: boolean;
}

export type ParsedPattern = { ok: true; pattern: SerialPattern } | { ok: false; message: string };

export function parseSerialPattern(source: string): ParsedPattern {
  const parts: SerialPart[] = [];
  const re = /\{([^{}]*)\}/g;
  let last = 0;
  let seqWidth: number | undefined;
  let usesMac = false;
  let usesLot = false;
  for (let m = re.exec(source); m; m = re.exec(source)) {
    if (m.index > last) parts.push({ kind: 'text', text: source.slice(last, m.index) });
    last = m.index + m[0].length;
    const [name, arg] = m[1].split(':', 2) as [string, string | undefined];
    if (name === 'prefix' && arg === undefined) parts.push({ kind: 'prefix' });
    else if (name === 'lot' && arg === undefined) {
      parts.push({ kind: 'lot' });
      usesLot = true;
    } else if (name === 'seq' && (arg === undefined || /^0[1-9]$/.test(arg))) {
      if (seqWidth !== undefined) return { ok: false, message: 'use {seq} once' };
      seqWidth = arg === undefined ? 0 : Number(arg);
      parts.push({ kind: 'seq', width: seqWidth });
    } else if (name === 'mac' && (arg === undefined || /^([1-9]|1[0-2])$/.test(arg))) {
      parts.push({ kind: 'mac', digits: arg === undefined ? 12 : Number(arg) });
      usesMac = true;
    } else {
      return {
        ok: false,
        message: `'{${m[1]}}' is not a placeholder; use {prefix}, {lot}, {seq}, {seq:06} (zero-padded), {mac} or {mac:6} (last digits)`,
      };
    }
  }
  if (last < source.length) parts.push({ kind: 'text', text: source.slice(last) });
  if (parts.some((p) => p.kind === 'text' && /[{}]/.test(p.text)))
    return { ok: false, message: 'a brace is not closed; write placeholders as {seq:06}' };
  if (seqWidth === undefined && !usesMac)
    return {
      ok: false,
      message: 'the pattern needs {seq} or {mac}, or every board would get the same serial',
    };
  return { ok: true, pattern: { source, parts, seqWidth, usesMac, usesLot } };
}

export interface SerialInputs {
  prefix: string;
  lot: string;
  seq?: number;
  /** Upper-case colon form, e.g. 24:0A:C4:12:34:56. */
  mac: string;
}

export function renderSerial(pattern: SerialPattern, inputs: SerialInputs): string {
  return pattern.parts
    .map((p) => {
      switch (p.kind) {
        case 'text':
          return p.text;
        case 'prefix':
          return inputs.prefix;
        case 'lot':
          return inputs.lot;
        case 'seq':
          if (inputs.seq === undefined)
            throw new Error('serial pattern has {seq} but no sequence number was given');
          return String(inputs.seq).padStart(p.width, '0');
        case 'mac':
          return inputs.mac
            .replace(/:/g, '')
            .toUpperCase()
            .slice(12 - p.digits);
      }
    })
    .join('');
}

/** The largest `{seq}` the pattern's width holds (999999 for {seq:06}); unbounded without a width. */
export function largestSeq(pattern: SerialPattern): number | undefined {
  return pattern.seqWidth ? 10 ** pattern.seqWidth - 1 : undefined;
}
