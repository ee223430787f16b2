/**
 * The response lines of the commands the test sends, as ESP-AT v3.x prints them (docs: AT_Command_Set
 * Basic_AT_Commands and Wi-Fi_AT_Commands). Readers are tolerant where firmware versions differ (quotes
 * around a namespace, parentheses around a CWLAP entry) and return undefined for a line that is not theirs.
 */

/** AT+GMR: four lines; `Bin version:` is CONFIG_ESP_AT_FW_VERSION and factory_param's module name. */
export interface GmrInfo {
  /** The AT core library: `AT version:<v>(<commit> - <chip> - <date>)`. */
  atVersion?: string;
  /** ESP-IDF version the app was built with (esp_app_desc_t.idf_ver). */
  sdkVersion?: string;
  /** `compile time(<commit>):<date> <time>` of the AT app. */
  compileTime?: string;
  binVersion?: string;
  moduleName?: string;
}

export function parseGmr(lines: readonly string[]): GmrInfo {
  const info: GmrInfo = {};
  for (const line of lines) {
    if (line.startsWith('AT version:')) info.atVersion = line.slice('AT version:'.length);
    else if (line.startsWith('SDK version:')) info.sdkVersion = line.slice('SDK version:'.length);
    else if (line.startsWith('compile time')) info.compileTime = line.slice('compile time'.length);
    else if (line.startsWith('Bin version:')) {
      const text = line.slice('Bin version:'.length);
      // `v3.4.0.0(WROOM-32)`: the module name is in the last pair of parentheses.
      const open = text.lastIndexOf('(');
      if (open >= 0 && text.endsWith(')')) {
        info.binVersion = text.slice(0, open);
        info.moduleName = text.slice(open + 1, -1);
      } else {
        info.binVersion = text;
      }
    }
  }
  return info;
}

/**
 * Parameters of a `+NAME:` line: comma-separated, strings in double quotes (a backslash escapes the next
 * character), a whole list optionally in parentheses (`+CWLAP:(…)`). `rest` keeps everything after the
 * `limit`-th comma unsplit (a value that may itself hold commas).
 */
export function responseParams(line: string, name: string, limit = Infinity): string[] | undefined {
  const head = `+${name}:`;
  if (!line.startsWith(head)) return undefined;
  let text = line.slice(head.length);
  if (text.startsWith('(') && text.endsWith(')')) text = text.slice(1, -1);
  const out: string[] = [];
  let i = 0;
  while (i <= text.length && out.length < limit) {
    if (text[i] === '"') {
      let value = '';
      i++;
      while (i < text.length && text[i] !== '"') {
        if (text[i] === '\\' && i + 1 < text.length) i++;
        value += text[i++];
      }
      out.push(value);
      i++; // closing quote
      if (text[i] === ',') i++;
      else if (i < text.length) return undefined;
      else break;
    } else {
      const comma = text.indexOf(',', i);
      const end = comma < 0 ? text.length : comma;
      out.push(text.slice(i, end).trim());
      if (comma < 0) break;
      i = comma + 1;
    }
  }
  if (out.length === limit && i < text.length) out.push(text.slice(i));
  return out;
}

/** `+CIPSTAMAC:"aa:bb:cc:dd:ee:ff"` → the MAC in upper case (the ledger's form). */
export function parseStationMac(lines: readonly string[]): string | undefined {
  for (const line of lines) {
    const p = responseParams(line, 'CIPSTAMAC');
    if (p && p.length === 1 && /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/i.test(p[0])) return p[0].toUpperCase();
  }
  return undefined;
}

/** `AT+SYSMFG?`: one `+SYSMFG:"<namespace>"` line per namespace of mfg_nvs. */
export function parseMfgNamespaces(lines: readonly string[]): string[] {
  const out: string[] = [];
  for (const line of lines) {
    const p = responseParams(line, 'SYSMFG');
    if (p && p.length === 1 && p[0] !== '') out.push(p[0]);
  }
  return out;
}

/** AT+SYSMFG value types (1 u8 … 8 binary). */
export const SYSMFG_TYPES = ['u8', 'i8', 'u16', 'i16', 'u32', 'i32', 'string', 'binary'] as const;
export type SysmfgType = (typeof SYSMFG_TYPES)[number];

export interface MfgValue {
  namespace: string;
  key: string;
  type: SysmfgType;
  length: number;
  /** The value as printed: a decimal number, or the string/binary bytes as text. */
  value: string;
}

/**
 * `AT+SYSMFG=1,"<ns>","<key>"`: `+SYSMFG:"<ns>","<key>",<type>,<length>,<value>`, the value printed as it is
 * (numbers in decimal, whose `length` is their number of characters; strings and binaries as their bytes).
 * A binary with line breaks (a PEM certificate) goes on over the following lines, which are joined back.
 */
export function parseMfgValue(lines: readonly string[]): MfgValue | undefined {
  for (let i = 0; i < lines.length; i++) {
    const p = responseParams(lines[i], 'SYSMFG', 4);
    if (!p || p.length < 4) continue;
    const type = SYSMFG_TYPES[Number(p[2]) - 1];
    const length = Number(p[3]);
    if (type === undefined || !Number.isInteger(length)) continue;
    const more: string[] = [];
    for (let j = i + 1; j < lines.length && !lines[j].startsWith('+SYSMFG:'); j++) more.push(lines[j]);
    return { namespace: p[0], key: p[1], type, length, value: [p[4] ?? '', ...more].join('\n') };
  }
  return undefined;
}

/** One access point of `AT+CWLAP`. */
export interface AccessPoint {
  ssid: string;
  rssi: number;
  mac: string;
  channel: number;
}

export function parseAccessPoints(lines: readonly string[]): AccessPoint[] {
  const out: AccessPoint[] = [];
  for (const line of lines) {
    const p = responseParams(line, 'CWLAP');
    if (!p || p.length < 5) continue;
    const rssi = Number(p[2]);
    const channel = Number(p[4]);
    if (!Number.isFinite(rssi) || !Number.isFinite(channel)) continue;
    out.push({ ssid: p[1], rssi, mac: p[3], channel });
  }
  return out;
}
