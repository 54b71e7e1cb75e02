import { defineCommand } from "citty";
import { CairnError, exitCodes, reportError } from "@cairn/errors";
import { packSizeFlag } from "@cairn/repository";
import { decodeFrames, stdinChunks } from "@cairn/protocol";
import { openStorage } from "@cairn/storage";
import { push } from "./index.js";

export default defineCommand({
  meta: { name: "push", version: "0.1.0", description: "sealed stream on stdin → a committed snapshot in one or more repositories" },
  args: {
    repo: { type: "positional", description: "repository URL(s): file:///path or s3://bucket/prefix (several: commit to each)", required: true },
    jobs: { type: "string", description: "pack uploads in flight per repository", default: "4" },
    json: { type: "boolean", description: "print per-repository stats as JSON" },
    "known-out": { type: "string", description: "write the known-chunk file (what every repository holds) for seal --known" },
    cache: { type: "string", description: "local cache directory (default $CAIRN_CACHE or ~/.cache/cairn)" },
    "no-cache": { type: "boolean", description: "keep no local cache" },
    "pack-size": { type: "string", description: "target pack size in bytes (default: the repository's, 32 MiB)" },
    "lock-days": { type: "string", description: "S3 Object Lock: retain every object written for N days (bucket must have Object Lock)" },
    "lock-mode": { type: "string", description: "Object Lock mode with --lock-days: COMPLIANCE (default) or GOVERNANCE" },
  },
  async run({ args }) {
    const urls = args._.length > 0 ? args._ : [args.repo];
    const jobs = positiveInt(args.jobs, "--jobs");
    const packSize = packSizeFlag(args["pack-size"]);
    const lockMode = args["lock-mode"] ?? "COMPLIANCE";
    if (lockMode !== "COMPLIANCE" && lockMode !== "GOVERNANCE") throw new CairnError("usage", `--lock-mode is COMPLIANCE or GOVERNANCE, got ${lockMode}`);
    if (args["lock-mode"] !== undefined && args["lock-days"] === undefined) throw new CairnError("usage", "--lock-mode needs --lock-days");
    const lock = args["lock-days"] !== undefined ? { days: positiveInt(args["lock-days"], "--lock-days"), mode: lockMode as "COMPLIANCE" | "GOVERNANCE" } : undefined;
    const storages = await Promise.all(urls.map((u) => openStorage(u)));
    // push copies each object into its pack: input slabs can be freed as soon as it is past them.
    const result = await push(decodeFrames(stdinChunks(), { borrow: true }), storages, {
      jobs,
      packSize,
      knownOut: args["known-out"],
      lock,
      cache: args["no-cache"] ? (false as const) : (args.cache as string | undefined),
    });
    if (args.json) {
      process.stdout.write(`${JSON.stringify({ exitCode: result.exitCode, targets: result.targets })}\n`);
    } else {
      for (const t of result.targets) {
        if (t.snapshot) process.stdout.write(urls.length > 1 ? `${t.snapshot} ${t.url}\n` : `${t.snapshot}\n`);
      }
    }
    if (result.failure) {
      // One repository, or a failure of the run itself (the known-ids file): one line, its code.
      if (urls.length === 1 || !result.targets.some((t) => t.error)) throw result.failure;
      for (const t of result.targets) if (t.error) reportError("cairn-push", new CairnError(t.error.kind as never, `${t.url}: ${t.error.message}`));
    }
    // A non-zero exit says why, even when nothing failed (cron mails stderr).
    if (result.exitCode === exitCodes.unverified) process.stderr.write("cairn-push: committed, but its completeness is unverified: raw stdin (a dump that died half-way also ends in a clean EOF; --from-command checks the command)\n");
    return result.exitCode;
  },
});

function positiveInt(text: string, flag: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new CairnError("usage", `${flag} needs a positive whole number, got ${text}`);
  return n;
}
