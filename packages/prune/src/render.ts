// The human report of a prune or forget run: each snapshot with its fate and why, then what the
// garbage collection did (or would do, in a dry run).
import type { PruneReport } from "./index.js";

export function renderReport(r: PruneReport): string {
  const out: string[] = [];
  const would = r.dryRun ? "would " : "";
  for (const s of r.snapshots) {
    const head = `${s.id.slice(0, 12)}  ${s.time}  ${s.host}  ${s.label}${s.tags.length ? `  [${s.tags.join(",")}]` : ""}`;
    if (s.action === "report") out.push(`ignored ${head}  ${s.standing}: ${s.message} (not counted, never removed automatically)`);
    else if (s.action === "remove") out.push(`${r.dryRun ? "would remove" : "removed"} ${head}`);
    else out.push(`keep    ${head}  (${s.reasons.join("; ") || "not selected"})`);
  }
  for (const d of r.damagedSnapshots) {
    if (r.removed.includes(d.id)) out.push(`${r.dryRun ? "would remove" : "removed"} damaged snapshot ${d.id}: ${d.message}`);
    else out.push(`damaged snapshot ${d.id}: ${d.message}`);
  }
  const g = r.gc;
  if (g) {
    out.push(
      `packs: ${g.packs} (${g.livePacks} in use); ${would}mark ${g.marked.length}, ${would}unmark ${g.unmarked.length}, ${would}delete ${g.deleted.length} (${mib(g.deletedBytes)}), ${would}repack ${g.repacked.length}` +
        `; ${g.waiting} marked packs wait for the grace period, ${g.young} unreferenced packs are too young to mark`,
    );
    if (!r.dryRun) out.push(`index files: ${g.indexFilesWritten} written, ${g.indexFilesDeleted} superseded and deleted; ${g.indexedFromTrailers} packs indexed from their trailers; ${g.multipartAborted} stale multipart uploads aborted; ${g.versionsPurged} old versions purged; ${g.locksExtended} locks extended`);
  }
  for (const k of r.keptForLock) out.push(`kept for Object Lock: ${k.key}${k.versionId ? ` version ${k.versionId}` : ""} until ${k.until}`);
  for (const p of r.problems) out.push(`problem: ${p}`);
  return out.map((l) => `${l}\n`).join("");
}

function mib(n: number): string {
  return `${(n / 1048576).toFixed(1)} MiB`;
}
