// What the store holds under a prefix, by id, with the store's own size and LastModified: prune
// dates packs and marks by it, and readers date the packs that hold copies of one object.
import type { Storage } from "@cairn/storage";
import { idFromKey } from "./layout.js";
import type { IndexTable } from "./index-table.js";

export interface Listed {
  size: number;
  mtime: Date;
}

export async function listIds(storage: Storage, prefix: string): Promise<Map<string, Listed>> {
  const out = new Map<string, Listed>();
  for await (const o of storage.list(prefix)) {
    const id = idFromKey(o.key, prefix);
    if (id) out.set(id, { size: o.size, mtime: o.mtime });
  }
  return out;
}

/** Per pack ordinal of the table: the pack's store time in ms, or Infinity when the store lacks it. */
export function packTimes(table: IndexTable, packs: ReadonlyMap<string, Listed>): Float64Array {
  const times = new Float64Array(table.packCount);
  for (let p = 0; p < table.packCount; p++) times[p] = packs.get(table.packIdAt(p))?.mtime.getTime() ?? Infinity;
  return times;
}
