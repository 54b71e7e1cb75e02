// Loading the repository's index: list index/, fetch only index files the local cache lacks,
// drop files that newer ones supersede and packs that carry deletion marks, merge the rest.
import { CairnError } from "@cairn/errors";
import type { Storage } from "@cairn/storage";
import type { LocalCache } from "./cache.js";
import { ID_SIZE, toHex } from "./ids.js";
import { decodeIndexFile, encodeIndexFile, type IndexFile } from "./index-file.js";
import { IndexTable } from "./index-table.js";
import { INDEX_PREFIX, PACKS_PREFIX, idFromKey, indexKey } from "./layout.js";
import { listIds, packTimes } from "./listing.js";
import { listMarks } from "./marks.js";
import { readPackTrailer } from "./pack.js";
import { mapLimit } from "./limit.js";

export interface LoadedIndex {
  table: IndexTable;
  /** Index files read (ids). */
  files: string[];
  /** Index files still in the store that a read one supersedes (left by a prune that stopped part-way). */
  superseded: string[];
  marks: Set<string>;
  /** Requests made to the store. */
  requests: number;
}

export interface LoadIndexOptions {
  jobs?: number;
  /**
   * For readers (pull, restore, ls -i, verify's restore test): of an object listed more than
   * once, the copy in the oldest pack by the store's LastModified, then the lowest pack id (the
   * copy prune counts), rather than the first listed, which an index file planted next to the
   * real ones can decide. Costs one LIST of packs/ when some object has copies, nothing otherwise.
   */
  oldestCopy?: boolean;
}

export async function loadIndex(storage: Storage, cache: LocalCache, opts: LoadIndexOptions = {}): Promise<LoadedIndex> {
  for (let attempt = 0; ; attempt++) {
    let requests = 0;
    const names: string[] = [];
    for await (const o of storage.list(INDEX_PREFIX)) {
      const id = idFromKey(o.key, INDEX_PREFIX);
      if (id) names.push(id);
    }
    requests += 1 + Math.floor(names.length / 1000);
    const missing: string[] = [];
    const loaded = await mapLimit(names, opts.jobs ?? 8, async (name) => {
      const cached = await cache.read(indexKey(name));
      if (cached) {
        try {
          return { name, file: decodeIndexFile(cached, name) };
        } catch {
          // fall through to the store
        }
      }
      let bytes: Uint8Array;
      try {
        requests++;
        bytes = await storage.get(indexKey(name));
      } catch (err) {
        if (err instanceof CairnError && err.kind === "notFound") {
          missing.push(name);
          return undefined;
        }
        throw err;
      }
      const file = decodeIndexFile(bytes, name);
      await cache.write(indexKey(name), bytes);
      return { name, file };
    });
    const superseded = new Set<string>();
    for (const l of loaded) {
      if (!l) continue;
      for (let i = 0; i < l.file.supersedes.length; i += ID_SIZE) superseded.add(toHex(l.file.supersedes.subarray(i, i + ID_SIZE)));
    }
    // An index file that vanished between LIST and GET was replaced by a compacted one; list again.
    if (missing.some((m) => !superseded.has(m))) {
      if (attempt < 2) continue;
      throw new CairnError("storage", `index file ${missing[0]} was listed but cannot be read`);
    }
    const files: IndexFile[] = [];
    const used: string[] = [];
    for (const l of loaded) {
      if (l && !superseded.has(l.name)) {
        files.push(l.file);
        used.push(l.name);
      }
    }
    const marks = await listMarks(storage);
    requests++;
    const left = loaded.filter((l) => l !== undefined && superseded.has(l.name)).map((l) => l!.name);
    let table = IndexTable.build(files, marks, { copies: opts.oldestCopy });
    if (table.hasCopies) {
      const packs = await listIds(storage, PACKS_PREFIX);
      requests += 1 + Math.floor(packs.size / 1000);
      table = table.oldestCopies(packTimes(table, packs));
    }
    return { table, files: used, superseded: left, marks, requests };
  }
}

/** Packs in the store that no index file lists (finished by a push that died before indexing them). */
export async function unindexedPacks(storage: Storage, table: IndexTable, marks: ReadonlySet<string>): Promise<{ id: string; size: number }[]> {
  const out: { id: string; size: number }[] = [];
  for await (const o of storage.list(PACKS_PREFIX)) {
    const id = idFromKey(o.key, PACKS_PREFIX);
    if (id && !marks.has(id) && table.findPack(id) < 0) out.push({ id, size: o.size });
  }
  return out;
}

/**
 * Writes one index file per pack from the pack's own trailer. A pack whose trailer is damaged is
 * skipped and reported (a torn upload cannot happen with single PUTs, but a disk can rot).
 */
export async function indexPacksFromTrailers(
  storage: Storage,
  packs: { id: string; size: number }[],
  opts: { jobs?: number; onDamaged?: (id: string, err: unknown) => void } = {},
): Promise<string[]> {
  const written = await mapLimit(packs, opts.jobs ?? 4, async (p) => {
    let entries;
    try {
      entries = await readPackTrailer(storage, p.id, p.size);
    } catch (err) {
      if (err instanceof CairnError && (err.kind === "integrity" || err.kind === "notFound")) {
        opts.onDamaged?.(p.id, err);
        return undefined;
      }
      throw err;
    }
    const index = encodeIndexFile([{ id: p.id, size: p.size, entries }]);
    await storage.put(indexKey(index.id), index.bytes, { ifNoneMatch: true });
    return index.id;
  });
  return written.filter((x): x is string => x !== undefined);
}
