import { readFile } from "node:fs/promises";
import { defineCommand, type ArgsDef } from "citty";
import { CairnError, positionals, splitDashDash } from "@cairn/errors";
import { writeFrames, type Frame } from "@cairn/protocol";
import { openStorage } from "@cairn/storage";
import { LocalCache, countingStorage, decodeKnown, loadIndex, readConfig } from "@cairn/repository";
import { needKeyError, openSnapshot, pullRaw } from "./index.js";
import { CACHE_ARGS, repeatedTags, SNAPSHOT_FILTER_ARGS } from "./tags.js";
import { readTrustedWriters } from "@cairn/trust";

const argDefs = {
  repo: { type: "positional", description: "repository URL: file:///path or s3://bucket/prefix", required: true },
  snapshot: { type: "positional", description: "id, unique id prefix, latest, or a date/time (newest at or before it)", required: true },
  path: { type: "positional", description: "PATH…: with -i, only the entries at or under these paths", required: false },
  raw: { type: "boolean", description: "every object of the snapshot in any order, for replication (no key)" },
  identity: { type: "string", alias: "i", description: "owner key file: restore order, and only what PATHs need (default $CAIRN_OWNER_KEY, unless --raw)" },
  have: { type: "string", description: "with --raw: what the destination holds, as a known-ids file or its repository URL (file://…, s3://…); those objects go as references only" },
  "passphrase-file": { type: "string", description: "with -i: the owner key's passphrase, first line of FILE (else $CAIRN_PASSPHRASE, else the terminal)", valueHint: "FILE" },
  writers: { type: "string", description: "with -i: the trusted writers file (default $CAIRN_WRITERS or ~/.config/cairn/writers); latest or a date picks among the snapshots they signed", valueHint: "FILE" },
  ...SNAPSHOT_FILTER_ARGS,
  jobs: { type: "string", description: "ranged GETs in flight; with -i from S3, also reads jobs − 1 packs ahead of restore order (36 MiB of memory each)", default: "4" },
  ...CACHE_ARGS,
  stats: { type: "boolean", description: "print requests and bytes read as JSON on stderr at the end" },
} satisfies ArgsDef;

export default defineCommand({
  meta: { name: "pull", version: "0.1.0", description: "a snapshot in a repository → sealed stream on stdout (restore order with -i, any order with --raw)" },
  args: argDefs,
  async run({ args, rawArgs }) {
    // The PATHs as positionals() reads them: citty drops a word like -5 (a file named "-5"),
    // which would pull the whole snapshot. Words after -- are PATHs too.
    const { own, command: afterDashDash } = splitDashDash(rawArgs);
    const [, , ...paths] = [...positionals(own, argDefs), ...afterDashDash];
    const jobs = Number(args.jobs);
    if (!Number.isInteger(jobs) || jobs < 1) throw new CairnError("usage", `--jobs needs a positive whole number, got ${args.jobs}`);
    // Without --raw, the owner key: -i, else $CAIRN_OWNER_KEY. --raw needs none and ignores that
    // variable (and a transport host loads nothing of @cairn/keys: test/repo-keyless.test.ts).
    const identity = args.raw ? undefined : (await import("@cairn/keys/env")).ownerKeyFiles(args.identity ? [args.identity] : [])[0];
    if (!args.raw && !identity) throw needKeyError();
    if (args.raw && paths.length > 0) throw new CairnError("usage", "--raw sends the whole snapshot; PATHs need the owner key (-i)");
    if (args.raw && args.identity) throw new CairnError("usage", "give --raw (replication, no key) or -i (restore order), not both");
    if (args.have && !args.raw) throw new CairnError("usage", "--have applies to --raw (replication) only");
    const tags = repeatedTags(rawArgs);
    const cache = args["no-cache"] ? (false as const) : (args.cache as string | undefined);
    let requests = { requests: 0, bytesDown: 0 };
    let opened: Awaited<ReturnType<typeof openSnapshot>> | undefined;
    const packs = { packsChecked: 0, packsUnchecked: 0 };
    // Everything after the flags happens inside the stream: a repository or snapshot that cannot
    // be opened goes out as an ERROR frame (the first frame), so the stages after this one name
    // pull as what failed instead of complaining about empty input (docs/protocol.md, section 3).
    async function* stream(): AsyncGenerator<Frame> {
      const { storage, counts } = countingStorage(await openStorage(args.repo));
      requests = counts;
      let have: Uint8Array | undefined;
      if (args.have && /^(file|s3):\/\//.test(args.have)) {
        // The destination's own index: what it holds, read without a key.
        const dest = await openStorage(args.have);
        const config = await readConfig(dest);
        have = (await loadIndex(dest, LocalCache.forRepository(config.id, cache))).table.ids;
      } else if (args.have) {
        // A read error reaches runTool, whose toCairnError gives it its one line and code.
        have = decodeKnown(new Uint8Array(await readFile(args.have)), args.have);
      }
      // A reader (-i) picks `latest` among the snapshots its pinned writers signed; a transport
      // host (--raw) copies whatever it is asked for.
      const trusted = args.raw ? undefined : readTrustedWriters(args.writers);
      const warn = (m: string) => process.stderr.write(`cairn-pull: warning: ${m}\n`);
      opened = await openSnapshot(storage, args.snapshot, { host: args.host, label: args.label, tags, cache, trusted, warn });
      if (args.raw) {
        yield* pullRaw(storage, opened, { jobs, have, stats: packs });
      } else {
        // The keyed part lives apart, loaded only when a key is given: a transport host never loads it.
        const { pullOrdered } = await import("./ordered.js");
        const { readPassphraseFile } = await import("@cairn/keys");
        const passphrase = readPassphraseFile(args["passphrase-file"]);
        yield* pullOrdered(storage, opened, { jobs, identity: identity!, paths, passphrase });
      }
    }
    await writeFrames("cairn-pull", stream());
    if (args.stats) process.stderr.write(`${JSON.stringify({ snapshot: opened!.snapshot.id, requests: requests.requests, bytesIn: requests.bytesDown, ...(args.raw ? packs : {}) })}\n`);
  },
});

