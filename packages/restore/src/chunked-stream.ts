// pull → seal -d, chained in this thread: the chunked stream of a snapshot.
import type { Frame } from "@cairn/protocol";
import type { Storage } from "@cairn/storage";
import { openSnapshot, type OpenOptions } from "@cairn/pull";
import { unseal } from "@cairn/seal";
import { pullOrdered } from "@cairn/pull/ordered";

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
  /** Entry paths to restore (none: all): pull then fetches only what they need. */
  paths?: string[];
}

export async function chunkedStreamHere(storage: Storage, selector: string, opts: RestoreOptions): Promise<AsyncIterable<Frame>> {
  // The CLI has resolved `latest` or a date to an id on the main thread (its warnings must not
  // be lost with this thread); a library caller's selector is resolved here the same way.
  const opened = await openSnapshot(storage, selector, opts);
  const sealed = pullOrdered(storage, opened, { jobs: opts.jobs, identity: opts.identity, paths: opts.paths ?? [], passphrase: opts.passphrase });
  return unseal(sealed, { identities: opts.identities, idKey: opts.idKey, trusted: opts.trusted });
}
