// Loading the index for verification: like @cairn/repository's loadIndex, but every index file
// comes from the store (the cache proves nothing about what is stored), a damaged one is a
// problem to report rather than a reason to stop, and packs carrying deletion marks stay in (a
// marked pack still exists; verify only notes references into it).
import { CairnError } from "@cairn/errors";
import type { Storage } from "@cairn/storage";
import { ID_SIZE, INDEX_PREFIX, IndexTable, decodeIndexFile, idFromKey, indexKey, listMarks, mapLimit, toHex, type IndexFile } from "@cairn/repository";
import type { Report } from "./report.js";

export interface VerifyIndex {
  table: IndexTable;
  /** Index files in use (not superseded, not damaged). */
  files: string[];
  marks: Set<string>;
  /** positions sorted by (pack, offset), and where each pack's run starts in it. */
  byPack: Uint32Array;
  packStart: Uint32Array;
}

export async function loadVerifyIndex(storage: Storage, report: Report, jobs: number): Promise<VerifyIndex> {
  const names: string[] = [];
  for await (const o of storage.list(INDEX_PREFIX)) {
    const id = idFromKey(o.key, INDEX_PREFIX);
    if (id) names.push(id);
  }
  const loaded = await mapLimit(names, jobs, async (name) => {
    let bytes: Uint8Array;
    try {
      bytes = await storage.get(indexKey(name));
    } catch (err) {
      if (err instanceof CairnError && err.kind === "notFound") return undefined; // compacted meanwhile
      throw err;
    }
    try {
      return { name, file: decodeIndexFile(bytes, name) };
    } catch (err) {
      if (!(err instanceof CairnError) || err.kind === "version") throw err; // a newer format is not damage
      report.problem("index", `index file ${name}`, `${err.message.replace(`index file ${name} is damaged: `, "")} (the objects it lists count as absent; cairn repair index rebuilds the index from the packs)`);
      return undefined;
    }
  });
  const superseded = new Set<string>();
  for (const l of loaded) {
    if (!l) continue;
    for (let i = 0; i < l.file.supersedes.length; i += ID_SIZE) superseded.add(toHex(l.file.supersedes.subarray(i, i + ID_SIZE)));
  }
  const files: IndexFile[] = [];
  const used: string[] = [];
  for (const l of loaded) {
    if (l && !superseded.has(l.name)) {
      files.push(l.file);
      used.push(l.name);
    }
  }
  const table = IndexTable.build(files);
  const marks = await listMarks(storage);
  const { byPack, packStart } = groupByPack(table);
  return { table, files: used, marks, byPack, packStart };
}

/** The table's positions ordered by pack and offset (4 bytes per object), and each pack's start. */
function groupByPack(table: IndexTable): { byPack: Uint32Array; packStart: Uint32Array } {
  const n = table.size;
  const counts = new Uint32Array(table.packCount + 1);
  for (let i = 0; i < n; i++) counts[table.packs[i] + 1]++;
  for (let p = 0; p < table.packCount; p++) counts[p + 1] += counts[p];
  const packStart = counts.slice();
  const fill = counts.slice();
  const byPack = new Uint32Array(n);
  for (let i = 0; i < n; i++) byPack[fill[table.packs[i]]++] = i;
  for (let p = 0; p < table.packCount; p++) byPack.subarray(packStart[p], packStart[p + 1]).sort((a, b) => table.offsets[a] - table.offsets[b]);
  return { byPack, packStart };
}
