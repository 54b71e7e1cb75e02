// @cairn/restore: `pull | seal -d | chunk -d | snapshot -x` in one process. The same library
// stages as the pipeline, chained as async iterables: frames pass in memory, never encoded or
// decoded between stages.
import type { Frame } from "@cairn/protocol";
import type { Storage } from "@cairn/storage";
import { openSnapshot, type OpenOptions } from "@cairn/pull";
import { unseal } from "@cairn/seal";
import { dechunkStream } from "@cairn/chunk";
import { loadPullOrdered } from "./keyed-pull.js";

export { includePatterns } from "./paths.js";

export interface RestoreOptions extends OpenOptions {
  /** Owner key file (pull reads restore order with it). */
  identity: string;
  passphrase?: string;
  /** What seal -d and chunk -d need: identities, the pinned id key, the trusted writers. */
  identities: string[];
  idKey: Uint8Array;
  trusted: Set<string>;
  /** Ranged GETs in flight. */
  jobs?: number;
}

/** pull → seal -d → chunk -d: the plain stream of the snapshot `selector` names. */
export async function plainStream(storage: Storage, selector: string, opts: RestoreOptions): Promise<AsyncIterable<Frame>> {
  const opened = await openSnapshot(storage, selector, opts);
  const pullOrdered = await loadPullOrdered();
  const sealed = pullOrdered(storage, opened, { jobs: opts.jobs, identity: opts.identity, paths: [], passphrase: opts.passphrase });
  const chunked = unseal(sealed, { identities: opts.identities, idKey: opts.idKey, trusted: opts.trusted });
  return dechunkStream(chunked, { idKey: opts.idKey });
}
