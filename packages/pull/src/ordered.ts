// The keyed pull: the sealed stream in restore order, exactly as `seal -d` consumes it
// (docs/repository.md, "Pull in restore order"): START, COMMIT, the manifest root, then each
// manifest chunk followed by the data chunks it describes that the reference window does not
// hold (seal -d turns those into CHUNK_REFs), then the refs blocks and the refs root, then END.
// Restore order lives in the encrypted manifest, so this module needs the owner's identity; it
// is loaded only when one is given, so transport hosts never load key code.
import { CairnError } from "@cairn/errors";
import { DEFAULT_REF_WINDOW, FrameType, RefWindow, type Frame } from "@cairn/protocol";
import type { Storage } from "@cairn/storage";
import { FileKeyCache, openFile } from "@cairn/age";
import { readOwnerKey } from "@cairn/keys";
import { ManifestParser, RecordTag, decompressChunk } from "@cairn/seal";
import { ID_SIZE, ObjectKind, kindName, readObject, toHex, type IndexTable } from "@cairn/repository";
import { MAX_PAYLOAD } from "@cairn/protocol";
import { endMeta, startMeta, type OpenedSnapshot } from "./index.js";
import { fetchObjects, type FetchItem } from "./fetch.js";

export interface OrderedOptions {
  jobs?: number;
  /** Owner key file(s). */
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
  const order = restoreOrder(storage, table, snapshot.manifest, snapshot.refs, owner.identities, opts.jobs ?? 4);
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
async function* restoreOrder(storage: Storage, table: IndexTable, manifestRoot: string, refsRoot: string, identities: string[], lookahead: number): AsyncGenerator<FetchItem> {
  const cache = new FileKeyCache();
  const locate = (id: Uint8Array, kind: number) => {
    const pos = table.find(id);
    if (pos < 0) throw new CairnError("notFound", `the repository's index has no ${kindName(kind)} ${toHex(id)} that the snapshot needs`);
    return pos;
  };
  const open = async (pos: number, bytes: Uint8Array, what: string) => {
    try {
      return decompressChunk(await openFile(bytes, identities, cache), MAX_PAYLOAD, what);
    } catch (err) {
      if (err instanceof CairnError) throw new CairnError(err.kind, `cannot open ${what}: ${err.message}`);
      throw err;
    }
  };

  const rootId = Buffer.from(manifestRoot, "hex");
  const rootPos = locate(rootId, ObjectKind.manifestRoot);
  const rootBytes = await readObject(storage, table, rootPos);
  yield { pos: rootPos, bytes: rootBytes };
  const list = await open(rootPos, rootBytes, `manifest root ${manifestRoot}`);
  if (list.length === 0 || list.length % ID_SIZE !== 0) throw new CairnError("integrity", `manifest root ${manifestRoot} is not a list of manifest chunk ids`);

  // Manifest chunks are read ahead (the root lists them all), data chunks go to the fetcher.
  const count = list.length / ID_SIZE;
  const manifestPos = (i: number) => locate(list.subarray(i * ID_SIZE, (i + 1) * ID_SIZE), ObjectKind.manifest);
  const ahead: Promise<Uint8Array>[] = [];
  const prefetch = (i: number) => {
    if (i < count) {
      const p = readObject(storage, table, manifestPos(i));
      p.catch(() => {});
      ahead.push(p);
    }
  };
  for (let i = 0; i < Math.min(lookahead, count); i++) prefetch(i);
  const parser = new ManifestParser();
  let window = new RefWindow(DEFAULT_REF_WINDOW);
  for (let i = 0; i < count; i++) {
    const pos = manifestPos(i);
    const bytes = await ahead.shift()!;
    prefetch(i + lookahead);
    yield { pos, bytes };
    const plain = await open(pos, bytes, `manifest chunk ${toHex(table.idAt(pos))}`);
    for (const r of parser.push(plain)) {
      if (r.tag === RecordTag.HEADER) {
        const limit = r.meta?.start?.refWindow;
        window = new RefWindow(typeof limit === "number" ? limit : DEFAULT_REF_WINDOW);
      } else if (r.tag === RecordTag.CHUNK) {
        const key = toHex(r.id);
        if (window.has(key)) continue;
        yield locate(r.id, ObjectKind.data);
        window.add(key, r.size, undefined);
      }
    }
  }

  const refsId = Buffer.from(refsRoot, "hex");
  const refsPos = locate(refsId, ObjectKind.refsRoot);
  const refsBytes = await readObject(storage, table, refsPos);
  for (let i = 0; i < refsBytes.length; i += ID_SIZE) yield locate(refsBytes.subarray(i, i + ID_SIZE), ObjectKind.refsBlock);
  yield { pos: refsPos, bytes: refsBytes };
}
