import { defineCommand } from "citty";
import { writeOut } from "@cairn/errors";
import { openStorage } from "@cairn/storage";
import { packSizeFlag } from "@cairn/repository";
import { init, type InitResult } from "./index.js";

export default defineCommand({
  meta: { name: "init", version: "0.1.0", description: "create a repository, its key object, and (if not given) an owner key and a writer key" },
  args: {
    repo: { type: "positional", description: "repository URL: file:///path or s3://bucket/prefix", required: true },
    "owner-key": { type: "string", description: "owner key file: used if it exists, else created there (not given: printed on stdout)" },
    "writer-key": { type: "string", description: "writer key file: used if it exists, else derived and created there (not given: printed)" },
    writers: { type: "string", description: "trusted writers file to pin the writer in (default $CAIRN_WRITERS or ~/.config/cairn/writers)" },
    "pack-size": { type: "string", description: "target pack size in bytes (default 32 MiB)" },
    pq: { type: "boolean", description: "a post-quantum hybrid owner identity (ML-KEM-768 + X25519)" },
    json: { type: "boolean", description: "print the result as JSON" },
  },
  async run({ args }) {
    const packSize = packSizeFlag(args["pack-size"]);
    const storage = await openStorage(args.repo);
    // The keys made here (no file given) and the result are printed before the repository is
    // created: if stdout fails, nothing is created (exit 19) and no key is lost.
    const print = async (r: InitResult) => {
      if (args.json) {
        await writeOut(`${JSON.stringify({ url: storage.url, id: r.config.id, keyset: r.config.keyset, writer: r.writerPublicKey, ownerKey: r.ownerKeyText, writerKey: r.writerKeyText })}\n`);
      } else if (r.ownerKeyText || r.writerKeyText) {
        await writeOut(`${r.ownerKeyText ?? ""}${r.writerKeyText ?? ""}`);
      }
    };
    const r = await init(storage, { ownerKey: args["owner-key"], writerKey: args["writer-key"], writers: args.writers, packSize, pq: args.pq, beforeCreate: print });
    if (!args.json) process.stderr.write(`cairn-init: created repository ${r.config.id.slice(0, 16)} at ${storage.url}; pinned writer ${r.writerPublicKey.slice(0, 16)}\n`);
  },
});
