// The in-memory index: every indexed object as parallel typed arrays sorted by id (about 45
// bytes per object, no per-object JS values), with binary search. Built from index files.
import { ID_SIZE, compareIds, searchIds, toHex } from "./ids.js";
import type { IndexFile } from "./index-file.js";

export class IndexTable {
  private constructor(
    /** n × 32, sorted; distinct unless built with `copies`. */
    readonly ids: Uint8Array,
    readonly kinds: Uint8Array,
    readonly packs: Uint32Array,
    readonly offsets: Uint32Array,
    readonly lengths: Uint32Array,
    /** Distinct packs: ids sorted, and their sizes. */
    readonly packIds: Uint8Array,
    readonly packSizes: Uint32Array,
    /** Whether some object is listed more than once (only with `copies`): if not, every copy is itself. */
    readonly hasCopies = false,
  ) {}

  get size(): number {
    return this.kinds.length;
  }

  get packCount(): number {
    return this.packSizes.length;
  }

  static empty(): IndexTable {
    return IndexTable.build([]);
  }

  /**
   * Merges index files. Packs in `exclude` (hex ids: packs marked for deletion) are left out, so
   * their objects count as absent. An object held by two packs is listed once (the first copy
   * listed), unless `copies`: then every pack's copy is kept, next to each other (prune must see
   * them all: a copy planted in the store must not make the real one look like garbage).
   */
  static build(files: IndexFile[], exclude: ReadonlySet<string> = new Set(), opts: { copies?: boolean } = {}): IndexTable {
    // Distinct packs, sorted by id; each file's pack ordinals are remapped onto them.
    let totalPacks = 0;
    for (const f of files) totalPacks += f.packSizes.length;
    const allPackIds = new Uint8Array(totalPacks * ID_SIZE);
    const allSizes = new Uint32Array(totalPacks);
    let k = 0;
    for (const f of files) {
      allPackIds.set(f.packIds, k * ID_SIZE);
      allSizes.set(f.packSizes, k);
      k += f.packSizes.length;
    }
    const packOrder = sortedOrder(allPackIds, totalPacks);
    const packRank = new Int32Array(totalPacks);
    const distinct: number[] = [];
    for (let i = 0; i < totalPacks; i++) {
      const j = packOrder[i];
      if (distinct.length > 0 && compareIds(allPackIds, distinct[distinct.length - 1], allPackIds, j) === 0) {
        packRank[j] = packRank[distinct[distinct.length - 1]];
        continue;
      }
      if (exclude.size > 0 && exclude.has(toHex(allPackIds.subarray(j * ID_SIZE, (j + 1) * ID_SIZE)))) {
        packRank[j] = -1;
        continue;
      }
      packRank[j] = distinct.length;
      distinct.push(j);
    }
    const packIds = new Uint8Array(distinct.length * ID_SIZE);
    const packSizes = new Uint32Array(distinct.length);
    distinct.forEach((j, r) => {
      packIds.set(allPackIds.subarray(j * ID_SIZE, (j + 1) * ID_SIZE), r * ID_SIZE);
      packSizes[r] = allSizes[j];
    });

    let total = 0;
    for (const f of files) total += f.kinds.length;
    const ids = new Uint8Array(total * ID_SIZE);
    const kinds = new Uint8Array(total);
    const packs = new Int32Array(total);
    const offsets = new Uint32Array(total);
    const lengths = new Uint32Array(total);
    let n = 0;
    let base = 0;
    for (const f of files) {
      ids.set(f.ids, n * ID_SIZE);
      kinds.set(f.kinds, n);
      offsets.set(f.offsets, n);
      lengths.set(f.lengths, n);
      for (let i = 0; i < f.kinds.length; i++) packs[n + i] = packRank[base + f.packs[i]];
      n += f.kinds.length;
      base += f.packSizes.length;
    }
    const order = sortedOrder(ids, total);
    let m = 0;
    let hasCopies = false;
    const keep = new Uint32Array(total);
    for (let i = 0; i < total; i++) {
      const j = order[i];
      if (packs[j] < 0) continue;
      if (m > 0 && compareIds(ids, keep[m - 1], ids, j) === 0) {
        if (!opts.copies) continue;
        // The same pack listed twice (two index files) is one copy.
        let again = false;
        for (let k = m - 1; k >= 0 && compareIds(ids, keep[k], ids, j) === 0; k--) if (packs[keep[k]] === packs[j]) again = true;
        if (again) continue;
        hasCopies = true;
      }
      keep[m++] = j;
    }
    return IndexTable.gather({ ids, kinds, packs, offsets, lengths }, keep.subarray(0, m), packIds, packSizes, hasCopies);
  }

  /** A table of the listings at `keep` (positions into `from`, in id order), over the given packs. */
  private static gather(
    from: { ids: Uint8Array; kinds: Uint8Array; packs: ArrayLike<number>; offsets: Uint32Array; lengths: Uint32Array },
    keep: Uint32Array,
    packIds: Uint8Array,
    packSizes: Uint32Array,
    hasCopies: boolean,
  ): IndexTable {
    const m = keep.length;
    const outIds = new Uint8Array(m * ID_SIZE);
    const outKinds = new Uint8Array(m);
    const outPacks = new Uint32Array(m);
    const outOffsets = new Uint32Array(m);
    const outLengths = new Uint32Array(m);
    for (let i = 0; i < m; i++) {
      const j = keep[i];
      outIds.set(from.ids.subarray(j * ID_SIZE, (j + 1) * ID_SIZE), i * ID_SIZE);
      outKinds[i] = from.kinds[j];
      outPacks[i] = from.packs[j];
      outOffsets[i] = from.offsets[j];
      outLengths[i] = from.lengths[j];
    }
    return new IndexTable(outIds, outKinds, outPacks, outOffsets, outLengths, packIds, packSizes, hasCopies);
  }

  /**
   * Whether the copy at `a` lies in an older pack than the copy at `b`: by `packTime` (per pack
   * ordinal, the store's time; Infinity for a pack the store lacks), then by pack id. Of several
   * copies of an object the oldest is the one that counts (docs/prune.md): someone who can only
   * PUT cannot date a copy before the real one.
   */
  olderCopy(a: number, b: number, packTime: Float64Array): boolean {
    const ta = packTime[this.packs[a]];
    const tb = packTime[this.packs[b]];
    return ta < tb || (ta === tb && this.packs[a] < this.packs[b]);
  }

  /**
   * One copy of each object (of a table built with `copies`): the oldest by `olderCopy`, the copy
   * prune counts, so that no reader takes a copy planted next to the real one. A copy in a pack
   * the store lacks is taken only when no copy's pack is there. The packs stay as they are.
   */
  oldestCopies(packTime: Float64Array): IndexTable {
    if (!this.hasCopies) return this;
    const keep = new Uint32Array(this.size);
    let m = 0;
    for (let i = 0; i < this.size; ) {
      let oldest = i;
      let j = i + 1;
      for (; j < this.size && compareIds(this.ids, i, this.ids, j) === 0; j++) if (this.olderCopy(j, oldest, packTime)) oldest = j;
      keep[m++] = oldest;
      i = j;
    }
    return IndexTable.gather(this, keep.subarray(0, m), this.packIds, this.packSizes, false);
  }

  /** Position of the object with this id, or -1. */
  find(id: Uint8Array, at = 0): number {
    return searchIds(this.ids, this.size, id, at);
  }

  /** Calls fn with the position of every copy of the object at `pos` (a table built with `copies`). */
  forEachCopy(pos: number, fn: (pos: number) => void): void {
    if (!this.hasCopies) return fn(pos); // the common case: prune calls this for every referenced id
    let first = pos;
    while (first > 0 && compareIds(this.ids, first - 1, this.ids, pos) === 0) first--;
    for (let i = first; i < this.size && compareIds(this.ids, i, this.ids, pos) === 0; i++) fn(i);
  }

  has(id: Uint8Array, at = 0): boolean {
    return this.find(id, at) >= 0;
  }

  idAt(pos: number): Uint8Array {
    return this.ids.subarray(pos * ID_SIZE, (pos + 1) * ID_SIZE);
  }

  packIdAt(packOrdinal: number): string {
    return toHex(this.packIds.subarray(packOrdinal * ID_SIZE, (packOrdinal + 1) * ID_SIZE));
  }

  /** Ordinal of a pack (hex id), or -1 when no index file lists it. */
  findPack(packIdHex: string): number {
    return searchIds(this.packIds, this.packCount, Buffer.from(packIdHex, "hex"), 0);
  }
}

/** The permutation that sorts n 32-byte ids (stable for equal ids). */
export function sortedOrder(ids: Uint8Array, n: number): Uint32Array {
  const order = new Uint32Array(n);
  const prefix = new Uint32Array(n);
  const view = new DataView(ids.buffer, ids.byteOffset, ids.byteLength);
  for (let i = 0; i < n; i++) {
    order[i] = i;
    prefix[i] = view.getUint32(i * ID_SIZE);
  }
  order.sort((a, b) => {
    const pa = prefix[a];
    const pb = prefix[b];
    if (pa !== pb) return pa < pb ? -1 : 1;
    return compareIds(ids, a, ids, b) || a - b;
  });
  return order;
}
