// @cairn/pull keeps its keyed half (restore order, read from the encrypted manifest) in a module
// of its own that its index does not re-export, so that transport hosts never load key code, and
// its package.json exports no entry for it. `cairn pull -i` loads it with a dynamic import next to
// its index; the fused restore does the same, from the module @cairn/pull resolves to (dist/ when
// run, src/ under the test runner).
import type { Frame } from "@cairn/protocol";
import type { Storage } from "@cairn/storage";
import type { OpenedSnapshot } from "@cairn/pull";

export interface OrderedOptions {
  jobs?: number;
  /** Owner key file. */
  identity: string;
  paths: string[];
  passphrase?: string;
}

type PullOrdered = (storage: Storage, opened: OpenedSnapshot, opts: OrderedOptions) => AsyncIterable<Frame>;

export async function loadPullOrdered(): Promise<PullOrdered> {
  const index = import.meta.resolve("@cairn/pull");
  const ext = index.endsWith(".ts") ? ".ts" : ".js";
  const mod = (await import(new URL(`./ordered${ext}`, index).href)) as { pullOrdered: PullOrdered };
  return mod.pullOrdered;
}
