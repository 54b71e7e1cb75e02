// A snapshot's clear references (refs root → refs blocks → ids), followed without a key: every
// block must hash to its id and be in the index, the ids must be sorted and distinct, and every
// id must be an indexed object in a pack that is not damaged. Daily snapshots share almost all
// their refs blocks, so each distinct block is read and examined once per run (BlockCache) and
// its findings are charged to every snapshot that lists it.
import { CairnError } from "@cairn/errors";
import type { Storage } from "@cairn/storage";
import { ID_SIZE, IdSet, ObjectKind, compareIds, fromHexId, kindName, readClearObject, toHex, type IndexTable, type Snapshot } from "@cairn/repository";
import type { Damage } from "./damage.js";
import type { Problem, Report } from "./report.js";

export interface RefsSummary {
  /** False when the refs root or a block could not be read. */
  complete: boolean;
  /** Ids in the clear reference set (as far as it could be read). */
  count: number;
}

interface BlockResult {
  /** Set when the block itself could not be read or is damaged. */
  unreadable?: Problem;
  count: number;
  first?: Uint8Array;
  last?: Uint8Array;
  /** Problems with the objects it lists: every snapshot listing the block is affected. */
  problems: Problem[];
  /** Objects it lists that only packs with deletion marks hold. */
  marked: number;
  /** The manifest roots of the run's snapshots that it lists (hex). */
  manifests: string[];
}

/** Stop naming missing objects one by one after this many (one more problem counts the rest). */
const MAX_MISSING_PROBLEMS = 1000;

/**
 * What each distinct refs block was found to hold, for one verify run. Each block is read once:
 * whether it lists a snapshot's manifest root is noted then, for the manifest roots of all the
 * run's snapshots, so no block is read again for it.
 */
export class BlockCache {
  readonly blocks = new Map<string, BlockResult>();
  readonly manifests: IdSet;
  missing = 0;

  constructor(snaps: Snapshot[]) {
    this.manifests = new IdSet(snaps.length);
    for (const s of snaps) this.manifests.add(fromHexId(s.manifest));
  }
}

export async function checkReferences(
  storage: Storage,
  table: IndexTable,
  snap: Snapshot,
  damage: Damage,
  report: Report,
  marks: Set<string>,
  cache: BlockCache,
): Promise<RefsSummary> {
  const affects = (p: Problem) => report.affects(p, snap.id);
  const readClear = async (id: Uint8Array, kind: number): Promise<Uint8Array | Problem> => {
    try {
      return await readClearObject(storage, table, id, kind);
    } catch (err) {
      if (!(err instanceof CairnError) || !["notFound", "integrity"].includes(err.kind)) throw err;
      const pos = table.find(id);
      return (pos >= 0 ? damage.at(table, pos) : undefined) ?? report.problem("object", `${kindName(kind)} ${toHex(id)}`, err.message);
    }
  };

  // The manifest root must be indexed as one; the refs set must list it (below).
  const manifest = fromHexId(snap.manifest);
  const mpos = table.find(manifest);
  if (mpos >= 0 && table.kinds[mpos] !== ObjectKind.manifestRoot) {
    affects(report.problem("object", `manifest root ${snap.manifest}`, `the index holds it as a ${kindName(table.kinds[mpos])}`));
  }

  const root = await readClear(fromHexId(snap.refs), ObjectKind.refsRoot);
  if (!(root instanceof Uint8Array)) {
    affects(root);
    return { complete: false, count: 0 };
  }
  let complete = true;
  let count = 0;
  let marked = 0;
  let prev: Uint8Array | undefined;
  let listsManifest = false;
  for (let b = 0; b < root.length; b += ID_SIZE) {
    const blockId = root.subarray(b, b + ID_SIZE);
    const key = toHex(blockId);
    let r = cache.blocks.get(key);
    if (!r) {
      const bytes = await readClear(blockId, ObjectKind.refsBlock);
      r = bytes instanceof Uint8Array ? examineBlock(bytes, key, table, damage, report, marks, cache) : { unreadable: bytes, count: 0, problems: [], marked: 0, manifests: [] };
      cache.blocks.set(key, r);
    }
    if (r.unreadable) {
      affects(r.unreadable);
      complete = false;
      prev = undefined;
      continue;
    }
    for (const p of r.problems) affects(p);
    count += r.count;
    marked += r.marked;
    if (prev && r.first && compareIds(prev, 0, r.first, 0) >= 0) affects(report.problem("refs", `refs root ${snap.refs}`, "its blocks do not list the ids in ascending order"));
    prev = r.last ?? prev;
    listsManifest ||= r.manifests.includes(snap.manifest);
  }
  if (complete && !listsManifest) affects(report.problem("refs", `refs root ${snap.refs}`, "the clear reference set does not list the snapshot's manifest root"));
  const stated = snap.commit.stats?.refs;
  if (complete && typeof stated === "number" && stated !== count) {
    affects(report.problem("refs", `refs root ${snap.refs}`, `the clear reference set holds ${count} ids, the signed COMMIT says ${stated}`));
  }
  if (marked) report.note(`snapshot ${snap.id.slice(0, 12)} uses ${marked} objects listed in packs marked for deletion (prune deletes such a pack only where an unmarked copy holds the same objects, and unmarks it otherwise)`);
  return { complete, count };
}

function examineBlock(bytes: Uint8Array, key: string, table: IndexTable, damage: Damage, report: Report, marks: Set<string>, cache: BlockCache): BlockResult {
  const n = bytes.length / ID_SIZE;
  const problems = new Set<Problem>();
  let marked = 0;
  const manifests: string[] = [];
  const object = (i: number, message: string) => {
    if (cache.missing++ < MAX_MISSING_PROBLEMS) problems.add(report.problem("object", `object ${toHex(bytes.subarray(i * ID_SIZE, (i + 1) * ID_SIZE))}`, message));
    else problems.add(report.problem("object", "more objects", "further referenced objects are missing or of the wrong kind (the first 1000 are named)"));
  };
  for (let i = 0; i < n; i++) {
    if (i > 0 && compareIds(bytes, i - 1, bytes, i) >= 0) problems.add(report.problem("refs", `refs block ${key}`, "its ids are not sorted and distinct"));
    const id = bytes.subarray(i * ID_SIZE, (i + 1) * ID_SIZE);
    if (cache.manifests.has(id)) manifests.push(toHex(id));
    const pos = table.find(bytes, i);
    if (pos < 0) {
      object(i, "referenced, but no index file lists it (lost, dropped by cairn repair, or its index file is missing: cairn repair index rebuilds the index)");
      continue;
    }
    const kind = table.kinds[pos];
    if (kind !== ObjectKind.data && kind !== ObjectKind.manifest && kind !== ObjectKind.manifestRoot) {
      object(i, `referenced as content, but the index holds it as a ${kindName(kind)}`);
      continue;
    }
    const bad = damage.at(table, pos);
    if (bad) problems.add(bad);
    if (marks.size && marks.has(table.packIdAt(table.packs[pos]))) marked++;
  }
  return {
    count: n,
    first: n ? bytes.slice(0, ID_SIZE) : undefined,
    last: n ? bytes.slice((n - 1) * ID_SIZE) : undefined,
    problems: [...problems],
    marked,
    manifests,
  };
}
