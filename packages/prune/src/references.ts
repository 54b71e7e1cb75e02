// Which indexed objects the snapshots reference, read from their clear references (refs root,
// refs blocks) and kept as one flag byte per index position: no per-object JS value. A refs block
// shared by many snapshots (unchanged trees) is read once per run.
import { CairnError } from "@cairn/errors";
import type { Storage } from "@cairn/storage";
import { ID_SIZE, IdSet, IndexTable, ObjectKind, readClearObject, type Snapshot } from "@cairn/repository";

/**
 * Where referenced ids are looked up: the live table (unmarked packs) first, then marked packs.
 * Both tables hold every copy of an object (built with `copies`). Of several unmarked copies the
 * one in the oldest pack by the store's clock counts (then the lowest pack id): copies pushed
 * later (two hosts uploading the same new data at once) are garbage, and so is a copy planted
 * next to a real one, which someone who can only PUT cannot date before it.
 */
export class Liveness {
  /** Unmarked positions referenced. */
  readonly live: Uint8Array;
  /** Marked positions referenced, of ids no unmarked pack holds: their packs are needed again. */
  readonly liveMarked: Uint8Array;
  /** Marked positions referenced, of ids an unmarked pack holds too: deletable only if a copy there is older or the same bytes. */
  readonly shadowed: Uint8Array;
  missing = 0;
  firstMissing?: string;
  private seenBlocks = new IdSet();

  constructor(
    readonly unmarked: IndexTable,
    readonly marked: IndexTable,
    /** Every indexed object (both), for reading the clear refs objects. */
    readonly all: IndexTable,
    /** Per unmarked pack ordinal: its store time (ms; Infinity if the store lacks it). */
    readonly packTime: Float64Array,
  ) {
    this.live = new Uint8Array(unmarked.size);
    this.liveMarked = new Uint8Array(marked.size);
    this.shadowed = new Uint8Array(marked.size);
  }

  /** Flags one id; returns where it was found. */
  note(ids: Uint8Array, at: number): "unmarked" | "marked" | "missing" {
    const p = this.unmarked.find(ids, at);
    const q = this.marked.find(ids, at);
    if (p >= 0) {
      let oldest = p;
      this.unmarked.forEachCopy(p, (i) => {
        if (this.unmarked.olderCopy(i, oldest, this.packTime)) oldest = i;
      });
      this.live[oldest] = 1;
      if (q >= 0) this.marked.forEachCopy(q, (i) => (this.shadowed[i] = 1));
      return "unmarked";
    }
    if (q >= 0) {
      this.marked.forEachCopy(q, (i) => (this.liveMarked[i] = 1));
      return "marked";
    }
    this.missing++;
    this.firstMissing ??= Buffer.from(ids.subarray(at * ID_SIZE, (at + 1) * ID_SIZE)).toString("hex");
    return "missing";
  }

  /** Flags everything a snapshot references; calls onRef for each id found (with where). */
  async addSnapshot(
    storage: Storage,
    s: Snapshot,
    opts: { reader?: IndexTable; onRef?: (ids: Uint8Array, at: number, where: "unmarked" | "marked" | "missing") => void } = {},
  ): Promise<void> {
    const reader = opts.reader ?? this.all;
    const onRef = opts.onRef;
    const head = new Uint8Array(2 * ID_SIZE);
    head.set(Buffer.from(s.manifest, "hex"), 0);
    head.set(Buffer.from(s.refs, "hex"), ID_SIZE);
    this.noteAll(head, onRef);
    const root = await readClearObject(storage, reader, head.subarray(ID_SIZE), ObjectKind.refsRoot);
    this.noteAll(root, onRef);
    for (let i = 0; i < root.length; i += ID_SIZE) {
      const blockId = root.subarray(i, i + ID_SIZE);
      if (!this.seenBlocks.add(blockId)) continue;
      const block = await readClearObject(storage, reader, blockId, ObjectKind.refsBlock);
      this.noteAll(block, onRef);
    }
  }

  private noteAll(ids: Uint8Array, onRef?: (ids: Uint8Array, at: number, where: "unmarked" | "marked" | "missing") => void): void {
    for (let i = 0; i < ids.length / ID_SIZE; i++) {
      const where = this.note(ids, i);
      onRef?.(ids, i, where);
    }
  }
}

export function isMissing(err: unknown): boolean {
  return err instanceof CairnError && (err.kind === "notFound" || err.kind === "integrity");
}
