// Deletion marks (docs/repository.md, "Garbage collection"): prune writes marks/<pack id> before
// it may delete a pack. Writers treat marked packs as absent, and push refuses to commit a
// snapshot that references an object only a marked pack holds.
import type { Storage } from "@cairn/storage";
import { MARKS_PREFIX, idFromKey } from "./layout.js";

export async function listMarks(storage: Storage): Promise<Set<string>> {
  const marked = new Set<string>();
  for await (const o of storage.list(MARKS_PREFIX)) {
    const id = idFromKey(o.key, MARKS_PREFIX);
    if (id) marked.add(id);
  }
  return marked;
}
