// The keyed pull: the sealed stream in restore order. Restore order and paths live in the
// encrypted manifest, so this needs the owner key and @cairn/seal's manifest reader.
//
// Until that reader exists, this emits START, COMMIT, then every referenced object grouped by
// kind (manifest root, manifest chunks, data chunks, refs) and in pack order within each group.
// Pack order is the order push received the objects, i.e. seal's order for everything first
// stored by this snapshot; objects reused from older packs come where their packs lie.
import type { Frame } from "@cairn/protocol";
import type { Storage } from "@cairn/storage";
import { ObjectKind } from "@cairn/repository";
import { FrameType } from "@cairn/protocol";
import { CairnError } from "@cairn/errors";
import { ID_SIZE } from "@cairn/repository";
import { endMeta, startMeta, type OpenedSnapshot } from "./index.js";
import { fetchObjects } from "./fetch.js";
import { referencedPositions } from "./references.js";

export interface OrderedOptions {
  jobs?: number;
  identity: string;
  paths: string[];
}

export async function* pullOrdered(storage: Storage, opened: OpenedSnapshot, opts: OrderedOptions): AsyncGenerator<Frame> {
  if (opts.paths.length > 0) throw new CairnError("usage", "restoring only some PATHs needs the manifest reader, which this build does not have yet; pull the whole snapshot");
  const { snapshot, table } = opened;
  const positions = await referencedPositions(storage, table, snapshot);
  yield { type: FrameType.START, meta: startMeta(snapshot) };
  yield { type: FrameType.COMMIT, meta: snapshot.commit };
  let objects = 0;
  for (const kind of [ObjectKind.manifestRoot, ObjectKind.manifest, ObjectKind.data, ObjectKind.refsBlock, ObjectKind.refsRoot]) {
    const group = Array.from(positions).filter((p) => table.kinds[p] === kind);
    for await (const [pos, bytes] of fetchObjects(storage, table, group, { jobs: opts.jobs })) {
      const payload = new Uint8Array(1 + ID_SIZE + bytes.length);
      payload[0] = kind;
      payload.set(table.idAt(pos), 1);
      payload.set(bytes, 1 + ID_SIZE);
      yield { type: FrameType.SEALED, data: payload };
      objects++;
    }
  }
  yield { type: FrameType.END, meta: endMeta(snapshot, objects) };
}
