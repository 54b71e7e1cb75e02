// The known-chunk file (docs/repository.md, "Known file"): the ids a repository holds, written by
// `push --known-out` and read by `seal --known`, so seal sends SEALED_REF instead of re-sealing.
//   magic "cairnkn" 0x01 | u32 count | count × 32-byte ids, sorted ascending, distinct
import { open, rename } from "node:fs/promises";
import { CairnError } from "@cairn/errors";
import { ID_SIZE, compareIds } from "./ids.js";

export const KNOWN_MAGIC = Uint8Array.of(0x63, 0x61, 0x69, 0x72, 0x6e, 0x6b, 0x6e, 0x01); // "cairnkn" 0x01

export function encodeKnown(sortedIds: Uint8Array): Uint8Array {
  const n = sortedIds.length / ID_SIZE;
  const out = new Uint8Array(KNOWN_MAGIC.length + 4 + sortedIds.length);
  out.set(KNOWN_MAGIC);
  new DataView(out.buffer).setUint32(KNOWN_MAGIC.length, n);
  out.set(sortedIds, KNOWN_MAGIC.length + 4);
  return out;
}

export function decodeKnown(bytes: Uint8Array, where = "known file"): Uint8Array {
  if (bytes.length < KNOWN_MAGIC.length + 4 || !KNOWN_MAGIC.every((b, i) => bytes[i] === b)) throw new CairnError("stream", `${where} is not a cairn known-chunk file`);
  const n = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(KNOWN_MAGIC.length);
  const ids = bytes.subarray(KNOWN_MAGIC.length + 4);
  if (ids.length !== n * ID_SIZE) throw new CairnError("stream", `${where} is truncated: it declares ${n} ids`);
  for (let i = 1; i < n; i++) if (compareIds(ids, i - 1, ids, i) >= 0) throw new CairnError("stream", `${where} is damaged: ids are not sorted`);
  return ids;
}

/** Ids present in both sorted id arrays. */
export function intersectIds(a: Uint8Array, b: Uint8Array): Uint8Array {
  const an = a.length / ID_SIZE;
  const bn = b.length / ID_SIZE;
  const out = new Uint8Array(Math.min(a.length, b.length));
  let i = 0;
  let j = 0;
  let k = 0;
  while (i < an && j < bn) {
    const c = compareIds(a, i, b, j);
    if (c === 0) {
      out.set(a.subarray(i * ID_SIZE, (i + 1) * ID_SIZE), k * ID_SIZE);
      k++;
      i++;
      j++;
    } else if (c < 0) i++;
    else j++;
  }
  return out.subarray(0, k * ID_SIZE);
}

/** Writes the file atomically (a temporary file renamed over the target), mode 0600. */
export async function writeKnownFile(path: string, sortedIds: Uint8Array): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  const fh = await open(tmp, "w", 0o600);
  try {
    await fh.writeFile(encodeKnown(sortedIds));
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
}
