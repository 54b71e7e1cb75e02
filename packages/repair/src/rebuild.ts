// `cairn repair index`: the index rebuilt from the packs alone (docs/repository.md, "Index
// files"). Every pack's trailer is read (one ranged GET each); the new index files list every
// pack whose trailer is sound, the last one written supersedes every index file that existed
// before, and then those are deleted. A crash at any point leaves a readable repository: until
// the superseding file exists the old files stand, and new files only add what the packs hold.
import { CairnError } from "@cairn/errors";
import type { Storage } from "@cairn/storage";
import { INDEX_PREFIX, PACKS_PREFIX, decodeIndexFile, encodeIndexFile, idFromKey, indexKey, mapLimit, readPackTrailer, type IndexedPack } from "@cairn/repository";

/** Packs per index file: ~one index file per 8 GiB at the default pack size. */
export const PACKS_PER_INDEX = 256;

export interface RebuildResult {
  packs: number;
  objects: number;
  written: string[];
  superseded: string[];
  /** Packs whose trailer is damaged: left out of the index (pack id → why). */
  skipped: { pack: string; why: string }[];
}

export async function rebuildIndex(storage: Storage, opts: { jobs?: number; exclude?: Set<string> } = {}): Promise<RebuildResult> {
  const old: string[] = [];
  for await (const o of storage.list(INDEX_PREFIX)) {
    const id = idFromKey(o.key, INDEX_PREFIX);
    if (id) old.push(id);
  }
  // An index file of a later format is a newer cairn's, not damage: superseding it would drop
  // what only that format says. (Index files are small, and repair index is rare: each is read.)
  await mapLimit(old, opts.jobs ?? 4, async (name) => {
    const bytes = await storage.get(indexKey(name)).catch(() => undefined);
    if (!bytes) return;
    try {
      decodeIndexFile(bytes, name); // checks the name first: damage wins over the format byte
    } catch (err) {
      if (err instanceof CairnError && err.kind === "version") throw new CairnError("version", `${err.message}; the index is left as it is`);
    }
  });
  const packs: { id: string; size: number }[] = [];
  for await (const o of storage.list(PACKS_PREFIX)) {
    const id = idFromKey(o.key, PACKS_PREFIX);
    if (id && !opts.exclude?.has(id)) packs.push({ id, size: o.size });
  }
  const skipped: { pack: string; why: string }[] = [];
  const read = await mapLimit(packs, opts.jobs ?? 4, async (p): Promise<IndexedPack | undefined> => {
    try {
      return { id: p.id, size: p.size, entries: await readPackTrailer(storage, p.id, p.size) };
    } catch (err) {
      if (!(err instanceof CairnError) || !["integrity", "notFound"].includes(err.kind)) throw err;
      skipped.push({ pack: p.id, why: err.message });
      return undefined;
    }
  });
  const good = read.filter((p): p is IndexedPack => p !== undefined);
  const groups: IndexedPack[][] = [];
  for (let i = 0; i < good.length; i += PACKS_PER_INDEX) groups.push(good.slice(i, i + PACKS_PER_INDEX));
  if (groups.length === 0) groups.push([]);
  const written: string[] = [];
  let objects = 0;
  for (const [i, group] of groups.entries()) {
    // Only the last file supersedes: until it exists the old files stand. It never names a file
    // this rebuild wrote (an unchanged group encodes to the same bytes as an existing file).
    const last = i === groups.length - 1;
    const file = encodeIndexFile(group, last ? old.filter((o) => !written.includes(o)) : []);
    await storage.put(indexKey(file.id), file.bytes, { ifNoneMatch: true });
    written.push(file.id);
    for (const p of group) objects += p.entries.length;
  }
  const keep = new Set(written);
  const superseded = old.filter((o) => !keep.has(o));
  for (const o of superseded) await storage.delete(indexKey(o));
  return { packs: good.length, objects, written, superseded, skipped };
}
