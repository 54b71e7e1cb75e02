import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { describeSubset, parseDuration, parseSubset, selects } from "../src/subset.js";

const packIds = Array.from({ length: 500 }, (_, i) => createHash("sha256").update(`pack ${i}`).digest("hex"));

describe("--read-data subsets", () => {
  it("reads n/t, p%, all and nothing", () => {
    expect(parseSubset(undefined)).toBeUndefined();
    expect(parseSubset(true)).toEqual({ kind: "all" });
    expect(parseSubset("all")).toEqual({ kind: "all" });
    expect(parseSubset("1/7")).toEqual({ kind: "group", n: 1, t: 7 });
    expect(parseSubset("10%")).toEqual({ kind: "percent", p: 10 });
    expect(parseSubset("2.5%")).toEqual({ kind: "percent", p: 2.5 });
    expect(parseSubset("100%")).toEqual({ kind: "all" });
  });

  it("refuses what it cannot read, as a usage error", () => {
    for (const bad of ["0/7", "8/7", "1/0", "0%", "101%", "ten", "1/7/2"]) {
      expect(() => parseSubset(bad)).toThrow(expect.objectContaining({ kind: "usage" }));
    }
  });

  it("the t groups of n/t split the packs: each pack in exactly one group", () => {
    const t = 7;
    const counts = packIds.map((id) => Array.from({ length: t }, (_, n) => selects({ kind: "group", n: n + 1, t }, id, 0)).filter(Boolean).length);
    expect(counts.every((c) => c === 1)).toBe(true);
    // Roughly even: SHA-256 ids spread over the groups.
    const sizes = Array.from({ length: t }, (_, n) => packIds.filter((id) => selects({ kind: "group", n: n + 1, t }, id, 0)).length);
    expect(Math.min(...sizes)).toBeGreaterThan(packIds.length / t / 2);
  });

  it("p% windows rotate with the run counter and cover every pack in ⌈100/p⌉ runs", () => {
    for (const p of [10, 15, 33, 50]) {
      const runs = Math.ceil(100 / p);
      const seen = new Set<string>();
      for (let k = 0; k < runs; k++) for (const id of packIds) if (selects({ kind: "percent", p }, id, k)) seen.add(id);
      expect(seen.size).toBe(packIds.length);
    }
    // Consecutive 10% windows do not overlap.
    const w0 = packIds.filter((id) => selects({ kind: "percent", p: 10 }, id, 0));
    const w1 = packIds.filter((id) => selects({ kind: "percent", p: 10 }, id, 1));
    expect(w0.filter((id) => w1.includes(id))).toEqual([]);
    expect(describeSubset({ kind: "percent", p: 10 }, 1)).toMatch(/window 2 \(10\.0–20\.0%/);
  });

  it("reads durations", () => {
    expect(parseDuration("20min")).toBe(20 * 60_000);
    expect(parseDuration("1h30min")).toBe(90 * 60_000);
    // A bare m meant minutes here and months in prune: refused in both now.
    expect(() => parseDuration("20m")).toThrow(/write min for minutes or mo for months/);
    expect(parseDuration("90s")).toBe(90_000);
    expect(() => parseDuration("20")).toThrow(expect.objectContaining({ kind: "usage" }));
    expect(() => parseDuration("soon")).toThrow(expect.objectContaining({ kind: "usage" }));
  });
});
