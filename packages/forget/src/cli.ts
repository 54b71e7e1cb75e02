import { defineCommand } from "citty";
import { CairnError } from "@cairn/errors";
import { openStorage } from "@cairn/storage";
import { parseDuration } from "@cairn/prune";
import { readTrustedWriters } from "@cairn/trust";
import { renderReport } from "@cairn/prune/render";
import { forget } from "./index.js";

export default defineCommand({
  meta: { name: "forget", version: "0.1.0", description: "remove named snapshots (ids or unique prefixes); --prune also collects garbage" },
  args: {
    repo: { type: "positional", description: "repository URL: file:///path or s3://bucket/prefix", required: true },
    id: { type: "positional", description: "ID…: the snapshots to remove (full ids or unique prefixes of 4+ hex digits)", required: false },
    prune: { type: "boolean", description: "collect garbage afterwards, as cairn prune does" },
    grace: { type: "string", description: "with --prune: the grace period for marked packs", default: "1h", valueHint: "DURATION" },
    writers: { type: "string", description: "trusted writers file (for the report)", valueHint: "FILE" },
    "dry-run": { type: "boolean", alias: "n", description: "print what would be removed; change nothing" },
    json: { type: "boolean", description: "the report as one JSON object" },
    cache: { type: "string", description: "local cache directory" },
    "no-cache": { type: "boolean", description: "keep no local cache" },
  },
  async run({ args }) {
    const ids = args._.slice(1);
    if (ids.length === 0) throw new CairnError("usage", "forget needs at least one snapshot id after the repository");
    const storage = await openStorage(args.repo);
    const report = await forget(storage, {
      ids,
      pinned: readTrustedWriters(args.writers as string | undefined),
      gc: !!args.prune,
      graceMs: parseDuration(args.grace as string, "--grace"),
      dryRun: !!args["dry-run"],
      cache: args["no-cache"] ? false : (args.cache as string | undefined),
    });
    process.stdout.write(args.json ? `${JSON.stringify(report)}\n` : renderReport(report));
    return report.problems.length > 0 ? 22 : 0;
  },
});
