/**
 * What an NVS partition holds, independent of its bytes: an ordered list of items, as a `mfg_nvs.csv` lists
 * them. A namespace item opens a namespace (the generator gives it the next index); an entry names its
 * namespace itself, so code can add or change entries without tracking "the current namespace".
 * The order is kept because the generator's output, page by page, depends on it.
 */
import type { IntegerType } from './format.ts';

export type NvsValue =
  | { type: Exclude<IntegerType, 'u64' | 'i64'>; value: number }
  | { type: 'u64' | 'i64'; value: bigint }
  | { type: 'string'; value: string }
  | { type: 'blob'; value: Uint8Array };

export type NvsValueType = NvsValue['type'];

export interface NvsNamespaceItem {
  kind: 'namespace';
  name: string;
}

export interface NvsEntry {
  kind: 'entry';
  namespace: string;
  key: string;
  value: NvsValue;
}

export type NvsItem = NvsNamespaceItem | NvsEntry;

export interface NvsPartition {
  items: NvsItem[];
}

export function entriesOf(partition: NvsPartition): NvsEntry[] {
  return partition.items.filter((i): i is NvsEntry => i.kind === 'entry');
}

/** Namespaces in index order (the order the generator numbers them: first appearance). */
export function namespacesOf(partition: NvsPartition): string[] {
  const seen = new Set<string>();
  for (const item of partition.items) seen.add(item.kind === 'namespace' ? item.name : item.namespace);
  return [...seen];
}

export function findEntry(partition: NvsPartition, namespace: string, key: string): NvsEntry | undefined {
  return entriesOf(partition).find((e) => e.namespace === namespace && e.key === key);
}

/**
 * A copy of `partition` with `namespace`/`key` set to `value`: an existing entry keeps its place (so the
 * rest of the layout stays as the release built it); a new key goes after the last item of its namespace,
 * or at the end with its namespace when the namespace is new.
 */
export function withValue(
  partition: NvsPartition,
  namespace: string,
  key: string,
  value: NvsValue,
): NvsPartition {
  const items = partition.items.slice();
  const entry: NvsEntry = { kind: 'entry', namespace, key, value };
  const at = items.findIndex((i) => i.kind === 'entry' && i.namespace === namespace && i.key === key);
  if (at >= 0) {
    items[at] = entry;
    return { items };
  }
  let last = -1;
  items.forEach((i, n) => {
    if ((i.kind === 'namespace' ? i.name : i.namespace) === namespace) last = n;
  });
  if (last >= 0) items.splice(last + 1, 0, entry);
  else items.push({ kind: 'namespace', name: namespace }, entry);
  return { items };
}

/** Two values are the same when type and content are (blobs byte for byte). */
export function sameValue(a: NvsValue, b: NvsValue): boolean {
  if (a.type !== b.type) return false;
  if (a.type === 'blob' && b.type === 'blob') return Buffer.from(a.value).equals(Buffer.from(b.value));
  return a.value === b.value;
}
