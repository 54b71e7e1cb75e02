// The retention policy (docs/prune.md, "Retention"): restic's forget rules. Snapshots are grouped
// (by host and label unless --group-by says otherwise); in each group, newest first:
//   --keep-last N      the N newest
//   --keep-hourly N …  for each of the N newest hours (days, ISO weeks, months, years, in UTC) that
//                      have a snapshot, the newest snapshot of that hour; if fewer periods have
//                      snapshots than N allows, the group's oldest snapshot is kept as well
//   --keep-within D    every snapshot less than D older than the group's newest
//   --keep-tag T       every snapshot carrying tag T (T may be a comma-separated list: all of them)
// A snapshot is kept if any rule keeps it; every rule that keeps it is named. With no rule at
// all, nothing is removed. The input holds only snapshots that may count (signed by a pinned
// writer, not dated in the future); the caller keeps the others out of the policy's reach.

export interface Policy {
  last?: number;
  hourly?: number;
  daily?: number;
  weekly?: number;
  monthly?: number;
  yearly?: number;
  /** Milliseconds. */
  within?: number;
  /** Each entry: tags that must all be present. */
  tags?: string[][];
}

export type GroupKey = "host" | "label" | "tags";

export interface Candidate {
  id: string;
  time: Date;
  host: string;
  label: string;
  tags: string[];
}

export interface Decision {
  id: string;
  keep: boolean;
  /** Why it is kept, e.g. ["last 1", "daily 2026-11-27"]. */
  reasons: string[];
  group: string;
}

const BUCKETS = ["hourly", "daily", "weekly", "monthly", "yearly"] as const;
type BucketRule = (typeof BUCKETS)[number];

export function hasRules(p: Policy): boolean {
  return p.last !== undefined || BUCKETS.some((b) => p[b] !== undefined) || p.within !== undefined || (p.tags?.length ?? 0) > 0;
}

/** The group a snapshot belongs to, as a printable key. */
export function groupOf(s: Candidate, by: GroupKey[]): string {
  return by
    .map((k) => (k === "tags" ? `tags=${[...s.tags].sort().join(",")}` : `${k}=${k === "host" ? s.host : s.label}`))
    .join(" ");
}

export function bucketOf(rule: BucketRule, t: Date): string {
  const iso = t.toISOString();
  switch (rule) {
    case "hourly":
      return iso.slice(0, 13);
    case "daily":
      return iso.slice(0, 10);
    case "monthly":
      return iso.slice(0, 7);
    case "yearly":
      return iso.slice(0, 4);
    case "weekly":
      return isoWeek(t);
  }
}

/** ISO 8601 week (Monday first; week 1 holds the year's first Thursday), e.g. 2026-W48. */
function isoWeek(t: Date): string {
  const d = new Date(Date.UTC(t.getUTCFullYear(), t.getUTCMonth(), t.getUTCDate()));
  const day = d.getUTCDay() || 7;
  d.setUTCDate(d.getUTCDate() + 4 - day);
  const yearStart = Date.UTC(d.getUTCFullYear(), 0, 1);
  const week = Math.ceil(((d.getTime() - yearStart) / 86_400_000 + 1) / 7);
  return `${d.getUTCFullYear()}-W${String(week).padStart(2, "0")}`;
}

/** Applies the policy to every group; the result follows the input's order. */
export function applyPolicy(snaps: Candidate[], policy: Policy, groupBy: GroupKey[]): Decision[] {
  const decisions = new Map<string, Decision>();
  const groups = new Map<string, Candidate[]>();
  for (const s of snaps) {
    const g = groupOf(s, groupBy);
    let list = groups.get(g);
    if (!list) groups.set(g, (list = []));
    list.push(s);
  }
  const any = hasRules(policy);
  for (const [group, list] of groups) {
    const newestFirst = [...list].sort((a, b) => b.time.getTime() - a.time.getTime() || (a.id < b.id ? 1 : -1));
    for (const s of newestFirst) decisions.set(s.id, { id: s.id, keep: !any, reasons: any ? [] : ["no retention rule given"], group });
    if (!any) continue;
    const keep = (s: Candidate, why: string) => {
      const d = decisions.get(s.id)!;
      d.keep = true;
      d.reasons.push(why);
    };
    newestFirst.slice(0, policy.last ?? 0).forEach((s, i) => keep(s, `last ${i + 1}`));
    for (const rule of BUCKETS) {
      const n = policy[rule];
      if (n === undefined || n <= 0) continue;
      let left = n;
      let last: string | undefined;
      for (const s of newestFirst) {
        if (left === 0) break;
        const b = bucketOf(rule, s.time);
        if (b === last) continue;
        last = b;
        left--;
        keep(s, `${rule} ${b}`);
      }
      // restic: when fewer periods have snapshots than the rule allows, keep the oldest as well.
      if (left > 0) {
        const oldest = newestFirst[newestFirst.length - 1];
        if (!decisions.get(oldest.id)!.reasons.some((r) => r.startsWith(`${rule} `))) keep(oldest, `${rule} oldest`);
      }
    }
    if (policy.within !== undefined) {
      const newest = newestFirst[0].time.getTime();
      for (const s of newestFirst) if (newest - s.time.getTime() < policy.within) keep(s, "within");
    }
    for (const wanted of policy.tags ?? []) {
      for (const s of newestFirst) if (wanted.every((t) => s.tags.includes(t))) keep(s, `tag ${wanted.join(",")}`);
    }
  }
  return snaps.map((s) => decisions.get(s.id)!);
}
