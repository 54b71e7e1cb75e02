// Which packs `--read-data` reads (docs/verify.md, "Reading data"):
//   --read-data          every pack
//   --read-data n/t      group n of t: the packs whose id's first 4 bytes (u32) mod t = n − 1
//   --read-data p%       a window of p % of the id space, [k·p, (k+1)·p) mod 100 %, where k is
//                        a run counter kept in the local cache; it advances when a run finishes
//                        its window, so ⌈100/p⌉ runs cover every pack.
// Pack ids are SHA-256 hashes, so both split the packs evenly and deterministically.
import { CairnError, parseDuration as parseDurationOf } from "@cairn/errors";

export type Subset = { kind: "all" } | { kind: "group"; n: number; t: number } | { kind: "percent"; p: number };

export function parseSubset(text: string | boolean | undefined): Subset | undefined {
  if (text === undefined || text === false) return undefined;
  if (text === true || text === "" || text === "all") return { kind: "all" };
  const group = /^(\d+)\/(\d+)$/.exec(text);
  if (group) {
    const n = Number(group[1]);
    const t = Number(group[2]);
    if (t < 1 || n < 1 || n > t) throw new CairnError("usage", `--read-data ${text}: n/t needs 1 ≤ n ≤ t`);
    return { kind: "group", n, t };
  }
  const pct = /^(\d+(?:\.\d+)?)%$/.exec(text);
  if (pct) {
    const p = Number(pct[1]);
    if (!(p > 0 && p <= 100)) throw new CairnError("usage", `--read-data ${text}: a percentage must be above 0 and at most 100`);
    return p === 100 ? { kind: "all" } : { kind: "percent", p };
  }
  throw new CairnError("usage", `--read-data takes nothing, n/t (e.g. 1/7) or a percentage (e.g. 10%), not "${text}"`);
}

/** A stable name for the subset: resume state applies only to a run with the same one. */
export function subsetName(s: Subset): string {
  return s.kind === "all" ? "all" : s.kind === "group" ? `${s.n}/${s.t}` : `${s.p}%`;
}

/** The u32 in the first 4 bytes of a hex pack id. */
function leading(packId: string): number {
  return parseInt(packId.slice(0, 8), 16);
}

/** Whether the subset (with run counter k for percentages) selects this pack. */
export function selects(s: Subset, packId: string, k: number): boolean {
  switch (s.kind) {
    case "all":
      return true;
    case "group":
      return leading(packId) % s.t === s.n - 1;
    case "percent": {
      // Positions in the id space in units of 1/2^32; the window may wrap around.
      const span = 2 ** 32;
      const width = (s.p / 100) * span;
      const start = (((k * s.p) % 100) / 100) * span;
      const x = leading(packId);
      const rel = (x - start + span) % span;
      return rel < width;
    }
  }
}

export function describeSubset(s: Subset, k: number): string {
  switch (s.kind) {
    case "all":
      return "all packs";
    case "group":
      return `group ${s.n} of ${s.t}`;
    case "percent": {
      const from = (k * s.p) % 100;
      const to = (from + s.p) % 100 || 100;
      return `${s.p}% window ${k + 1} (${from.toFixed(1)}–${to.toFixed(1)}% of the id space)`;
    }
  }
}

/** "20min", "1h30min", "90s", "2h" → milliseconds, more than 0 (@cairn/errors parseDuration). */
export function parseDuration(text: string, flag = "a duration"): number {
  const ms = parseDurationOf(text, flag);
  if (ms <= 0) throw new CairnError("usage", `${flag} must be longer than 0, got ${JSON.stringify(text)}`);
  return ms;
}
