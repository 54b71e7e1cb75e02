import { defineCommand } from "citty";
import { CairnError, exitCodes, reportError } from "@cairn/errors";
import { readWriterKey, WRITER_KEY_ENV, writerKeyFile } from "@cairn/keys";
import { DEFAULT_PARAMS, MAX_REF_WINDOW, checkParams, parseSize } from "@cairn/chunk";
import { readKnownFile } from "@cairn/seal";
import { packSizeFlag } from "@cairn/push";
import { openStorage } from "@cairn/storage";
import { isRepositoryUrl, positionals, repeated, splitDashDash, wholeNumber } from "@cairn/errors";
import { backup, type Source } from "./index.js";

const TOOL = "cairn-backup";

const args = {
  repo: { type: "positional", required: true, description: "repository URL(s) (file:///path, s3://bucket/prefix), then the paths to back up" },
  key: { type: "string", alias: "k", description: `the writer key (default $${WRITER_KEY_ENV})`, valueHint: "WRITER_KEY" },
  // snapshot
  tar: { type: "boolean", description: "back up a tar stream read from stdin" },
  stdin: { type: "boolean", description: "back up raw stdin as one entry (--name); marked completeness-unverified" },
  "from-command": { type: "boolean", description: "back up the stdout of the command after -- as one entry (--name); fails if it fails" },
  name: { type: "string", description: "entry path for --stdin / --from-command" },
  label: { type: "string", description: "source label retention groups by (default: the paths given)" },
  tag: { type: "string", description: "a tag for the snapshot (repeatable)" },
  exclude: { type: "string", description: "skip paths matching this gitignore-style pattern (repeatable)" },
  "one-file-system": { type: "boolean", description: "do not descend into other file systems" },
  // chunk
  min: { type: "string", description: `minimum chunk size (default ${DEFAULT_PARAMS.min / 1024}K)`, valueHint: "SIZE" },
  avg: { type: "string", description: `average chunk size, a power of two (default ${DEFAULT_PARAMS.avg / 1048576}M)`, valueHint: "SIZE" },
  max: { type: "string", description: `maximum chunk size (default ${DEFAULT_PARAMS.max / 1048576}M)`, valueHint: "SIZE" },
  "ref-window": { type: "string", description: "reference window (default 64M)", valueHint: "SIZE" },
  // seal
  level: { type: "string", description: "zstd level, -7…19 (default 3)", valueHint: "N" },
  workers: { type: "string", description: "worker threads for compression and encryption (default: the cores, at most 4)", valueHint: "N" },
  known: { type: "string", description: "ids the repositories hold (a file --known-out wrote): not sealed again (default: what every repository's index holds when the backup starts)", valueHint: "FILE" },
  // push
  jobs: { type: "string", description: "pack uploads in flight per repository (default 4)", valueHint: "N" },
  json: { type: "boolean", description: "print per-repository stats as JSON (as push --json)" },
  "known-out": { type: "string", description: "write the known-chunk file (what every repository holds) for the next --known", valueHint: "FILE" },
  cache: { type: "string", description: "local cache directory (default $CAIRN_CACHE or ~/.cache/cairn)" },
  "no-cache": { type: "boolean", description: "keep no local cache" },
  "pack-size": { type: "string", description: "target pack size in bytes (default: the repository's)" },
} as const;


export default defineCommand({
  meta: {
    name: "backup",
    version: "0.1.0",
    description: "snapshot | chunk | seal | push in one process: the same stages, frames passed in memory",
  },
  args,
  async run({ args: a, rawArgs }) {
    const { own, command } = splitDashDash(rawArgs);
    const given = positionals(own, args);
    const urls = given.filter(isRepositoryUrl);
    const paths = given.filter((p) => !isRepositoryUrl(p));
    const usage = (m: string) => new CairnError("usage", `${m} (see --help)`);
    if (urls.length === 0) throw usage("give at least one repository URL (file:///path or s3://bucket/prefix)");

    const sources = [paths.length > 0, a.tar, a.stdin, a["from-command"]].filter(Boolean).length;
    if (sources !== 1) throw usage("give exactly one source: paths, --tar, --stdin or --from-command");
    if ((a.stdin || a["from-command"]) && !a.name) throw usage(`${a.stdin ? "--stdin" : "--from-command"} needs --name NAME for the entry`);
    if (!a["from-command"] && command.length) throw usage('arguments after "--" need --from-command');
    const exclude = repeated(own, ["--exclude"]);
    if (!paths.length && (exclude.length || a["one-file-system"])) throw usage("--exclude and --one-file-system apply to paths");
    const source: Source = a.tar
      ? { kind: "tar" }
      : a.stdin
        ? { kind: "stdin", name: a.name! }
        : a["from-command"]
          ? { kind: "command", command, name: a.name! }
          : { kind: "paths", paths, exclude, oneFileSystem: a["one-file-system"] };

    const params = {
      ...(a.min !== undefined && { min: parseSize(a.min, "--min") }),
      ...(a.avg !== undefined && { avg: parseSize(a.avg, "--avg") }),
      ...(a.max !== undefined && { max: parseSize(a.max, "--max") }),
    };
    checkParams({ ...DEFAULT_PARAMS, ...params });
    const refWindow = a["ref-window"] !== undefined ? parseSize(a["ref-window"], "--ref-window") : undefined;
    if (refWindow !== undefined && refWindow > MAX_REF_WINDOW) throw usage(`--ref-window must be at most ${MAX_REF_WINDOW / 1048576}M: readers refuse larger windows`);
    const level = wholeNumber(a.level, "--level", -7, 19);
    const workers = wholeNumber(a.workers, "--workers", 1, 64);
    const jobs = wholeNumber(a.jobs, "--jobs", 1, 1024);
    const packSize = packSizeFlag(a["pack-size"]);

    const keyPath = writerKeyFile(a.key);
    if (!keyPath) throw new CairnError("key", `no writer key: give -k WRITER_KEY or set ${WRITER_KEY_ENV}`);
    const key = await readWriterKey(keyPath);
    const known = a.known ? await readKnownFile(a.known) : undefined;
    const storages = await Promise.all(urls.map((u) => openStorage(u)));

    for (const signal of ["SIGINT", "SIGTERM"] as const) {
      process.once(signal, () => process.exit(reportError(TOOL, new CairnError("interrupted", `stopped by ${signal} (a re-run reuses the packs already uploaded)`))));
    }
    const result = await backup(storages, {
      key,
      source,
      start: { tags: repeated(own, ["--tag"]), label: a.label },
      params,
      refWindow,
      level,
      workers,
      known,
      push: { jobs, packSize, knownOut: a["known-out"], cache: a["no-cache"] ? false : a.cache, warn: (m) => process.stderr.write(`cairn-backup: warning: ${m}\n`) },
    });

    if (a.json) {
      process.stdout.write(`${JSON.stringify({ exitCode: result.exitCode, targets: result.targets })}\n`);
    } else {
      for (const t of result.targets) if (t.snapshot) process.stdout.write(urls.length > 1 ? `${t.snapshot} ${t.url}\n` : `${t.snapshot}\n`);
    }
    if (result.failure) {
      // One repository, or a failure of the run itself (the known-ids file): one line, its code.
      if (urls.length === 1 || !result.targets.some((t) => t.error)) throw result.failure;
      for (const t of result.targets) if (t.error) reportError(TOOL, new CairnError(t.error.kind as never, `${t.url}: ${t.error.message}`));
    }
    if (result.exitCode === exitCodes.partial) process.stderr.write(`${TOOL}: committed, but some entries were not read completely (see above)\n`);
    if (result.exitCode === exitCodes.unverified) process.stderr.write(`${TOOL}: committed, but its completeness is unverified: raw stdin (a dump that died half-way also ends in a clean EOF; --from-command checks the command)\n`);
    return result.exitCode;
  },
});
