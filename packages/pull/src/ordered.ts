// The keyed pull: the sealed stream in restore order, exactly as `seal -d` consumes it
// (docs/repository.md, "Pull"): START, COMMIT, the manifest root, then each manifest chunk
// followed by the data chunks its records name that the reference window does not hold
// (seal -d turns those into CHUNK_REFs), then the refs blocks and the refs root, then END.
// Restore order lives in the encrypted manifest, so this module needs the owner's identity; it
// is loaded only when one is given, so transport hosts never load key code.
import { CairnError } from "@cairn/errors";
import { DEFAULT_REF_WINDOW, FrameType, RefWindow, type Frame } from "@cairn/protocol";
import type { Storage } from "@cairn/storage";
import { readOwnerKey } from "@cairn/keys";
import { RecordTag } from "@cairn/seal";
import { ID_SIZE, ObjectKind, readObject, toHex, type IndexTable } from "@cairn/repository";
import { endMeta, startMeta, type OpenedSnapshot } from "./index.js";
import { fetchObjects, type FetchItem } from "./fetch.js";
import { locate, readManifest } from "./manifest.js";

export interface OrderedOptions {
  jobs?: number;
  /** Owner key file. */
  identity: string;
  paths: string[];
  passphrase?: string;
}

export async function* pullOrdered(storage: Storage, opened: OpenedSnapshot, opts: OrderedOptions): AsyncGenerator<Frame> {
  if (opts.paths.length > 0) {
    throw new CairnError("usage", "restoring only some PATHs needs seal -d to accept a filtered stream, which this build lacks; pull the whole snapshot and restore from it");
  }
  const owner = await readOwnerKey(opts.identity, { passphrase: opts.passphrase });
  const { snapshot, table } = opened;
  yield { type: FrameType.START, meta: startMeta(snapshot) };
  yield { type: FrameType.COMMIT, meta: snapshot.commit };
  let objects = 0;
  const order = restoreOrder(storage, table, snapshot.manifest, snapshot.refs, { identities: owner.identities, idKey: owner.idKey, lookahead: opts.jobs ?? 4 });
  for await (const [pos, bytes] of fetchObjects(storage, table, order, { jobs: opts.jobs })) {
    const payload = new Uint8Array(1 + ID_SIZE + bytes.length);
    payload[0] = table.kinds[pos];
    payload.set(table.idAt(pos), 1);
    payload.set(bytes, 1 + ID_SIZE);
    yield { type: FrameType.SEALED, data: payload };
    objects++;
  }
  yield { type: FrameType.END, meta: endMeta(snapshot, objects) };
}

/** The objects in restore order, discovered by reading the manifest as it goes. */
async function* restoreOrder(
  storage: Storage,
  table: IndexTable,
  manifestRoot: string,
  refsRoot: string,
  opts: { identities: string[]; idKey?: Uint8Array; lookahead: number },
): AsyncGenerator<FetchItem> {
  let window = new RefWindow(DEFAULT_REF_WINDOW);
  for await (const piece of readManifest(storage, table, manifestRoot, opts)) {
    // By position, not by the bytes already read: the fetcher then reads a manifest chunk in one
    // ranged GET with the data chunks stored after it (a few KiB read twice, far fewer requests).
    yield piece.pos;
    for (const r of piece.records) {
      if (r.tag === RecordTag.HEADER) {
        const limit = r.meta?.start?.refWindow;
        window = new RefWindow(typeof limit === "number" ? limit : DEFAULT_REF_WINDOW);
      } else if (r.tag === RecordTag.CHUNK) {
        const key = toHex(r.id);
        if (window.has(key)) continue;
        yield locate(table, r.id, ObjectKind.data);
        window.add(key, r.size, undefined);
      }
    }
  }
  const refsPos = locate(table, Buffer.from(refsRoot, "hex"), ObjectKind.refsRoot);
  const refsBytes = await readObject(storage, table, refsPos);
  for (let i = 0; i < refsBytes.length; i += ID_SIZE) yield locate(table, refsBytes.subarray(i, i + ID_SIZE), ObjectKind.refsBlock);
  yield refsPos;
}
