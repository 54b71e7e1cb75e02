// Which snapshots count as backups (docs/prune.md, "Which snapshots count"): signed by a pinned
// writer, sealed for this repository, and not dated beyond the clock-skew bound in the future
// (by the store's clock). The others are reported, never removed by a policy, and never allowed
// to push a real snapshot out (they are not in the policy's input at all).
import type { Snapshot } from "@cairn/repository";
import { checkCommitSignature } from "@cairn/trust";

/** "duplicate": the same signed COMMIT as another snapshot object (set by prune, which sees them all). */
export type Standing = "trusted" | "unsigned" | "forged" | "keyset" | "future" | "duplicate";

export interface Classified {
  snapshot: Snapshot;
  standing: Standing;
  message?: string;
}

export function classify(s: Snapshot, opts: { pinned: ReadonlySet<string>; keyset: string; now: Date; maxSkewMs: number }): Classified {
  const sig = checkCommitSignature(s.commit, opts.pinned);
  if (!sig.ok) return { snapshot: s, standing: sig.why, message: sig.message };
  if (s.keyset !== opts.keyset) return { snapshot: s, standing: "keyset", message: `sealed for key set ${s.keyset.slice(0, 16)}…, not this repository's` };
  if (s.time.getTime() > opts.now.getTime() + opts.maxSkewMs) {
    return { snapshot: s, standing: "future", message: `dated ${s.commit.time}, beyond the clock-skew bound ahead of the store's clock (${opts.now.toISOString()})` };
  }
  return { snapshot: s, standing: "trusted" };
}
