// The known-ids file (docs/sealing.md, "Known ids file"; the seal engineer's format): the ids a
// repository holds, written by `push --known-out`, read by `seal --known`, so seal sends
// SEALED_REF instead of re-sealing. A 16-byte header (magic "\x89known\r\n", version 1, three
// zero bytes, count u32 BE), then count 32-byte ids in strictly ascending order. The format's
// only reading: push (which may not load key code) and seal both use it from here.
import { open, rename, unlink } from "node:fs/promises";
import { CairnError } from "@cairn/errors";
import { ID_SIZE, compareIds } from "./ids.js";

export const KNOWN_MAGIC = Uint8Array.of(0x89, 0x6b, 0x6e, 0x6f, 0x77, 0x6e, 0x0d, 0x0a); // "\x89known\r\n"
export const KNOWN_VERSION = 1;
const KNOWN_HEADER = 16;

export function encodeKnown(sortedIds: Uint8Array): Uint8Array {
  const out = new Uint8Array(KNOWN_HEADER + sortedIds.length);
  out.set(KNOWN_MAGIC);
  out[8] = KNOWN_VERSION;
  new DataView(out.buffer).setUint32(12, sortedIds.length / ID_SIZE);
  out.set(sortedIds, KNOWN_HEADER);
  return out;
}

export function decodeKnown(bytes: Uint8Array, where = "known ids file"): Uint8Array {
  const bad = (why: string) => new CairnError("usage", `${where} is not a known-ids file: ${why}`);
  if (bytes.length < KNOWN_HEADER || !KNOWN_MAGIC.every((b, i) => bytes[i] === b)) throw bad("bad magic");
  if (bytes[8] !== KNOWN_VERSION) throw new CairnError("version", `${where} has known-ids format version ${bytes[8]}; this build reads ${KNOWN_VERSION}`);
  const n = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(12);
  const ids = bytes.subarray(KNOWN_HEADER);
  if (ids.length !== n * ID_SIZE) throw bad(`its header counts ${n} ids but it holds ${ids.length} bytes of them`);
  for (let i = 1; i < n; i++) if (compareIds(ids, i - 1, ids, i) >= 0) throw bad("its ids are not in strictly ascending order");
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
    try {
      await fh.writeFile(encodeKnown(sortedIds));
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (err) {
    // A full disk must not collect half-written known files.
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
}
