// Reading a snapshot's encrypted manifest from the repository with the owner's identity: the
// root, then each manifest chunk in the root's order (read ahead), opened and parsed into
// records. Used for restore order (pull -i) and for listing files (ls -i). With the id key, each
// object is checked against its id on the way (seal -d checks everything again on restore).
import { createHmac, timingSafeEqual } from "node:crypto";
import { CairnError } from "@cairn/errors";
import { MAX_PAYLOAD } from "@cairn/protocol";
import type { Storage } from "@cairn/storage";
import { FileKeyCache, openFile } from "@cairn/age";
import { ManifestParser, decompressChunk, type ManifestRecord } from "@cairn/seal";
import { ID_SIZE, ObjectKind, kindName, readObject, toHex, type IndexTable } from "@cairn/repository";

export interface ManifestPiece {
  /** Table position of the object (the root first, then each manifest chunk). */
  pos: number;
  bytes: Uint8Array;
  /** The records this manifest chunk completes (none for the root). */
  records: ManifestRecord[];
}

export interface ManifestOptions {
  identities: string[];
  /** When given, every object is checked against its id (HMAC-SHA256 under the id key). */
  idKey?: Uint8Array;
  lookahead?: number;
  /** How an object is read (default: one ranged GET of exactly its bytes). */
  read?: (pos: number) => Promise<Uint8Array>;
  /** Whether a manifest chunk may be read ahead of its turn (default: always, up to lookahead). */
  ahead?: (pos: number) => boolean;
  /** Told, once the root is open, the table positions of the manifest chunks in order (-1: not in the index). */
  onRoot?: (positions: number[]) => void;
}

export function locate(table: IndexTable, id: Uint8Array, kind: number): number {
  const pos = table.find(id);
  if (pos < 0) throw new CairnError("notFound", `the repository's index has no ${kindName(kind)} ${toHex(id)} that the snapshot needs`);
  return pos;
}

export async function* readManifest(storage: Storage, table: IndexTable, manifestRoot: string, opts: ManifestOptions): AsyncGenerator<ManifestPiece> {
  const cache = new FileKeyCache();
  const open = async (pos: number, bytes: Uint8Array, kind: number) => {
    const id = table.idAt(pos);
    const what = `${kindName(kind)} ${toHex(id)}`;
    let plain: Uint8Array;
    try {
      plain = decompressChunk(await openFile(bytes, opts.identities, cache), MAX_PAYLOAD, what);
    } catch (err) {
      if (err instanceof CairnError) throw new CairnError(err.kind, `cannot open ${what}: ${err.message}`);
      throw err;
    }
    if (opts.idKey && !timingSafeEqual(createHmac("sha256", opts.idKey).update(plain).digest(), id)) {
      throw new CairnError("integrity", `${what} is not authentic: its content does not match its id under the id key`);
    }
    return plain;
  };

  const rootPos = locate(table, Buffer.from(manifestRoot, "hex"), ObjectKind.manifestRoot);
  const read = opts.read ?? ((pos: number) => readObject(storage, table, pos));
  const rootBytes = await read(rootPos);
  const list = await open(rootPos, rootBytes, ObjectKind.manifestRoot);
  if (list.length === 0 || list.length % ID_SIZE !== 0) throw new CairnError("integrity", `manifest root ${manifestRoot} is not a list of manifest chunk ids`);
  yield { pos: rootPos, bytes: rootBytes, records: [] };

  const count = list.length / ID_SIZE;
  if (opts.onRoot) opts.onRoot(Array.from({ length: count }, (_, i) => table.find(list.subarray(i * ID_SIZE, (i + 1) * ID_SIZE))));
  const lookahead = opts.lookahead ?? 4;
  const positionOf = (i: number) => locate(table, list.subarray(i * ID_SIZE, (i + 1) * ID_SIZE), ObjectKind.manifest);
  const mayReadAhead = opts.ahead ?? (() => true);
  const ahead: Promise<Uint8Array>[] = [];
  let requested = 0; // manifest chunks 0…requested-1 are read or being read
  // Chunk i is requested at its turn at the latest; later ones while `ahead` allows them.
  const fill = (i: number, turn: boolean) => {
    while (requested < count && requested < i + Math.max(1, lookahead) && ((turn && requested === i) || mayReadAhead(positionOf(requested)))) {
      const p = read(positionOf(requested++));
      p.catch(() => {}); // awaited in order below
      ahead.push(p);
    }
  };
  const parser = new ManifestParser();
  for (let i = 0; i < count; i++) {
    const pos = positionOf(i);
    fill(i, true);
    const bytes = await ahead.shift()!;
    fill(i + 1, false);
    const plain = await open(pos, bytes, ObjectKind.manifest);
    yield { pos, bytes, records: parser.push(plain) };
  }
  parser.finish();
}
