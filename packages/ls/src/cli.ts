import { defineCommand, type ArgsDef } from "citty";
import { CairnError, positionals, splitDashDash } from "@cairn/errors";
import { openStorage } from "@cairn/storage";
import { CACHE_ARGS, repeatedTags, SNAPSHOT_FILTER_ARGS } from "@cairn/pull";
import { formatRows, listSnapshotRows } from "./index.js";
import { readTrustedWriters } from "@cairn/trust";

const argDefs = {
  repo: { type: "positional", description: "repository URL: file:///path or s3://bucket/prefix", required: true },
  snapshot: { type: "positional", description: "a snapshot (id, prefix, latest, date): list its files (needs -i)", required: false },
  path: { type: "positional", description: "with SNAPSHOT: only the entries at or under this path", required: false },
  identity: { type: "string", alias: "i", description: "owner key file, to list files (default $CAIRN_OWNER_KEY)" },
  "passphrase-file": { type: "string", description: "with -i: the owner key's passphrase, first line of FILE (else $CAIRN_PASSPHRASE, else the terminal)", valueHint: "FILE" },
  "repo-key": { type: "string", description: "with -i: the repository's key file, for an owner key that carries no id key", valueHint: "FILE" },
  "trust-repo-key": { type: "boolean", description: "accept the id key of --repo-key although no owner key pins its fingerprint" },
  writers: { type: "string", description: "the trusted writers file (default $CAIRN_WRITERS or ~/.config/cairn/writers): snapshots none of them signed are marked NOT TRUSTED; with -i, latest or a date picks among those they signed", valueHint: "FILE" },
  ...SNAPSHOT_FILTER_ARGS,
  json: { type: "boolean", description: "one JSON object per line" },
  ...CACHE_ARGS,
} satisfies ArgsDef;

export default defineCommand({
  meta: { name: "ls", version: "0.1.0", description: "list a repository's snapshots (no key), or the files in one (-i owner key)" },
  args: argDefs,
  async run({ args, rawArgs }) {
    // PATH as positionals() reads it: citty drops a word like -5 (a file named "-5"), which would
    // list the whole snapshot. A word after -- counts too.
    const { own, command: afterDashDash } = splitDashDash(rawArgs);
    const path = [...positionals(own, argDefs), ...afterDashDash][2];
    const storage = await openStorage(args.repo);
    const tags = repeatedTags(rawArgs);
    const filter = { host: args.host, label: args.label, tags, cache: args["no-cache"] ? (false as const) : (args.cache as string | undefined) };
    if (args.snapshot !== undefined) {
      // Loaded only here: listing snapshots loads nothing of @cairn/keys (test/repo-keyless.test.ts).
      const { OWNER_KEY_ENV, ownerKeyFiles } = await import("@cairn/keys/env");
      const identity = ownerKeyFiles(args.identity ? [args.identity] : [])[0];
      if (!identity) throw new CairnError("usage", `file names live in the encrypted manifest: give the owner key with -i FILE (or set ${OWNER_KEY_ENV})`);
      const { listFiles } = await import("./files.js");
      try {
        await listFiles(storage, args.snapshot, {
          ...filter, identity, path, json: args.json === true, passphraseFile: args["passphrase-file"], writers: args.writers,
          repoKey: args["repo-key"] as string | undefined, trustRepoKey: args["trust-repo-key"] === true,
        });
      } catch (err) {
        // `cairn ls -i … | head` stops reading on purpose: the listing ends quietly, as without -i.
        if (err instanceof CairnError && err.kind === "io" && /broken pipe/.test(err.message)) return;
        throw err;
      }
      return;
    }
    const rows = await listSnapshotRows(storage, { ...filter, trusted: readTrustedWriters(args.writers) });
    process.stdout.write(args.json ? rows.map((r) => JSON.stringify(r) + "\n").join("") : formatRows(rows));
  },
});

