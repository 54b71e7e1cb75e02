// Which copy of an object is the real one, and what prune may do to the packs that hold copies
// (docs/prune.md, "Copies of one object"). Of the copies in the store, marked packs included,
// the one in the oldest pack is real: someone who can only PUT cannot date a pack before one
// already stored. That stays true only while prune never takes it away:
//
//   - a pack whose live objects other packs hold too is not repacked: its repack's copy would be
//     newer than theirs, so a planted copy among them would be older than every copy left once
//     the source goes. The unmarked packs that hold the other copies (garbage: the oldest counts)
//     are repacked instead, whatever their garbage share, so that the copies go first;
//   - a marked pack that holds the oldest copy of a referenced object is deleted only if the
//     oldest copy left after the run is an unmarked one with the same bytes (a repack's copy).
import type { IndexTable, Listed } from "@cairn/repository";

/**
 * Of the unmarked packs in `chosen`: those with a live object that another pack in the store
 * holds too (`blocked`), and the unmarked packs that hold those other copies (`holders`).
 */
export function sharedLive(
  unmarked: IndexTable,
  marked: IndexTable,
  live: Uint8Array,
  chosen: ReadonlySet<number>,
  stored: ReadonlyMap<string, Listed>,
): { blocked: Set<number>; holders: Set<number> } {
  const blocked = new Set<number>();
  const holders = new Set<number>();
  if (chosen.size === 0 || (!unmarked.hasCopies && marked.size === 0)) return { blocked, holders };
  for (let i = 0; i < unmarked.size; i++) {
    const p = unmarked.packs[i];
    if (!live[i] || !chosen.has(p)) continue;
    unmarked.forEachCopy(i, (j) => {
      const q = unmarked.packs[j];
      if (q === p || !stored.has(unmarked.packIdAt(q))) return;
      blocked.add(p);
      holders.add(q);
    });
    const k = marked.find(unmarked.ids, i);
    if (k >= 0) marked.forEachCopy(k, (m) => {
      if (stored.has(marked.packIdAt(marked.packs[m]))) blocked.add(p);
    });
  }
  return { blocked, holders };
}

/** A referenced object of a deletion candidate that no older unmarked copy holds: its unmarked copies with the same bytes. */
export interface Compared {
  /** Position in the marked table. */
  i: number;
  /** Positions in the unmarked table whose bytes are the candidate's. */
  same: number[];
}

/**
 * Of the candidates in `going` (each with its compared objects), those to keep: each holds the
 * oldest copy in the store of some object whose oldest copy left after the run (packs not in
 * `going`) is not an unmarked one with the same bytes. Keeping one can leave another's object
 * with a different oldest copy, so this runs until nothing changes.
 */
export function anchorsToKeep(
  going: ReadonlySet<string>,
  compared: ReadonlyMap<string, Compared[]>,
  unmarked: IndexTable,
  marked: IndexTable,
  packTime: Float64Array,
  stored: ReadonlyMap<string, Listed>,
): Set<string> {
  const left = new Set(going);
  const keep = new Set<string>();
  const timeOf = (id: string) => stored.get(id)?.mtime.getTime() ?? Infinity;
  const before = (a: { t: number; pack: string }, b: { t: number; pack: string }) => a.t < b.t || (a.t === b.t && a.pack < b.pack);
  const loses = (id: string, o: Compared) => {
    const self = { t: timeOf(id), pack: id };
    const others: { t: number; pack: string; j?: number }[] = [];
    const u = unmarked.find(marked.ids, o.i);
    if (u >= 0) unmarked.forEachCopy(u, (j) => others.push({ t: packTime[unmarked.packs[j]], pack: unmarked.packIdAt(unmarked.packs[j]), j }));
    marked.forEachCopy(o.i, (m) => {
      const pack = marked.packIdAt(marked.packs[m]);
      if (pack !== id) others.push({ t: timeOf(pack), pack });
    });
    const present = others.filter((c) => c.t !== Infinity);
    if (present.some((c) => before(c, self))) return false; // not the oldest copy
    let next: (typeof others)[number] | undefined;
    for (const c of present) if (!left.has(c.pack) && (!next || before(c, next))) next = c;
    return !(next?.j !== undefined && o.same.includes(next.j));
  };
  for (let changed = true; changed; ) {
    changed = false;
    for (const id of left) {
      if (!(compared.get(id) ?? []).some((o) => loses(id, o))) continue;
      left.delete(id);
      keep.add(id);
      changed = true;
    }
  }
  return keep;
}
