import { defineCommand } from "citty";
import { CairnError } from "@cairn/errors";
import { openStorage } from "@cairn/storage";
import { readTrustedWriters } from "@cairn/trust";
import { readConfig } from "@cairn/repository";
import { rebuildIndex } from "./rebuild.js";
import { repairDamage } from "./damaged.js";

export default defineCommand({
  meta: { name: "repair", version: "0.1.0", description: "repair REPO: drop damaged packs and objects, rebuild the index; repair index REPO: rebuild the index from the packs" },
  args: {
    what: { type: "positional", description: "the repository URL, or `index` followed by it", required: true },
    repo: { type: "positional", description: "the repository URL (after `index`)", required: false },
    identity: { type: "string", alias: "i", description: "owner key file: find damaged objects one by one and keep the good ones", valueHint: "FILE" },
    "passphrase-file": { type: "string", description: "with -i: the owner key's passphrase, first line of FILE (else $CAIRN_PASSPHRASE, else the terminal)", valueHint: "FILE" },
    writers: { type: "string", description: "trusted writers file (default $CAIRN_WRITERS or ~/.config/cairn/writers)", valueHint: "FILE" },
    jobs: { type: "string", description: "requests in flight", default: "4" },
    json: { type: "boolean", description: "the result as one JSON object" },
  },
  async run({ args }) {
    const jobs = Number(args.jobs);
    if (!Number.isInteger(jobs) || jobs < 1) throw new CairnError("usage", `--jobs needs a positive whole number, got ${args.jobs}`);
    const indexOnly = args.what === "index";
    const url = indexOnly ? args.repo : args.what;
    if (!url) throw new CairnError("usage", "repair index needs a repository URL");
    if (!indexOnly && args.repo) throw new CairnError("usage", `unexpected argument ${args.repo}: use repair REPO, or repair index REPO`);
    const storage = await openStorage(url);
    const say = (line: string) => process.stderr.write(`cairn-repair: ${line}\n`);
    if (indexOnly) {
      await readConfig(storage);
      const r = await rebuildIndex(storage, { jobs });
      for (const s of r.skipped) say(`left pack ${s.pack} out of the index: ${s.why}`);
      if (args.json) process.stdout.write(`${JSON.stringify(r)}\n`);
      else process.stdout.write(`rebuilt the index from ${r.packs} packs (${r.objects} objects): wrote ${r.written.length} index file${r.written.length === 1 ? "" : "s"}, removed ${r.superseded.length}${r.skipped.length ? `; ${r.skipped.length} damaged packs left out (cairn repair ${url} moves them aside)` : ""}\n`);
      return r.skipped.length ? 22 : 0;
    }
    const identity = args.identity ? ([] as string[]).concat(args.identity as string) : undefined;
    const passphrase = args["passphrase-file"] ? (await import("@cairn/keys")).readPassphraseFile(args["passphrase-file"] as string) : undefined;
    const r = await repairDamage(storage, { trusted: readTrustedWriters(args.writers), identity, passphrase, jobs, log: args.json ? undefined : say });
    const damaged = r.after.snapshots.filter((s) => s.status === "damaged");
    if (args.json) {
      process.stdout.write(`${JSON.stringify({ moved: r.moved, repacked: r.repacked, index: r.index, damagedSnapshots: damaged.map((s) => s.id), after: r.after })}\n`);
    } else if (damaged.length) {
      process.stdout.write(`${damaged.length} snapshot${damaged.length > 1 ? "s stay" : " stays"} damaged until a backup uploads the dropped chunks again:\n${damaged.map((s) => `  ${s.id} ${s.time} ${s.host} ${s.label}\n`).join("")}`);
    } else {
      process.stdout.write("every trusted snapshot is whole\n");
    }
    return damaged.length || r.after.problems.size ? 22 : 0;
  },
});
