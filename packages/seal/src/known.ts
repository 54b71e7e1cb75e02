// The known-ids file (docs/sealing.md, "Known ids file"): ids a repository already holds,
// written by `push --known-out`, read by `seal --known`. The format's one reading lives in
// @cairn/repository (which holds no key, so push can use it too); seal adds the lookup.
import { readFile } from "node:fs/promises";
import { CairnError, toCairnError } from "@cairn/errors";
import { ID_SIZE, KNOWN_MAGIC, KNOWN_VERSION, decodeKnown as decodeKnownIds, encodeKnown, searchIds } from "@cairn/repository";

export { KNOWN_MAGIC, KNOWN_VERSION, encodeKnown };
/** Magic (8), version (1), three zero bytes, count u32 BE. */
export const KNOWN_HEADER = 16;

/** Sorted ids in one typed array, looked up by binary search. */
export class KnownIds {
  constructor(private readonly ids: Uint8Array) {}

  get size(): number {
    return this.ids.length / ID_SIZE;
  }

  has(id: Uint8Array): boolean {
    return searchIds(this.ids, this.size, id, 0) >= 0;
  }
}

export function decodeKnown(bytes: Uint8Array, name = "known ids file"): KnownIds {
  return new KnownIds(decodeKnownIds(bytes, name));
}

export async function readKnownFile(path: string): Promise<KnownIds> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    const e = toCairnError(err);
    throw new CairnError(e.kind, `cannot read known ids file ${path}: ${(err as Error).message}`);
  }
  return decodeKnown(bytes, path);
}
