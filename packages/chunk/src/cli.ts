import { defineCommand } from "citty";
import { CairnError } from "@cairn/errors";
import { DEFAULT_REF_WINDOW, decodeFrames, stdinChunks, writeFrames } from "@cairn/protocol";
import { chunkInput } from "./chunk-input.js";
import { dechunkStream } from "./dechunk-stream.js";
import { readerIdKey, writerSecrets } from "./keys.js";
import { DEFAULT_PARAMS, checkParams, checkRefWindow, parseSize } from "./params.js";

const TOOL = "cairn-chunk";

export default defineCommand({
  meta: {
    name: "chunk",
    version: "0.1.0",
    description:
      "Plain stream (or raw bytes) → chunked stream: content-defined chunks (keyed FastCDC) with keyed ids, repeats inside the stream as references. -d reassembles a plain stream, checking every chunk against its id.",
  },
  args: {
    decode: { type: "boolean", alias: "d", default: false, description: "chunked stream → plain stream (checks every chunk against its id)" },
    key: { type: "string", alias: "k", description: "writer key (default: $CAIRN_WRITER_KEY); with -d, a writer key whose id key checks the chunks (with -i too: it must match the owner key's pin)", valueHint: "WRITER_KEY" },
    identity: { type: "string", alias: "i", description: "with -d: the owner key (default: $CAIRN_OWNER_KEY)", valueHint: "OWNER_KEY" },
    "passphrase-file": { type: "string", description: "with -d: the owner key's passphrase, first line of FILE (else $CAIRN_PASSPHRASE or the terminal)", valueHint: "FILE" },
    "repo-key": { type: "string", description: "with -d: the repository's key file (a copy of keys/<id>), for an owner key that carries no id key", valueHint: "FILE" },
    "trust-repo-key": { type: "boolean", description: "with -d: accept the id key of --repo-key although the owner key pins no fingerprint" },
    name: { type: "string", default: "stdin", description: "raw input (no cairn magic): the entry's name", valueHint: "NAME" },
    min: { type: "string", description: `minimum chunk size (default ${DEFAULT_PARAMS.min / 1024}K)`, valueHint: "SIZE" },
    avg: { type: "string", description: `average chunk size, a power of two (default ${DEFAULT_PARAMS.avg / 1048576}M)`, valueHint: "SIZE" },
    max: { type: "string", description: `maximum chunk size, at most 16M (default ${DEFAULT_PARAMS.max / 1048576}M)`, valueHint: "SIZE" },
    "ref-window": { type: "string", description: `reference window (default ${DEFAULT_REF_WINDOW / 1048576}M): repeats within it go out as references`, valueHint: "SIZE" },
  },
  async run({ args }) {
    if (args.decode) {
      for (const flag of ["min", "avg", "max", "ref-window"] as const) {
        if (args[flag] !== undefined) throw new CairnError("usage", `--${flag} is for chunking; chunk -d reads the sizes from the stream`);
      }
      const idKey = await readerIdKey({
        identity: args.identity, key: args.key, passphraseFile: args["passphrase-file"], repoKey: args["repo-key"], trustRepoKey: args["trust-repo-key"],
      });
      await writeFrames(TOOL, dechunkStream(decodeFrames(stdinChunks(), { borrow: true }), { idKey }));
      return;
    }
    if (args.identity) throw new CairnError("usage", "-i OWNER_KEY is for chunk -d; chunk takes the writer key (-k)");
    if (args["repo-key"] || args["trust-repo-key"]) throw new CairnError("usage", "--repo-key and --trust-repo-key are for chunk -d");
    const params = {
      ...(args.min !== undefined && { min: parseSize(args.min, "--min") }),
      ...(args.avg !== undefined && { avg: parseSize(args.avg, "--avg") }),
      ...(args.max !== undefined && { max: parseSize(args.max, "--max") }),
    };
    checkParams({ ...DEFAULT_PARAMS, ...params });
    const refWindow = args["ref-window"] !== undefined ? parseSize(args["ref-window"], "--ref-window") : undefined;
    if (refWindow !== undefined) checkRefWindow(refWindow);
    const secrets = await writerSecrets(args.key);
    await writeFrames(TOOL, chunkInput(stdinChunks(), { ...secrets, params, refWindow, name: args.name }));
  },
});
