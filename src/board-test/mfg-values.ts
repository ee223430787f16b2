/**
 * What AT+SYSMFG prints for a value of mfg_nvs, as the test expects to read it back: the AT type (1 u8 … 8
 * binary), numbers in decimal, strings and binaries as their bytes. Binaries come over the AT port's line
 * framing, so they are compared as the client reads lines (control characters dropped, one `\n` between lines).
 */
import type { NvsValue } from '../nvs/index.ts';
import { decodeLine } from './at-lines.ts';
import type { ExpectedMfgValue } from './plan.ts';
import type { SysmfgType } from './responses.ts';

const AT_TYPE: Readonly<Record<NvsValue['type'], SysmfgType | undefined>> = {
  u8: 'u8',
  i8: 'i8',
  u16: 'u16',
  i16: 'i16',
  u32: 'u32',
  i32: 'i32',
  // AT+SYSMFG has no 64-bit types: such a value cannot be read back over the AT port.
  u64: undefined,
  i64: undefined,
  string: 'string',
  blob: 'binary',
};

/** The expectation for one value; undefined when AT+SYSMFG cannot print its type (u64, i64). */
export function expectedMfgValue(
  namespace: string,
  key: string,
  value: NvsValue,
): ExpectedMfgValue | undefined {
  const type = AT_TYPE[value.type];
  if (type === undefined) return undefined;
  const printed =
    value.type === 'blob'
      ? asReadOverLines(Buffer.from(value.value))
      : value.type === 'string'
        ? asReadOverLines(Buffer.from(value.value, 'utf8'))
        : String(value.value);
  return { namespace, key, type, value: printed };
}

function asReadOverLines(bytes: Buffer): string {
  const lines: string[] = [];
  let from = 0;
  for (let i = 0; i <= bytes.length; i++) {
    if (i === bytes.length || bytes[i] === 0x0a) {
      const line = decodeLine(bytes.subarray(from, i));
      if (line !== '') lines.push(line);
      from = i + 1;
    }
  }
  return lines.join('\n');
}
