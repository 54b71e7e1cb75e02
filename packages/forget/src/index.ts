// @cairn/forget: remove named snapshots (ids or unique prefixes). Only the snapshot objects go;
// the data they alone used is collected by the next `cairn prune` (or `forget --prune`), under the
// same marks-and-grace protocol (docs/prune.md). Untrusted snapshots can be named too: forgetting
// one is an explicit act, unlike a retention policy, which never removes them.
import type { Storage } from "@cairn/storage";
import { LocalCache, listSnapshots, readConfig } from "@cairn/repository";
import { prune, resolveIds, type PruneOptions, type PruneReport } from "@cairn/prune";

export interface ForgetOptions extends Omit<PruneOptions, "policy" | "groupBy" | "remove"> {
  ids: string[];
}

export async function forget(storage: Storage, opts: ForgetOptions): Promise<PruneReport> {
  const config = await readConfig(storage);
  // A damaged snapshot object can be named too (prune's collection waits until it is gone).
  const damaged: { id: string }[] = [];
  const all = await listSnapshots(storage, LocalCache.forRepository(config.id, opts.cache), { jobs: opts.jobs, onDamaged: (id) => damaged.push({ id }) });
  const remove = resolveIds([...all, ...damaged], opts.ids);
  return prune(storage, { ...opts, policy: {}, groupBy: [], remove, gc: opts.gc ?? false });
}
