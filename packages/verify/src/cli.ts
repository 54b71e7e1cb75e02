import { defineCommand, parseArgs, type ArgsDef } from "citty";
import { CairnError } from "@cairn/errors";
import { stdinChunks } from "@cairn/protocol";
import { openStorage } from "@cairn/storage";
import { readTrustedWriters } from "@cairn/trust";
import { DEFAULT_CLOCK_SKEW_MS, verifyRepository } from "./repository.js";
import { verifyStream } from "./stream.js";
import { parseDuration, parseSubset } from "./subset.js";
import type { Report } from "./report.js";

const SUBSET = /^(all|\d+\/\d+|\d+(\.\d+)?%)$/;

/**
 * `--read-data` takes an optional value (all packs when none): a bare `--read-data` followed by
 * anything but a subset (another flag, the repository) becomes `--read-data=all` before parsing.
 */
export function normalizeReadData(rawArgs: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < rawArgs.length; i++) {
    const a = rawArgs[i];
    if (a === "--") {
      out.push(...rawArgs.slice(i));
      break;
    }
    if (a === "--read-data" && !(i + 1 < rawArgs.length && SUBSET.test(rawArgs[i + 1]))) out.push("--read-data=all");
    else out.push(a);
  }
  return out;
}

const argsDef = {
  repo: { type: "positional", description: "repository URL (file:///path, s3://bucket/prefix), or - for a cairn stream on stdin", required: false },
  writers: { type: "string", description: "trusted writers file (default $CAIRN_WRITERS or ~/.config/cairn/writers)", valueHint: "FILE" },
  "read-data": { type: "string", description: "download and hash packs: all (no value), n/t (group n of t, e.g. 1/7), or p% (a window that rotates each run)", valueHint: "[SUBSET]" },
  "max-duration": { type: "string", description: "stop starting packs after this long (e.g. 20min, 1h); the next run resumes", valueHint: "TIME" },
  "clock-skew": { type: "string", description: "snapshots dated further than this in the future are flagged", default: "15min", valueHint: "TIME" },
  identity: { type: "string", alias: "i", description: "owner key file: also open and authenticate objects and manifests", valueHint: "FILE" },
  "passphrase-file": { type: "string", description: "with -i: the owner key's passphrase, first line of FILE (else $CAIRN_PASSPHRASE, else the terminal)", valueHint: "FILE" },
  "restore-test": { type: "string", description: "restore this snapshot to nowhere and check every file's digest (needs -i)", valueHint: "SNAPSHOT" },
  json: { type: "boolean", description: "the report as one JSON object" },
  jobs: { type: "string", description: "requests in flight", default: "4" },
  cache: { type: "string", description: "local cache directory (resume state; default $CAIRN_CACHE or ~/.cache/cairn)" },
  "no-cache": { type: "boolean", description: "keep no local state" },
} satisfies ArgsDef;

export default defineCommand({
  meta: { name: "verify", version: "0.1.0", description: "prove that a repository's snapshots are whole and restorable (or check a stream on stdin: -)" },
  args: argsDef,
  async run({ rawArgs }) {
    const args = parseArgs<typeof argsDef>(normalizeReadData(rawArgs), argsDef);
    const repo = args.repo as string | undefined;
    const readData = args["read-data"] as string | undefined;
    if (!repo) throw new CairnError("usage", "verify needs a repository URL, or - to check a stream on stdin");
    // The flag check took the word after a bare --read-data for its value; here it is the repository.
    if (args._.length > 1) throw new CairnError("usage", `unexpected argument ${args._[1]} (see --help)`);
    const jobs = Number(args.jobs);
    if (!Number.isInteger(jobs) || jobs < 1) throw new CairnError("usage", `--jobs needs a positive whole number, got ${args.jobs}`);
    const identity = args.identity ? ([] as string[]).concat(args.identity as string) : undefined;
    const trusted = readTrustedWriters(args.writers);
    let report: Report;
    if (repo === "-") {
      if (readData !== undefined || args["max-duration"] || args["restore-test"]) throw new CairnError("usage", "--read-data, --max-duration and --restore-test apply to a repository, not to a stream on stdin");
      report = await verifyStream(stdinChunks(), { trusted, identity, passphrase: await passphraseIn(args["passphrase-file"]) });
    } else {
      const storage = await openStorage(repo);
      report = await verifyRepository(storage, {
        passphrase: await passphraseIn(args["passphrase-file"]),
        trusted,
        readData: parseSubset(readData === "" ? true : readData),
        maxDurationMs: args["max-duration"] ? parseDuration(args["max-duration"], "--max-duration") : undefined,
        clockSkewMs: args["clock-skew"] ? parseDuration(args["clock-skew"], "--clock-skew") : DEFAULT_CLOCK_SKEW_MS,
        jobs,
        cache: args["no-cache"] ? false : (args.cache as string | undefined),
        identity,
        restoreTest: args["restore-test"],
        progress: process.stderr.isTTY ? (done, total) => process.stderr.write(`\rcairn-verify: packs ${done}/${total}${done === total ? "\n" : ""}`) : undefined,
      });
    }
    if (process.stderr.isTTY && !report.complete) process.stderr.write("\n");
    process.stdout.write(args.json ? `${JSON.stringify(report)}\n` : report.format());
    return report.ok ? 0 : 22;
  },
});

/** The passphrase in --passphrase-file, if one is named; @cairn/keys loads only then (keyless verify never loads it). */
async function passphraseIn(file: string | undefined): Promise<string | undefined> {
  if (!file) return undefined;
  const { readPassphraseFile } = await import("@cairn/keys");
  return readPassphraseFile(file);
}
