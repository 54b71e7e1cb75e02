import { defineCommand } from "citty";
import { CairnError, repeated, splitDashDash } from "@cairn/errors";
import { openStorage } from "@cairn/storage";
import { DEFAULT_REPACK_THRESHOLD, prune } from "./index.js";
import { parseDuration } from "./duration.js";
import { readTrustedWriters } from "@cairn/trust";
import { renderReport } from "./render.js";
import type { GroupKey, Policy } from "./retention.js";

export default defineCommand({
  meta: { name: "prune", version: "0.1.0", description: "apply a retention policy to a repository's snapshots, then collect garbage (no key needed)" },
  args: {
    repo: { type: "positional", description: "repository URL: file:///path or s3://bucket/prefix", required: true },
    "keep-last": { type: "string", description: "keep the N newest snapshots of each group", valueHint: "N" },
    "keep-hourly": { type: "string", description: "keep the newest snapshot of each of the last N hours that have one", valueHint: "N" },
    "keep-daily": { type: "string", description: "… of each of the last N days (UTC)", valueHint: "N" },
    "keep-weekly": { type: "string", description: "… of each of the last N ISO weeks", valueHint: "N" },
    "keep-monthly": { type: "string", description: "… of each of the last N months", valueHint: "N" },
    "keep-yearly": { type: "string", description: "… of each of the last N years", valueHint: "N" },
    "keep-within": { type: "string", description: "keep every snapshot less than this older than the group's newest (30d, 12h, 2w, 6mo, 1y)", valueHint: "DURATION" },
    "keep-tag": { type: "string", description: "keep snapshots with this tag (a,b: all of them); repeatable", valueHint: "TAGS" },
    "group-by": { type: "string", description: "group snapshots by host, label, tags (comma-separated; empty: one group)", default: "host,label" },
    writers: { type: "string", description: "trusted writers file (default $CAIRN_WRITERS or ~/.config/cairn/writers)", valueHint: "FILE" },
    "max-skew": { type: "string", description: "snapshots dated further ahead of the store's clock are flagged, not counted", default: "1h", valueHint: "DURATION" },
    grace: { type: "string", description: "delete a marked pack only when its mark is this old (store time)", default: "1h", valueHint: "DURATION" },
    "repack-threshold": { type: "string", description: "repack a pack when at least this share of it is garbage (percent)", default: String(DEFAULT_REPACK_THRESHOLD * 100), valueHint: "PERCENT" },
    "extend-locks": { type: "string", description: "keep Object Lock retention of kept snapshots' packs at least DAYS ahead", valueHint: "DAYS" },
    "dry-run": { type: "boolean", alias: "n", description: "print what would be removed and why each snapshot is kept; change nothing" },
    json: { type: "boolean", description: "the report as one JSON object" },
    jobs: { type: "string", description: "requests in flight", default: "8" },
    cache: { type: "string", description: "local cache directory (default $CAIRN_CACHE or ~/.cache/cairn)" },
    "no-cache": { type: "boolean", description: "keep no local cache" },
  },
  async run({ args, rawArgs }) {
    const policy: Policy = {};
    for (const rule of ["last", "hourly", "daily", "weekly", "monthly", "yearly"] as const) {
      const v = args[`keep-${rule}`];
      // 0 keeps nothing by that rule: alone, it would remove every snapshot (restic reads 0 as no rule).
      if (v !== undefined) policy[rule] = count(v as string, `--keep-${rule}`, 1);
    }
    if (args["keep-within"] !== undefined) {
      policy.within = parseDuration(args["keep-within"] as string, "--keep-within");
      if (policy.within <= 0) throw new CairnError("usage", "--keep-within needs a duration above 0 (0 keeps nothing by that rule)");
    }
    // citty keeps only the last value of a repeated flag.
    const tags = repeated(splitDashDash(rawArgs).own, ["--keep-tag"]);
    if (tags.length > 0) policy.tags = tags.map((t) => t.split(",").filter(Boolean));
    const groupBy = (args["group-by"] as string).split(",").filter(Boolean) as GroupKey[];
    for (const g of groupBy) if (!["host", "label", "tags"].includes(g)) throw new CairnError("usage", `--group-by takes host, label and tags, got ${g}`);
    const threshold = Number(args["repack-threshold"]);
    if (!Number.isFinite(threshold) || threshold < 0) throw new CairnError("usage", `--repack-threshold needs a percentage, got ${args["repack-threshold"]}`);
    const storage = await openStorage(args.repo);
    const report = await prune(storage, {
      policy,
      groupBy,
      pinned: readTrustedWriters(args.writers as string | undefined),
      maxSkewMs: parseDuration(args["max-skew"] as string, "--max-skew"),
      graceMs: parseDuration(args.grace as string, "--grace"),
      repackThreshold: threshold / 100,
      dryRun: !!args["dry-run"],
      jobs: count(args.jobs as string, "--jobs", 1),
      cache: args["no-cache"] ? false : (args.cache as string | undefined),
      extendLocksDays: args["extend-locks"] !== undefined ? count(args["extend-locks"] as string, "--extend-locks", 1) : undefined,
      log: args.json ? undefined : (line) => process.stderr.write(`cairn-prune: ${line}\n`),
    });
    process.stdout.write(args.json ? `${JSON.stringify(report)}\n` : renderReport(report));
    return report.problems.length > 0 ? 22 : 0;
  },
});

function count(text: string, flag: string, min = 0): number {
  const n = text.trim() === "" ? NaN : Number(text);
  if (!Number.isInteger(n) || n < min) throw new CairnError("usage", `${flag} needs a whole number${min > 0 ? " ≥ 1" : ""}, got ${text}${n === 0 && flag.startsWith("--keep-") ? " (0 keeps nothing by that rule; to remove snapshots by name use cairn forget)" : ""}`);
  return n;
}
