// The snapshots: each must be a well-formed object signed by a pinned writer, sealed for this
// repository, and not dated in the future (docs/verify.md, "Snapshots"). Others are reported
// and not trusted: their references are not followed, and they do not count as backups.
import { CairnError } from "@cairn/errors";
import type { Storage } from "@cairn/storage";
import { LocalCache, listSnapshots, type RepoConfig, type Snapshot } from "@cairn/repository";
import { checkCommitSignature, verifyCommit } from "@cairn/trust";
import type { Report } from "./report.js";

export interface SnapshotCheck {
  trusted: Set<string>;
  /** How far in the future a snapshot's time may lie (ms). */
  skewMs: number;
  now: number;
}

/** Lists and checks every snapshot; returns those that may be trusted, oldest first. */
export async function checkSnapshots(storage: Storage, config: RepoConfig, report: Report, opts: SnapshotCheck): Promise<Snapshot[]> {
  const snaps = await listSnapshots(storage, new LocalCache(undefined), {
    onDamaged: (id, err) => report.problem("snapshot", `snapshot ${id}`, err.message.replace(`snapshot ${id}`, "the snapshot object").replace(/^the snapshot object: /, "")),
  });
  report.stats.snapshots = snaps.length + [...report.problems.values()].filter((p) => p.kind === "snapshot").length;
  const good: Snapshot[] = [];
  for (const s of snaps) {
    const status = { id: s.id, time: String(s.commit.time), host: s.host, label: s.label, writer: s.writer, status: "ok" as "ok" | "damaged" | "untrusted" };
    report.snapshots.push(status);
    const name = `snapshot ${s.id}`;
    let trusted = true;
    try {
      verifyCommit(s.commit, opts.trusted);
    } catch (err) {
      if (!(err instanceof CairnError)) throw err;
      trusted = false;
      // A COMMIT version this build does not know, signed by a pinned writer, is a newer cairn's
      // snapshot, not a forgery: verify stops (11) rather than call it damage. Unsigned, it is
      // what any other unsigned snapshot is.
      const sig = err.kind === "version" ? checkCommitSignature(s.commit, opts.trusted) : undefined;
      if (sig?.ok) throw new CairnError("version", `${name}: ${err.message}; a pinned writer signed it with a newer cairn: verify with that`);
      if (err.kind === "key" || (sig && !sig.ok && sig.why === "unsigned")) report.problem("unsigned", name, `signed by writer ${s.writer.slice(0, 16)}…, which is not pinned: not trusted (pin it with cairn key pin if it is yours)`);
      else report.problem("forged", name, `${err.message}: a forged or altered snapshot, not trusted`);
    }
    if (s.keyset !== config.keyset) {
      trusted = false;
      report.problem("keyset", name, `sealed for key set ${s.keyset.slice(0, 16)}…, not this repository's (${config.keyset.slice(0, 16)}…): not trusted`);
    }
    if (s.time.getTime() > opts.now + opts.skewMs) {
      trusted = false;
      report.problem("future", name, `dated ${s.commit.time}, in the future beyond the clock-skew bound: not trusted`);
    }
    if (trusted) good.push(s);
    else status.status = "untrusted";
  }
  report.stats.trusted = good.length;
  return good;
}
