// A snapshot's clear references (refs root → refs blocks → ids), followed without a key: every
// block must hash to its id and be in the index, the ids must be sorted and distinct, and every
// id must be an indexed object in a pack that is not damaged. Returns the count and a digest of
// the sorted set, which the keyed check compares with the set its manifest implies.
import { createHash } from "node:crypto";
import { CairnError } from "@cairn/errors";
import type { Storage } from "@cairn/storage";
import { ID_SIZE, ObjectKind, compareIds, fromHexId, kindName, readClearObject, toHex, type IndexTable, type Snapshot } from "@cairn/repository";
import type { Damage } from "./damage.js";
import type { Report } from "./report.js";

export interface RefsSummary {
  /** False when a refs block could not be read: count and digest cover only part of the set. */
  complete: boolean;
  count: number;
  /** SHA-256 of the sorted set's ids concatenated. */
  digest: Buffer;
}

const MAX_MISSING_PROBLEMS = 1000;

export async function checkReferences(storage: Storage, table: IndexTable, snap: Snapshot, damage: Damage, report: Report, marks: Set<string>): Promise<RefsSummary> {
  const digest = createHash("sha256");
  let count = 0;
  let complete = true;
  let missing = 0;
  let inMarked = 0;
  const objectProblem = (id: Uint8Array, at: number, message: string) => {
    if (missing++ < MAX_MISSING_PROBLEMS) report.affects(report.problem("object", `object ${toHex(id.subarray(at * ID_SIZE, (at + 1) * ID_SIZE))}`, message), snap.id);
  };

  const readClear = async (id: Uint8Array, kind: number): Promise<Uint8Array | undefined> => {
    try {
      return await readClearObject(storage, table, id, kind);
    } catch (err) {
      if (!(err instanceof CairnError) || !["notFound", "integrity"].includes(err.kind)) throw err;
      complete = false;
      const pos = table.find(id);
      const why = pos >= 0 ? damage.at(table, pos) : undefined;
      report.affects(why ?? report.problem("object", `${kindName(kind)} ${toHex(id)}`, err.message), snap.id);
      return undefined;
    }
  };

  // The manifest root must be indexed as one (the refs set lists it too; checked below with the rest).
  const manifest = fromHexId(snap.manifest);
  const mpos = table.find(manifest);
  if (mpos >= 0 && table.kinds[mpos] !== ObjectKind.manifestRoot) {
    report.affects(report.problem("object", `manifest root ${snap.manifest}`, `the index holds it as a ${kindName(table.kinds[mpos])}`), snap.id);
  }

  const root = await readClear(fromHexId(snap.refs), ObjectKind.refsRoot);
  if (!root) return { complete: false, count, digest: digest.digest() };
  let prev: Uint8Array | undefined;
  let sawManifest = false;
  for (let b = 0; b < root.length; b += ID_SIZE) {
    const block = await readClear(root.subarray(b, b + ID_SIZE), ObjectKind.refsBlock);
    if (!block) {
      prev = undefined;
      continue;
    }
    digest.update(block);
    for (let i = 0; i < block.length / ID_SIZE; i++) {
      count++;
      if (prev && compareIds(prev, 0, block, i) >= 0) {
        report.affects(report.problem("refs", `refs block ${toHex(root.subarray(b, b + ID_SIZE))}`, "its ids are not sorted and distinct"), snap.id);
      }
      prev = block.subarray(i * ID_SIZE, (i + 1) * ID_SIZE);
      if (compareIds(block, i, manifest, 0) === 0) sawManifest = true;
      const pos = table.find(block, i);
      if (pos < 0) {
        objectProblem(block, i, "referenced, but no index file lists it (lost, or its index file is missing: cairn repair index)");
        continue;
      }
      const kind = table.kinds[pos];
      if (kind !== ObjectKind.data && kind !== ObjectKind.manifest && kind !== ObjectKind.manifestRoot) {
        objectProblem(block, i, `referenced as content, but the index holds it as a ${kindName(kind)}`);
        continue;
      }
      const bad = damage.at(table, pos);
      if (bad) report.affects(bad, snap.id);
      if (marks.size && marks.has(table.packIdAt(table.packs[pos]))) inMarked++;
    }
  }
  if (missing > MAX_MISSING_PROBLEMS) report.problem("object", `snapshot ${snap.id}`, `${missing - MAX_MISSING_PROBLEMS} more referenced objects are missing`).snapshots.push(snap.id);
  if (complete && !sawManifest) report.affects(report.problem("refs", `refs root ${snap.refs}`, "the clear reference set does not list the snapshot's manifest root"), snap.id);
  const stated = snap.commit.stats?.refs;
  if (complete && typeof stated === "number" && stated !== count) {
    report.affects(report.problem("refs", `refs root ${snap.refs}`, `the clear reference set holds ${count} ids, the signed COMMIT says ${stated}`), snap.id);
  }
  if (inMarked) report.note(`snapshot ${snap.id.slice(0, 12)} uses ${inMarked} objects in packs marked for deletion (prune unmarks packs that snapshots use)`);
  return { complete, count, digest: digest.digest() };
}
