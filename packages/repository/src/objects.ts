// Reading objects back out of packs, and the clear reference objects (refs root and blocks).
import { createHash } from "node:crypto";
import { CairnError } from "@cairn/errors";
import type { Storage } from "@cairn/storage";
import { ID_SIZE, ObjectKind, kindName, toHex } from "./ids.js";
import type { IndexTable } from "./index-table.js";
import { packKey } from "./layout.js";

/** Reads the object at table position pos with one ranged GET. */
export async function readObject(storage: Storage, table: IndexTable, pos: number): Promise<Uint8Array> {
  const pack = table.packIdAt(table.packs[pos]);
  try {
    return await storage.get(packKey(pack), { offset: table.offsets[pos], length: table.lengths[pos] });
  } catch (err) {
    if (err instanceof CairnError && err.kind === "notFound") {
      throw new CairnError("notFound", `pack ${pack} is missing from the repository (it holds ${kindName(table.kinds[pos])} ${toHex(table.idAt(pos))})`);
    }
    throw err;
  }
}

/** Reads a clear object (refs root or block) by id and checks it hashes to its id. */
export async function readClearObject(storage: Storage, table: IndexTable, id: Uint8Array, kind: number): Promise<Uint8Array> {
  const pos = table.find(id);
  if (pos < 0) throw new CairnError("notFound", `the repository's index has no ${kindName(kind)} ${toHex(id)}`);
  if (table.kinds[pos] !== kind) throw new CairnError("integrity", `object ${toHex(id)} is a ${kindName(table.kinds[pos])}, expected a ${kindName(kind)}`);
  const bytes = await readObject(storage, table, pos);
  if (!createHash("sha256").update(bytes).digest().equals(Buffer.from(id))) throw new CairnError("integrity", `${kindName(kind)} ${toHex(id)} is damaged: its bytes do not hash to its id`);
  if (bytes.length % ID_SIZE !== 0) throw new CairnError("integrity", `${kindName(kind)} ${toHex(id)} is ${bytes.length} bytes, not a list of 32-byte ids`);
  return bytes;
}

/**
 * Every object id a snapshot references, read from its clear references: the manifest root, the
 * refs root, each refs block, and every id the blocks list. Yields one block's worth at a time
 * (bounded memory); ids may repeat across blocks.
 */
export async function* snapshotReferences(storage: Storage, table: IndexTable, manifestRoot: string, refsRoot: string): AsyncGenerator<Uint8Array> {
  const rootId = Buffer.from(refsRoot, "hex");
  const head = new Uint8Array(2 * ID_SIZE);
  head.set(Buffer.from(manifestRoot, "hex"), 0);
  head.set(rootId, ID_SIZE);
  yield head;
  const root = await readClearObject(storage, table, rootId, ObjectKind.refsRoot);
  yield root;
  for (let i = 0; i < root.length; i += ID_SIZE) {
    yield await readClearObject(storage, table, root.subarray(i, i + ID_SIZE), ObjectKind.refsBlock);
  }
}
