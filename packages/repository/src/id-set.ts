// A growable set of 32-byte ids in one typed array (open addressing, linear probing), for the
// objects a push has packed so far. Ids are keyed MACs or hashes, so their first bytes are
// already uniformly distributed and serve as the hash.
import { ID_SIZE } from "./ids.js";

export class IdSet {
  private slots: Uint8Array;
  private used: Uint8Array;
  private mask: number;
  private count = 0;

  constructor(capacity = 1024) {
    let cap = 16;
    while (cap < capacity * 2) cap *= 2;
    this.slots = new Uint8Array(cap * ID_SIZE);
    this.used = new Uint8Array(cap);
    this.mask = cap - 1;
  }

  get size(): number {
    return this.count;
  }

  has(id: Uint8Array): boolean {
    return this.slotOf(id) >= 0;
  }

  /** Adds id; returns false if it was already present. */
  add(id: Uint8Array): boolean {
    if (this.slotOf(id) >= 0) return false;
    if ((this.count + 1) * 2 > this.used.length) this.grow();
    this.place(id);
    this.count++;
    return true;
  }

  private hash(id: Uint8Array): number {
    return ((id[0] << 24) | (id[1] << 16) | (id[2] << 8) | id[3]) >>> 0;
  }

  private slotOf(id: Uint8Array): number {
    for (let s = this.hash(id) & this.mask; this.used[s]; s = (s + 1) & this.mask) {
      const o = s * ID_SIZE;
      let same = true;
      for (let i = 0; i < ID_SIZE; i++) {
        if (this.slots[o + i] !== id[i]) {
          same = false;
          break;
        }
      }
      if (same) return s;
    }
    return -1;
  }

  private place(id: Uint8Array): void {
    let s = this.hash(id) & this.mask;
    while (this.used[s]) s = (s + 1) & this.mask;
    this.used[s] = 1;
    this.slots.set(id.subarray(0, ID_SIZE), s * ID_SIZE);
  }

  private grow(): void {
    const oldSlots = this.slots;
    const oldUsed = this.used;
    const cap = oldUsed.length * 2;
    this.slots = new Uint8Array(cap * ID_SIZE);
    this.used = new Uint8Array(cap);
    this.mask = cap - 1;
    for (let s = 0; s < oldUsed.length; s++) if (oldUsed[s]) this.place(oldSlots.subarray(s * ID_SIZE, (s + 1) * ID_SIZE));
  }
}
