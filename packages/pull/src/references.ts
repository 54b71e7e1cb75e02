// The set of objects a snapshot references, as table positions sorted by pack and offset
// (so reads coalesce), collected into typed arrays from the clear refs blocks.
import { CairnError } from "@cairn/errors";
import type { Storage } from "@cairn/storage";
import { ID_SIZE, snapshotReferences, toHex, type IndexTable, type Snapshot } from "@cairn/repository";

export async function referencedPositions(storage: Storage, table: IndexTable, snap: Snapshot): Promise<Uint32Array> {
  let positions = new Uint32Array(1024);
  let n = 0;
  for await (const block of snapshotReferences(storage, table, snap.manifest, snap.refs)) {
    for (let i = 0; i < block.length; i += ID_SIZE) {
      const pos = table.find(block, i / ID_SIZE);
      if (pos < 0) {
        throw new CairnError("notFound", `snapshot ${snap.id.slice(0, 12)} references object ${toHex(block.subarray(i, i + ID_SIZE))}, which the repository does not hold`);
      }
      if (n === positions.length) {
        const bigger = new Uint32Array(n * 2);
        bigger.set(positions);
        positions = bigger;
      }
      positions[n++] = pos;
    }
  }
  const all = positions.subarray(0, n);
  all.sort((a, b) => table.packs[a] - table.packs[b] || table.offsets[a] - table.offsets[b]);
  let m = 0;
  for (let i = 0; i < n; i++) if (m === 0 || all[m - 1] !== all[i]) all[m++] = all[i];
  return all.slice(0, m);
}
