// Verify's local state in the cache ($CAIRN_CACHE/<repository id>/verify-state.json): where a
// run stopped by --max-duration got to, and the run counter of --read-data p%. Local, never in
// the bucket: losing it only costs a repeated check.
import type { LocalCache } from "@cairn/repository";

export interface VerifyState {
  /** Next window of --read-data p% (see subset.ts). */
  counter: number;
  /** A run that stopped early: its subset and the last pack (in id order) it finished. */
  resume?: { subset: string; counter: number; after: string };
}

const KEY = "verify-state.json";

export async function readState(cache: LocalCache): Promise<VerifyState> {
  const bytes = await cache.read(KEY);
  if (bytes) {
    try {
      const s = JSON.parse(Buffer.from(bytes).toString("utf8"));
      if (typeof s === "object" && s !== null && Number.isInteger(s.counter)) return s as VerifyState;
    } catch {
      // a damaged state file only costs a repeated check
    }
  }
  return { counter: 0 };
}

/** False when the state could not be saved (no cache, or one that cannot be written). */
export async function writeState(cache: LocalCache, state: VerifyState): Promise<boolean> {
  return cache.write(KEY, new TextEncoder().encode(`${JSON.stringify(state)}\n`));
}
