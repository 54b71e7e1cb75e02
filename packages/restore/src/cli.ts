import { readFileSync } from "node:fs";
import { defineCommand } from "citty";
import { CairnError, exitCodes, reportError } from "@cairn/errors";
import { writeAll } from "@cairn/protocol";
import { OWNER_KEY_ENV, PASSPHRASE_ENV, obtainPassphrase, ownerKeyFiles, readPassphraseFile, readTrustedWriters } from "@cairn/keys";
import { isAgeFile } from "@cairn/age";
import { readOwnerSecrets } from "@cairn/seal";
import { extractToDir, extractToStdout, extractToTar, removeTempFiles } from "@cairn/snapshot";
import { positionals, repeated, splitDashDash, wholeNumber } from "@cairn/errors";
import { includePatterns, plainStream } from "./index.js";
import { CACHE_ARGS, chooseSnapshot, SNAPSHOT_FILTER_ARGS } from "@cairn/pull";
import { openStorage } from "@cairn/storage";

const args = {
  repo: { type: "positional", required: true, description: "repository URL: file:///path or s3://bucket/prefix" },
  snapshot: { type: "positional", required: true, description: "id, unique id prefix, latest, or a date/time (newest at or before it); then PATHs to restore only those (after --, a PATH may start with -)" },
  identity: { type: "string", alias: "i", description: `the owner key (repeatable; default $${OWNER_KEY_ENV})`, valueHint: "OWNER_KEY" },
  extract: { type: "string", alias: "x", description: "restore into DIR", valueHint: "DIR" },
  tar: { type: "boolean", description: "write a tar stream to stdout" },
  stdout: { type: "boolean", description: "write the bytes of one file entry (the PATH given, or the only entry) to stdout" },
  overwrite: { type: "boolean", description: "-x: replace existing files" },
  "no-same-owner": { type: "boolean", description: "-x: files belong to you even as root, setuid/setgid bits dropped (for a snapshot you do not trust with root's files)" },
  "passphrase-file": { type: "string", description: "the owner key's passphrase, first line of FILE (else $CAIRN_PASSPHRASE, else the terminal)", valueHint: "FILE" },
  writers: { type: "string", description: "the trusted writers file (default $CAIRN_WRITERS or ~/.config/cairn/writers)", valueHint: "FILE" },
  "repo-key": { type: "string", description: "the repository's key file, for an owner key that carries no id key", valueHint: "FILE" },
  "trust-repo-key": { type: "boolean", description: "accept the id key of --repo-key although no owner key pins its fingerprint" },
  ...SNAPSHOT_FILTER_ARGS,
  jobs: { type: "string", description: "ranged GETs in flight (default 4); from S3, also reads jobs − 1 packs ahead of restore order (36 MiB of memory each)", valueHint: "N" },
  ...CACHE_ARGS,
} as const;


/** SIGINT/SIGTERM: remove the files being written, say so in one line, exit "interrupted" (as snapshot -x does). */
function onSignals(): void {
  const stop = (signal: NodeJS.Signals) => {
    removeTempFiles();
    process.exit(reportError("cairn-restore", new CairnError("interrupted", `stopped by ${signal}; nothing half-written was left behind`)));
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

/**
 * The owner key is read twice (seal -d's secrets here, pull's restore order on the worker): a
 * passphrase-protected one is asked for once, here, and handed to both.
 */
async function askOnce(files: string[]): Promise<string | undefined> {
  if (process.env[PASSPHRASE_ENV]) return undefined;
  const locked = files.find((f) => {
    try {
      return isAgeFile(readFileSync(f));
    } catch {
      return false; // reading it again reports the problem
    }
  });
  return locked === undefined ? undefined : obtainPassphrase(`Enter passphrase for owner key ${locked}: `);
}

export default defineCommand({
  meta: {
    name: "restore",
    version: "0.1.0",
    description: "pull | seal -d | chunk -d | snapshot -x in one process: the same stages, frames passed in memory",
  },
  args,
  async run({ args: a, rawArgs }) {
    // Words after -- are arguments too (a PATH that starts with -), as pull reads them.
    const { own, command: afterDashDash } = splitDashDash(rawArgs);
    const [repo, selector, ...paths] = [...positionals(own, args), ...afterDashDash];
    const usage = (m: string) => new CairnError("usage", `${m} (see --help)`);
    if (!repo || !selector) throw usage("give a repository and a snapshot");
    const outputs = [a.extract !== undefined, a.tar, a.stdout].filter(Boolean).length;
    if (outputs !== 1) throw usage("give exactly one of -x DIR, --tar or --stdout");
    if (a.stdout && paths.length > 1) throw usage("--stdout writes one entry: give at most one PATH");
    const noSameOwner = a["no-same-owner"] === true || (a as Record<string, unknown>)["same-owner"] === false; // citty reads --no-X as X = false
    if (a.overwrite && a.extract === undefined) throw usage("--overwrite applies to -x");
    if (noSameOwner && a.extract === undefined) throw usage("--no-same-owner applies to -x (a tar stream's owners are for its reader to take or not)");
    if (!a.stdout && a.tar && process.stdout.isTTY) throw usage("refusing to write a tar stream to a terminal");
    const identityFiles = ownerKeyFiles(repeated(own, ["-i", "--identity"]));
    if (identityFiles.length === 0) throw new CairnError("usage", `restore order lives in the encrypted manifest: give the owner key with -i FILE (or set ${OWNER_KEY_ENV})`);
    const jobs = wholeNumber(a.jobs, "--jobs", 1, 1024);
    const tags = repeated(own, ["--tag"]).flatMap((t) => t.split(",")).filter(Boolean);

    const passphrase = a["passphrase-file"] ? readPassphraseFile(a["passphrase-file"]) : await askOnce(identityFiles);
    const secrets = await readOwnerSecrets(identityFiles, { passphrase, repoKey: a["repo-key"], trustRepoKey: a["trust-repo-key"] });
    const trusted = readTrustedWriters(a.writers);
    // `latest` or a date → the newest snapshot a pinned writer signed, chosen here so that the
    // warnings about what was skipped reach stderr even when the restore then fails.
    const cache = a["no-cache"] ? (false as const) : a.cache;
    const chosen = await chooseSnapshot(await openStorage(repo), undefined, selector, {
      host: a.host, label: a.label, tags, cache, trusted, warn: (m) => process.stderr.write(`cairn-restore: warning: ${m}\n`),
    });
    const frames = plainStream(repo, chosen.id, {
      ...secrets,
      trusted,
      identity: identityFiles[0],
      passphrase,
      jobs,
      paths,
      host: a.host,
      label: a.label,
      tags,
      cache,
    });

    onSignals();
    const warn = (m: string) => process.stderr.write(`cairn-restore: ${m}\n`);
    if (a.stdout) await writeAll(extractToStdout(frames, paths[0], warn));
    else if (a.tar) await writeAll(extractToTar(frames, { include: includePatterns(paths), warn }));
    else await extractToDir(frames, a.extract!, { include: includePatterns(paths), overwrite: a.overwrite, noSameOwner, warn });
    return exitCodes.ok;
  },
});
