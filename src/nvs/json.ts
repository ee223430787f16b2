/** The decoded partition as JSON: 64-bit integers as decimal strings (JSON numbers lose them), blobs as base64 or a file path. */
import type { NvsDecoded } from './decode.ts';
import type { NvsEntry } from './model.ts';

export type NvsJsonItem =
  | { kind: 'namespace'; name: string }
  | { kind: 'entry'; namespace: string; key: string; type: string; value: number | string; size?: number };

export interface NvsJson {
  version: 1 | 2;
  size: number;
  items: NvsJsonItem[];
  problems: string[];
}

export function decodedToJson(
  decoded: NvsDecoded,
  size: number,
  blobFile?: (entry: NvsEntry & { value: { type: 'blob' } }) => string,
): NvsJson {
  const items = decoded.partition.items.map((item): NvsJsonItem => {
    if (item.kind === 'namespace') return item;
    const { namespace, key, value: v } = item;
    if (v.type === 'blob') {
      return blobFile
        ? {
            kind: 'entry',
            namespace,
            key,
            type: 'blob',
            value: blobFile({ ...item, value: v }),
            size: v.value.length,
          }
        : {
            kind: 'entry',
            namespace,
            key,
            type: 'blob',
            value: Buffer.from(v.value).toString('base64'),
            size: v.value.length,
          };
    }
    return {
      kind: 'entry',
      namespace,
      key,
      type: v.type,
      value: typeof v.value === 'bigint' ? v.value.toString() : v.value,
    };
  });
  return { version: decoded.version, size, items, problems: decoded.problems };
}
