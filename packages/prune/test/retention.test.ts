// Retention rules against fixed times (restic's forget semantics, docs/prune.md "Retention").
import { describe, expect, it } from "vitest";
import { applyPolicy, bucketOf, type Candidate, type GroupKey, type Policy } from "../src/retention.js";
import { parseDuration } from "../src/duration.js";

const H = 3_600_000;
const D = 24 * H;

/** Snapshots at the given ISO times, ids s0, s1, … in that order. */
function snaps(times: string[], extra: Partial<Candidate>[] = []): Candidate[] {
  return times.map((t, i) => ({ id: `s${i}`, time: new Date(t), host: "h1", label: "/data", tags: [], ...extra[i] }));
}

function kept(list: Candidate[], policy: Policy, groupBy: GroupKey[] = ["host", "label"]): string[] {
  return applyPolicy(list, policy, groupBy)
    .filter((d) => d.keep)
    .map((d) => d.id);
}

// Hourly snapshots over three days in November 2026, 12 per day (every 2 hours).
const threeDays = Array.from({ length: 36 }, (_, i) => new Date(Date.UTC(2026, 10, 24, 2 * i, 30)).toISOString());

const cases: { name: string; times: string[]; policy: Policy; keep: string[]; extra?: Partial<Candidate>[]; groupBy?: GroupKey[] }[] = [
  { name: "no rule keeps everything", times: threeDays.slice(0, 3), policy: {}, keep: ["s0", "s1", "s2"] },
  { name: "keep-last 2 keeps the two newest", times: threeDays.slice(0, 5), policy: { last: 2 }, keep: ["s3", "s4"] },
  { name: "keep-last larger than the group keeps all", times: threeDays.slice(0, 3), policy: { last: 10 }, keep: ["s0", "s1", "s2"] },
  { name: "keep-daily 2 keeps the newest of each of the last two days", times: threeDays, policy: { daily: 2 }, keep: ["s23", "s35"] },
  {
    name: "keep-daily 5 with three days of snapshots also keeps the oldest",
    times: threeDays,
    policy: { daily: 5 },
    keep: ["s0", "s11", "s23", "s35"],
  },
  { name: "keep-hourly 3 keeps the three newest hours that have a snapshot", times: threeDays, policy: { hourly: 3 }, keep: ["s33", "s34", "s35"] },
  {
    name: "keep-weekly counts ISO weeks (Monday 2026-11-30 starts a new week)",
    times: ["2026-11-28T10:00:00Z", "2026-11-29T23:00:00Z", "2026-11-30T00:30:00Z", "2026-12-01T00:30:00Z"],
    policy: { weekly: 2 },
    keep: ["s1", "s3"],
  },
  {
    name: "keep-monthly and keep-yearly",
    times: ["2024-06-01T00:00:00Z", "2025-01-15T00:00:00Z", "2025-12-31T23:59:59Z", "2026-01-01T00:00:00Z", "2026-11-27T00:00:00Z"],
    policy: { monthly: 2, yearly: 2 },
    keep: ["s2", "s3", "s4"],
  },
  {
    name: "keep-within is measured from the group's newest snapshot, not from now (exactly 5d older is out)",
    times: ["2020-01-01T00:00:00Z", "2020-01-05T00:00:00Z", "2020-01-05T00:00:01Z", "2020-01-10T00:00:00Z"],
    policy: { within: parseDuration("5d", "--keep-within") },
    keep: ["s2", "s3"],
  },
  {
    name: "keep-tag keeps every snapshot with the tag (a,b: both)",
    times: threeDays.slice(0, 4),
    extra: [{ tags: ["a", "b"] }, { tags: ["a"] }, { tags: ["b"] }, {}],
    policy: { tags: [["a", "b"]], last: 1 },
    keep: ["s0", "s3"],
  },
  {
    name: "rules combine: a snapshot is kept if any rule keeps it",
    times: threeDays,
    policy: { last: 1, daily: 3 },
    keep: ["s11", "s23", "s35"],
  },
  {
    name: "groups by host and label: each group gets its own keep-last",
    times: threeDays.slice(0, 6),
    extra: [{ host: "a" }, { host: "b" }, { host: "a" }, { host: "b" }, { host: "a", label: "/other" }, { host: "a" }],
    policy: { last: 1 },
    keep: ["s3", "s4", "s5"],
  },
  {
    name: "group-by host alone puts labels together",
    times: threeDays.slice(0, 3),
    extra: [{ label: "/x" }, { label: "/y" }, { label: "/z" }],
    policy: { last: 1 },
    groupBy: ["host"],
    keep: ["s2"],
  },
];

describe("retention rules (fixed times)", () => {
  for (const c of cases) {
    it(c.name, () => {
      expect(kept(snaps(c.times, c.extra), c.policy, c.groupBy).sort()).toEqual([...c.keep].sort());
    });
  }

  it("names every rule that keeps a snapshot", () => {
    const d = applyPolicy(snaps(threeDays), { last: 1, daily: 1, within: 5 * H, tags: [["x"]] }, ["host", "label"]);
    expect(d.find((x) => x.id === "s35")!.reasons).toEqual(["last 1", "daily 2026-11-26", "within"]);
    expect(d.find((x) => x.id === "s33")!.reasons).toEqual(["within"]);
    expect(d.find((x) => x.id === "s0")!.reasons).toEqual([]);
  });

  it("buckets are UTC hours, days, ISO weeks, months and years", () => {
    const t = new Date("2027-01-01T05:06:07Z"); // a Friday in ISO week 53 of 2026
    expect(["hourly", "daily", "weekly", "monthly", "yearly"].map((r) => bucketOf(r as any, t))).toEqual(["2027-01-01T05", "2027-01-01", "2026-W53", "2027-01", "2027"]);
  });

  it("durations: s, min, h, d, w, m, y and sums; anything else is a usage error", () => {
    expect(parseDuration("90s", "x")).toBe(90_000);
    expect(parseDuration("1h30min", "x")).toBe(1.5 * H);
    expect(parseDuration("2w", "x")).toBe(14 * D);
    expect(parseDuration("1y6mo", "x")).toBe(365 * D + 180 * D);
    expect(() => parseDuration("6m", "--keep-within")).toThrow(/--keep-within: "6m": write min for minutes or mo for months/);
    expect(() => parseDuration("30", "--keep-within")).toThrow(/--keep-within needs a duration/);
    expect(() => parseDuration("3 days", "--keep-within")).toThrow(/duration/);
  });
});
