// @cairn/prune: retention and garbage collection without a key (docs/prune.md). `prune` applies a
// policy to the snapshots that count, removes the others it selects, then collects garbage;
// `forget` (@cairn/forget) removes named snapshots through the same pieces.
import { CairnError } from "@cairn/errors";
import { COMMIT_VERSION } from "@cairn/trust";
import type { Storage } from "@cairn/storage";
import { LocalCache, listSnapshots, readConfig, snapshotKey, type Snapshot } from "@cairn/repository";
import { applyPolicy, type GroupKey, type Policy } from "./retention.js";
import { classify, type Standing } from "./classify.js";
import { collectGarbage, type GcReport } from "./gc.js";
import { Remover, type LockedObject } from "./remover.js";
import { storeNow } from "./store-clock.js";

export { applyPolicy, bucketOf, groupOf, hasRules, type Policy, type GroupKey, type Candidate, type Decision } from "./retention.js";
export { parseDuration } from "./duration.js";
export { classify, type Standing } from "./classify.js";
export { collectGarbage, type GcReport, type GcOptions } from "./gc.js";
export { Remover } from "./remover.js";
export { storeNow } from "./store-clock.js";

export const DEFAULT_GRACE_MS = 3_600_000;
export const DEFAULT_MAX_SKEW_MS = 3_600_000;
export const DEFAULT_REPACK_THRESHOLD = 0.5;

export interface SnapshotLine {
  id: string;
  time: string;
  host: string;
  label: string;
  tags: string[];
  standing: Standing;
  /** keep, remove (policy or forget), or report (not trusted: never removed automatically). */
  action: "keep" | "remove" | "report";
  reasons: string[];
  message?: string;
  group?: string;
}

export interface PruneReport {
  dryRun: boolean;
  storeTime: string;
  snapshots: SnapshotLine[];
  damagedSnapshots: { id: string; message: string }[];
  removed: string[];
  gc?: GcReport;
  keptForLock: LockedObject[];
  /** Problems that stopped garbage collection (damage): exit 22. */
  problems: string[];
}

export interface PruneOptions {
  policy: Policy;
  groupBy: GroupKey[];
  pinned: ReadonlySet<string>;
  maxSkewMs?: number;
  graceMs?: number;
  repackThreshold?: number;
  dryRun?: boolean;
  jobs?: number;
  cache?: string | false;
  extendLocksDays?: number;
  /** forget: remove exactly these snapshots (full ids) instead of applying a policy. */
  remove?: ReadonlySet<string>;
  /** Collect garbage after removing snapshots (prune: yes; forget: only with --prune). */
  gc?: boolean;
  log?: (line: string) => void;
}

/** Lists snapshots, decides, removes, collects garbage. */
export async function prune(storage: Storage, opts: PruneOptions): Promise<PruneReport> {
  const config = await readConfig(storage);
  const cache = LocalCache.forRepository(config.id, opts.cache);
  const dryRun = !!opts.dryRun;
  // A dry run writes nothing, not even the clock probe: it reads the local clock.
  const now = dryRun ? new Date() : await storeNow(storage);
  const report: PruneReport = { dryRun, storeTime: now.toISOString(), snapshots: [], damagedSnapshots: [], removed: [], keptForLock: [], problems: [] };
  const snaps = await listSnapshots(storage, cache, { jobs: opts.jobs, onDamaged: (id, err) => report.damagedSnapshots.push({ id, message: err.message }) });
  const classified = snaps.map((s) => classify(s, { pinned: opts.pinned, keyset: config.keyset, now, maxSkewMs: opts.maxSkewMs ?? DEFAULT_MAX_SKEW_MS }));
  // The same signed COMMIT stored again under another name (re-spelled JSON: anyone who can write
  // to the store can make one) is one backup: only the first by id counts, or copies of the newest
  // would push real snapshots out of --keep-last.
  const bySig = new Map<string, string>();
  for (const c of [...classified].sort((a, b) => (a.snapshot.id < b.snapshot.id ? -1 : 1))) {
    if (c.standing !== "trusted") continue;
    const first = bySig.get(String(c.snapshot.commit.sig));
    if (first === undefined) bySig.set(String(c.snapshot.commit.sig), c.snapshot.id);
    else Object.assign(c, { standing: "duplicate", message: `the same signed COMMIT as snapshot ${first.slice(0, 12)}, stored under another name` });
  }
  // A pinned writer's snapshot of a COMMIT version this build does not know comes from a newer
  // cairn, whose references this build may not read right: collecting on its say would risk them.
  const newer = classified.find((c) => c.standing === "trusted" && c.snapshot.commit.v !== COMMIT_VERSION);
  if (newer) {
    throw new CairnError("version", `snapshot ${newer.snapshot.id} has COMMIT version ${JSON.stringify(newer.snapshot.commit.v)}; this build reads ${COMMIT_VERSION} (a pinned writer signed it with a newer cairn: prune with that)`);
  }
  const trusted = classified.filter((c) => c.standing === "trusted").map((c) => c.snapshot);
  const decisions = opts.remove ? undefined : new Map(applyPolicy(trusted, opts.policy, opts.groupBy).map((d) => [d.id, d]));
  for (const c of classified) {
    const s = c.snapshot;
    const line: SnapshotLine = { id: s.id, time: String(s.commit.time), host: s.host, label: s.label, tags: s.tags, standing: c.standing, action: "keep", reasons: [], ...(c.message ? { message: c.message } : {}) };
    if (opts.remove) {
      line.action = opts.remove.has(s.id) ? "remove" : "keep";
      line.reasons = opts.remove.has(s.id) ? ["named"] : [];
    } else if (c.standing !== "trusted") {
      line.action = "report";
    } else {
      const d = decisions!.get(s.id)!;
      line.action = d.keep ? "keep" : "remove";
      line.reasons = d.reasons;
      line.group = d.group;
    }
    report.snapshots.push(line);
  }

  const remover = await Remover.open(storage, now);
  const removing = new Set<string>();
  for (const line of report.snapshots) {
    if (line.action !== "remove") continue;
    if (dryRun) {
      removing.add(line.id);
      continue;
    }
    if (await remover.remove(snapshotKey(line.id))) {
      removing.add(line.id);
      report.removed.push(line.id);
    } else {
      line.action = "keep";
      line.reasons = ["Object Lock"];
    }
  }
  // forget may name a damaged snapshot object (it cannot be read, so it names no data): it goes.
  for (const d of report.damagedSnapshots) {
    if (!opts.remove?.has(d.id)) continue;
    if (dryRun || (await remover.remove(snapshotKey(d.id)))) removing.add(d.id);
    if (!dryRun && removing.has(d.id)) report.removed.push(d.id);
  }
  if (dryRun) report.removed = [...removing];
  // Any other damaged snapshot object names data that no listing can see now: collecting it would
  // delete that data. Garbage collection stops until it is repaired or forgotten.
  const damage = report.damagedSnapshots
    .filter((d) => !removing.has(d.id))
    .map((d) => `snapshot ${d.id} is damaged (${d.message}), so the data it names is unknown: nothing is collected until it is restored from a copy or removed with cairn forget ${d.id.slice(0, 12)}`);

  if (opts.gc !== false) {
    report.gc = await collectGarbage(storage, snaps as Snapshot[], {
      graceMs: opts.graceMs ?? DEFAULT_GRACE_MS,
      repackThreshold: opts.repackThreshold ?? DEFAULT_REPACK_THRESHOLD,
      dryRun,
      jobs: opts.jobs ?? 8,
      cache,
      now,
      remover,
      trusted: new Set(trusted.map((s) => s.id)),
      removing,
      extendLocksDays: opts.extendLocksDays,
      damage,
      log: opts.log,
    });
    report.problems.push(...report.gc.problems);
  }
  report.keptForLock = remover.keptForLock;
  return report;
}

/** Resolves ids or unique prefixes (4+ hex digits) among the repository's snapshots. */
export function resolveIds(all: { id: string }[], wanted: string[]): Set<string> {
  const out = new Set<string>();
  for (const w of wanted) {
    if (!/^[0-9a-f]{4,64}$/.test(w)) throw new CairnError("usage", `"${w}" is not a snapshot id or a prefix of one (4 or more hex digits)`);
    const hits = all.filter((s) => s.id.startsWith(w));
    if (hits.length === 0) throw new CairnError("notFound", `no snapshot with id ${w}`);
    if (hits.length > 1) throw new CairnError("usage", `snapshot prefix ${w} is ambiguous: ${hits.length} snapshots match`);
    out.add(hits[0].id);
  }
  return out;
}
