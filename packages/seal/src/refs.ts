// The clear reference information of a snapshot (docs/sealing.md, "Refs"): the sorted set of
// every id it references, in refs blocks cut on the ids themselves, and a refs root listing
// the blocks. Keyless `prune` reads only these.
import { createHash } from "node:crypto";
import { ID_SIZE } from "./objects.js";

/** A block ends after an id whose last two bytes, read big-endian, are below this (1 in 1024). */
export const REFS_CUT_BELOW = 64;
/** …or when it holds this many ids. */
export const REFS_BLOCK_MAX = 8192;

/** An append-only list of 32-byte ids in one growable typed array. */
export class IdList {
  private bytes = new Uint8Array(1024 * ID_SIZE);
  private count = 0;

  get size(): number {
    return this.count;
  }

  add(id: Uint8Array): void {
    if ((this.count + 1) * ID_SIZE > this.bytes.length) {
      const bigger = new Uint8Array(this.bytes.length * 2);
      bigger.set(this.bytes);
      this.bytes = bigger;
    }
    this.bytes.set(id.subarray(0, ID_SIZE), this.count * ID_SIZE);
    this.count++;
  }

  /** The ids in the order they were added, as one array (a view: valid until the next add). */
  bytesInOrder(): Uint8Array {
    return this.bytes.subarray(0, this.count * ID_SIZE);
  }

  /** The distinct ids, sorted ascending by bytes, in one array of 32-byte ids. Consumes the list. */
  sortedUnique(): Uint8Array {
    const n = this.count;
    const bytes = this.bytes;
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
    const prefix = new Uint32Array(n);
    for (let i = 0; i < n; i++) prefix[i] = view.getUint32(i * ID_SIZE);
    const order = new Uint32Array(n);
    for (let i = 0; i < n; i++) order[i] = i;
    order.sort((a, b) => {
      const pa = prefix[a];
      const pb = prefix[b];
      if (pa !== pb) return pa < pb ? -1 : 1;
      return compareAt(bytes, a * ID_SIZE, bytes, b * ID_SIZE);
    });
    const out = new Uint8Array(n * ID_SIZE);
    let m = 0;
    for (let k = 0; k < n; k++) {
      const from = order[k] * ID_SIZE;
      if (m > 0 && compareAt(bytes, from, out, (m - 1) * ID_SIZE) === 0) continue;
      out.set(bytes.subarray(from, from + ID_SIZE), m * ID_SIZE);
      m++;
    }
    this.bytes = new Uint8Array(0);
    this.count = 0;
    return out.subarray(0, m * ID_SIZE);
  }
}

export function compareAt(a: Uint8Array, ao: number, b: Uint8Array, bo: number): number {
  for (let i = 0; i < ID_SIZE; i++) {
    const d = a[ao + i] - b[bo + i];
    if (d !== 0) return d;
  }
  return 0;
}

/** Cuts a sorted id array into refs blocks (each a subarray of it). */
export function refsBlocks(sorted: Uint8Array): Uint8Array[] {
  const blocks: Uint8Array[] = [];
  let start = 0;
  const n = sorted.length / ID_SIZE;
  for (let i = 0; i < n; i++) {
    const end = (i + 1) * ID_SIZE;
    const cutHere = ((sorted[end - 2] << 8) | sorted[end - 1]) < REFS_CUT_BELOW;
    if (cutHere || (end - start) / ID_SIZE >= REFS_BLOCK_MAX || i === n - 1) {
      blocks.push(sorted.subarray(start, end));
      start = end;
    }
  }
  return blocks;
}

export function sha256(bytes: Uint8Array): Buffer {
  return createHash("sha256").update(bytes).digest();
}

/** True when `bytes` is a whole number of ids in strictly ascending order. */
export function isSortedIds(bytes: Uint8Array): boolean {
  if (bytes.length % ID_SIZE !== 0) return false;
  for (let o = ID_SIZE; o < bytes.length; o += ID_SIZE) if (compareAt(bytes, o - ID_SIZE, bytes, o) >= 0) return false;
  return true;
}
