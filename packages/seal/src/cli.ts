import { defineCommand } from "citty";
import { CairnError, repeated, splitDashDash } from "@cairn/errors";
import { decodeFrames, stdinChunks, writeFrames } from "@cairn/protocol";
import { OWNER_KEY_ENV, ownerKeyFiles, readPassphraseFile, readTrustedWriters, readWriterKey, WRITER_KEY_ENV, writerKeyFile } from "@cairn/keys";
import { seal, DEFAULT_LEVEL } from "./seal.js";
import { unseal } from "./unseal.js";
import { readOwnerSecrets } from "./owner-secrets.js";
import { readKnownFile } from "./known.js";

function intOption(text: string | undefined, flag: string, min: number, max: number): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max) throw new CairnError("usage", `${flag} must be a whole number from ${min} to ${max}`);
  return n;
}

export default defineCommand({
  meta: {
    name: "seal",
    version: "0.1.0",
    description: "chunked stream → sealed stream (compressed, encrypted, manifest sealed, COMMIT signed); -d opens one with the owner key",
  },
  args: {
    key: { type: "string", alias: "k", description: `the writer key (default $${WRITER_KEY_ENV})`, valueHint: "WRITER_KEY" },
    level: { type: "string", description: `zstd level, -7…19 (default ${DEFAULT_LEVEL})`, valueHint: "N" },
    known: { type: "string", description: "ids the repository holds (a file push writes): such chunks go out as references, unsealed", valueHint: "FILE" },
    workers: { type: "string", description: "worker threads that seal (or, with -d, open) chunks (default: the cores, at most 4)", valueHint: "N" },
    decrypt: { type: "boolean", alias: "d", description: "open a sealed stream: sealed → chunked stream" },
    identity: { type: "string", alias: "i", description: `-d: the owner key (repeatable; default $${OWNER_KEY_ENV})`, valueHint: "OWNER_KEY" },
    "passphrase-file": { type: "string", description: "-d: the owner key's passphrase, first line of FILE (else $CAIRN_PASSPHRASE, else the terminal)", valueHint: "FILE" },
    writers: { type: "string", description: "-d: the trusted writers file (default $CAIRN_WRITERS or ~/.config/cairn/writers)", valueHint: "FILE" },
    "repo-key": { type: "string", description: "-d: the repository's key file, for an owner key that carries no id key", valueHint: "FILE" },
    "trust-repo-key": { type: "boolean", description: "-d: accept the id key of --repo-key although no owner key pins its fingerprint" },
  },
  async run({ args, rawArgs }) {
    if (args.decrypt) {
      const secrets = await readOwnerSecrets(ownerKeyFiles(repeated(splitDashDash(rawArgs).own, ["-i", "--identity"])), {
        passphrase: args["passphrase-file"] ? readPassphraseFile(args["passphrase-file"]) : undefined,
        repoKey: args["repo-key"],
        trustRepoKey: args["trust-repo-key"],
      });
      const trusted = readTrustedWriters(args.writers);
      const workers = intOption(args.workers, "--workers", 1, 64);
      // unseal copies what it keeps (objects into job buffers, ids into lists): input slabs can be freed early.
      await writeFrames("cairn-seal", unseal(decodeFrames(stdinChunks(), { borrow: true }), { ...secrets, trusted, workers }));
      return;
    }
    const keyPath = writerKeyFile(args.key);
    if (!keyPath) throw new CairnError("usage", `seal needs the writer key: -k WRITER_KEY or $${WRITER_KEY_ENV}`);
    const key = await readWriterKey(keyPath);
    const level = intOption(args.level, "--level", -7, 19);
    const workers = intOption(args.workers, "--workers", 1, 64);
    const known = args.known ? await readKnownFile(args.known) : undefined;
    // seal copies what it keeps (chunks into job buffers, ids into lists): input slabs can be freed early.
    await writeFrames("cairn-seal", seal(decodeFrames(stdinChunks(), { borrow: true }), { key, level, known, workers }));
  },
});
