// The known-ids file (docs/sealing.md, "Known ids file"): ids a repository already holds,
// written by `push`, read by `seal --known`. A 16-byte header (magic "\x89known\r\n", version
// 1, three zero bytes, count u32 BE) then `count` 32-byte ids in strictly ascending order, so
// a reader looks ids up by binary search in one typed array.
import { readFile } from "node:fs/promises";
import { CairnError, toCairnError } from "@cairn/errors";
import { ID_SIZE } from "./objects.js";
import { compareAt, isSortedIds } from "./refs.js";

export const KNOWN_MAGIC = Uint8Array.of(0x89, 0x6b, 0x6e, 0x6f, 0x77, 0x6e, 0x0d, 0x0a);
export const KNOWN_VERSION = 1;
export const KNOWN_HEADER = 16;

export class KnownIds {
  constructor(private readonly ids: Uint8Array) {}

  get size(): number {
    return this.ids.length / ID_SIZE;
  }

  has(id: Uint8Array): boolean {
    let lo = 0;
    let hi = this.size - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const c = compareAt(this.ids, mid * ID_SIZE, id, 0);
      if (c === 0) return true;
      if (c < 0) lo = mid + 1;
      else hi = mid - 1;
    }
    return false;
  }
}

/** The file's bytes for a sorted, duplicate-free array of ids. */
export function encodeKnown(sortedIds: Uint8Array): Uint8Array {
  if (!isSortedIds(sortedIds)) throw new TypeError("known ids must be distinct 32-byte ids in ascending order");
  const out = new Uint8Array(KNOWN_HEADER + sortedIds.length);
  out.set(KNOWN_MAGIC);
  out[8] = KNOWN_VERSION;
  new DataView(out.buffer).setUint32(12, sortedIds.length / ID_SIZE);
  out.set(sortedIds, KNOWN_HEADER);
  return out;
}

export function decodeKnown(bytes: Uint8Array, name = "known ids file"): KnownIds {
  const bad = (why: string) => new CairnError("usage", `${name} is not a known-ids file: ${why}`);
  if (bytes.length < KNOWN_HEADER || !KNOWN_MAGIC.every((b, i) => bytes[i] === b)) throw bad("bad magic");
  if (bytes[8] !== KNOWN_VERSION) throw new CairnError("version", `${name} has known-ids format version ${bytes[8]}; this build reads ${KNOWN_VERSION}`);
  const count = new DataView(bytes.buffer, bytes.byteOffset, bytes.length).getUint32(12);
  if (bytes.length !== KNOWN_HEADER + count * ID_SIZE) throw bad(`its header counts ${count} ids but it holds ${bytes.length - KNOWN_HEADER} bytes of them`);
  const ids = bytes.subarray(KNOWN_HEADER);
  if (!isSortedIds(ids)) throw bad("its ids are not in strictly ascending order");
  return new KnownIds(ids);
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
