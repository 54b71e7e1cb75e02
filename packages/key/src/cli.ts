import { defineCommand } from "citty";
import { CairnError, writeOut } from "@cairn/errors";
import { obtainPassphrase, pinWriter, readPassphraseFile, readTrustedWriters, trustFilePath, writeKeyFile } from "@cairn/keys";
import { recoverOwnerKey } from "@cairn/init";
import { openStorage } from "@cairn/storage";
import { keyNew } from "./new.js";
import { keyShow } from "./show.js";
import { keyWriter } from "./writer.js";

const newCommand = defineCommand({
  meta: { name: "new", description: "make an owner key: an age identity plus fresh repository secrets (id key, chunker secret)" },
  args: {
    output: { type: "string", alias: "o", description: "write the key to FILE (mode 0600; never overwrites); default stdout", valueHint: "FILE" },
    pq: { type: "boolean", description: "a post-quantum ML-KEM-768 + X25519 hybrid identity (the age 1.1 CLI cannot read it)" },
    passphrase: { type: "boolean", description: "encrypt the file with a passphrase (from CAIRN_PASSPHRASE, --passphrase-file or the terminal)" },
    "passphrase-file": { type: "string", description: "read the passphrase from the first line of FILE (implies --passphrase)", valueHint: "FILE" },
    "work-factor": { type: "string", description: "scrypt work factor log2(N) for --passphrase (default 18, as age)", valueHint: "N" },
  },
  async run({ args }) {
    const workFactor = args["work-factor"] === undefined ? undefined : Number(args["work-factor"]);
    if (workFactor !== undefined && !(Number.isInteger(workFactor) && workFactor >= 1 && workFactor <= 20)) {
      throw new CairnError("usage", "--work-factor must be an integer from 1 to 20");
    }
    const fromFile = readPassphraseFile(args["passphrase-file"]);
    const { text, recipient } = await keyNew({ output: args.output, pq: args.pq, passphrase: fromFile ?? args.passphrase, workFactor });
    if (args.output) await writeOut(`${recipient}\n`);
    else {
      // Nowhere else holds this key: a failed write is an error (exit 19), not a lost key and exit 0.
      await writeOut(text);
      process.stderr.write(`Public key: ${recipient}\n`);
    }
  },
});

const writerCommand = defineCommand({
  meta: { name: "writer", description: "derive a writer key (recipients, id key, chunker secret, a new signing key) and pin it" },
  args: {
    identity: { type: "string", alias: "i", required: true, description: "the owner key", valueHint: "OWNER" },
    output: { type: "string", alias: "o", description: "write the writer key to FILE (mode 0600; never overwrites); default stdout", valueHint: "FILE" },
    writers: { type: "string", description: "the trusted writers file (default $CAIRN_WRITERS or ~/.config/cairn/writers)", valueHint: "FILE" },
    name: { type: "string", description: "a note for the trust file, e.g. the host's name" },
    "passphrase-file": { type: "string", description: "the owner key's passphrase, first line of FILE", valueHint: "FILE" },
  },
  async run({ args }) {
    // Without -o the key goes to stdout, and is pinned only once it is written there.
    const r = await keyWriter({
      owner: args.identity, output: args.output, writers: args.writers, name: args.name, passphrase: readPassphraseFile(args["passphrase-file"]),
      emit: args.output ? undefined : writeOut,
    });
    if (args.output) await writeOut(`${r.publicKey}\n`);
    else process.stderr.write(`Writer public key: ${r.publicKey} (pinned in ${r.trustFile})\n`);
  },
});

const pinCommand = defineCommand({
  meta: { name: "pin", description: "trust a writer's public key (64 hex characters) on this machine" },
  args: {
    publicKey: { type: "positional", required: true, description: "the writer's public key", valueHint: "PUBKEY" },
    writers: { type: "string", description: "the trusted writers file (default $CAIRN_WRITERS or ~/.config/cairn/writers)", valueHint: "FILE" },
    name: { type: "string", description: "a note kept next to the key" },
  },
  run({ args }) {
    const file = trustFilePath(args.writers);
    const added = pinWriter(args.publicKey, { path: file, note: args.name });
    process.stderr.write(added ? `pinned in ${file}\n` : `already pinned in ${file}\n`);
  },
});

const showCommand = defineCommand({
  meta: { name: "show", description: "print the public parts of a key file: recipients, id-key fingerprint, writer key, keyset" },
  args: {
    file: { type: "positional", required: true, description: "an owner or writer key file", valueHint: "FILE" },
    json: { type: "boolean", description: "one JSON object" },
    "passphrase-file": { type: "string", description: "the owner key's passphrase, first line of FILE", valueHint: "FILE" },
  },
  async run({ args }) {
    const d = await keyShow(args.file, { passphrase: readPassphraseFile(args["passphrase-file"]) });
    if (args.json) {
      process.stdout.write(`${JSON.stringify(d)}\n`);
      return;
    }
    const lines = [`type: ${d.type}${d.passphrase ? " (passphrase-protected)" : ""}`];
    for (const r of d.recipients) lines.push(`recipient: ${r}`);
    lines.push(`id-key fingerprint: ${d.idKeyFingerprint ?? "none (a plain age identity: readers need --trust-repo-key)"}`);
    if (d.writerPublicKey) lines.push(`writer public key: ${d.writerPublicKey}`);
    if (d.keyset) lines.push(`keyset: ${d.keyset}`);
    process.stdout.write(`${lines.join("\n")}\n`);
  },
});

const recoverCommand = defineCommand({
  meta: { name: "recover", description: "rebuild a whole owner key from the age identity alone and the repository's key object (disaster recovery)" },
  args: {
    repo: { type: "positional", required: true, description: "repository URL: file:///path or s3://bucket/prefix", valueHint: "REPO" },
    identity: { type: "string", alias: "i", required: true, description: "the age identity (a plain identity file, or what is left of the owner key)", valueHint: "FILE" },
    output: { type: "string", alias: "o", required: true, description: "write the owner key to FILE (mode 0600; never overwrites)", valueHint: "FILE" },
    fingerprint: { type: "string", description: "the id-key fingerprint you kept (cairn key show printed it): the key object must match it", valueHint: "HEX" },
    "trust-repo-key": { type: "boolean", description: "accept the repository's id key with no fingerprint to check it against (it must agree with config and the pinned writers' snapshots)" },
    writers: { type: "string", description: "the trusted writers file (default $CAIRN_WRITERS or ~/.config/cairn/writers): their snapshots' key set checks an unpinned id key", valueHint: "FILE" },
    passphrase: { type: "boolean", description: "encrypt the new file with a passphrase (from CAIRN_PASSPHRASE, --passphrase-file or the terminal)" },
    "passphrase-file": { type: "string", description: "read the new file's passphrase from the first line of FILE (implies --passphrase)", valueHint: "FILE" },
  },
  async run({ args }) {
    const fromFile = readPassphraseFile(args["passphrase-file"]);
    const passphrase = fromFile ?? (args.passphrase ? await obtainPassphrase("Passphrase for the recovered owner key: ", { confirm: true }) : undefined);
    const storage = await openStorage(args.repo);
    const r = await recoverOwnerKey(storage, {
      identity: args.identity, fingerprint: args.fingerprint, trustRepoKey: args["trust-repo-key"], passphrase, trusted: readTrustedWriters(args.writers),
    });
    writeKeyFile(args.output, r.text, "owner key");
    process.stdout.write(`${r.idKeyFingerprint}\n`);
    process.stderr.write(
      `cairn-key: recovered the owner key from ${r.keyObject} (id-key fingerprint ${r.idKeyFingerprint}) into ${args.output}` +
        (r.keysetMatches ? "\n" : `; note: its recipients are not the repository's whole key set, so writer keys made from it cannot push to ${storage.url}\n`),
    );
  },
});

export default defineCommand({
  meta: { name: "key", version: "0.1.0", description: "make owner identities, derive writer keys, pin writers, recover an owner key" },
  subCommands: { new: newCommand, writer: writerCommand, pin: pinCommand, show: showCommand, recover: recoverCommand },
});
