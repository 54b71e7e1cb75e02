// Damage found so far, for deciding what each snapshot (and, with the key, each file) needs that
// is broken: whole packs (missing, wrong size, damaged trailer, or unreadable bytes without a key
// to tell which object) and single objects (with the key: one that fails to open or authenticate).
import { toHex, type IndexTable } from "@cairn/repository";
import type { Problem } from "./report.js";

export class Damage {
  /** Pack ordinal → the problem that makes every object in it unusable. */
  readonly packs = new Map<number, Problem>();
  /** Hex object id → the problem with that object. */
  readonly objects = new Map<string, Problem>();
  /** Hex object id → the pack (hex id) the damaged copy lies in. */
  readonly objectPacks = new Map<string, string>();

  get empty(): boolean {
    return this.packs.size === 0 && this.objects.size === 0;
  }

  /** The problem that makes the object at table position pos unusable, if any. */
  at(table: IndexTable, pos: number): Problem | undefined {
    const p = this.packs.get(table.packs[pos]);
    if (p) return p;
    return this.objects.size ? this.objects.get(toHex(table.idAt(pos))) : undefined;
  }
}
