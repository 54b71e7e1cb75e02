// The writer key file (docs/keys.md, "Writer key"): what a data host needs to back up and
// nothing that decrypts.
//
//   # cairn writer key v1: seals backups, decrypts nothing. Keep it secret: it signs snapshots.
//   cairn-writer-key: v1
//   recipient: age1…            (one line per recipient)
//   id-key: 64 hex
//   chunker-secret: 64 hex
//   signing-key: 64 hex         (Ed25519 seed)
//   public-key: 64 hex          (Ed25519, checked against the seed)
//   keyset: 64 hex              (checked against the recipients and id key)
import type { KeyObject } from "node:crypto";
import { CairnError } from "@cairn/errors";
import { idKeyFingerprint, keysetOf } from "./fingerprint.js";
import { fromHex, toHex } from "./hex.js";
import { readKeyFile, warnIfExposed } from "./keyfile.js";
import type { OwnerKey } from "./owner.js";
import { newSigningSeed, publicKeyHex, signingKeyFromSeed } from "./signing.js";

export interface WriterKey {
  recipients: string[];
  idKey: Uint8Array;
  chunkerSecret: Uint8Array;
  signingKey: KeyObject;
  /** hex raw Ed25519 public key: what owners and transport hosts pin. */
  publicKey: string;
  /** hex; see keysetOf. */
  keyset: string;
}

/** A writer key derived from an owner key: its recipients and secrets, and a fresh signing key. */
export function createWriterKey(owner: OwnerKey): { text: string; publicKey: string; keyset: string } {
  if (!owner.idKey || !owner.chunkerSecret) {
    throw new CairnError("key", "this owner key carries no repository secrets (id key, chunker secret): make one with cairn key new");
  }
  const seed = newSigningSeed();
  const publicKey = publicKeyHex(signingKeyFromSeed(seed));
  const keyset = keysetOf(owner.recipients, idKeyFingerprint(owner.idKey));
  const text = [
    "# cairn writer key v1: seals backups, decrypts nothing. Keep it secret: it signs snapshots.",
    "cairn-writer-key: v1",
    ...owner.recipients.map((r) => `recipient: ${r}`),
    `id-key: ${toHex(owner.idKey)}`,
    `chunker-secret: ${toHex(owner.chunkerSecret)}`,
    `signing-key: ${toHex(seed)}`,
    `public-key: ${publicKey}`,
    `keyset: ${keyset}`,
    "",
  ].join("\n");
  return { text, publicKey, keyset };
}

export async function readWriterKey(path: string): Promise<WriterKey> {
  const bytes = readKeyFile(path, "writer key");
  // Warned about only once it has parsed: a file that is not a key gets one line, its error.
  const key = parseWriterKey(Buffer.from(bytes).toString("utf8"), path);
  warnIfExposed(path, "writer key");
  return key;
}

export function parseWriterKey(text: string, path: string): WriterKey {
  const fields = new Map<string, string>();
  const recipients: string[] = [];
  for (const [i, raw] of text.split("\n").entries()) {
    const line = raw.replace(/\r$/, "").trim();
    if (line === "" || line.startsWith("#")) continue;
    const where = `writer key ${path} line ${i + 1}`;
    if (line.startsWith("AGE-SECRET-KEY-") || line.startsWith("-----BEGIN AGE") || line.startsWith("age-encryption.org")) {
      throw new CairnError("key", `${path} is an owner key, not a writer key: make one with cairn key writer -i ${path}`);
    }
    const m = /^([a-z-]+):\s*(\S+)$/.exec(line);
    if (!m) throw new CairnError("key", `${where}: not a "name: value" line`);
    if (m[1] === "recipient") {
      if (!/^age1[0-9a-z]+$/.test(m[2])) throw new CairnError("key", `${where}: not an age recipient`);
      recipients.push(m[2]);
    } else if (["cairn-writer-key", "id-key", "chunker-secret", "signing-key", "public-key", "keyset"].includes(m[1])) {
      if (fields.has(m[1])) throw new CairnError("key", `${where}: a second ${m[1]}`);
      fields.set(m[1], m[2]);
    } else {
      throw new CairnError("key", `${where}: unknown field ${m[1]}`);
    }
  }
  const need = (name: string): string => {
    const v = fields.get(name);
    if (v === undefined) throw new CairnError("key", `writer key ${path} has no ${name}`);
    return v;
  };
  if (need("cairn-writer-key") !== "v1") throw new CairnError("version", `writer key ${path} is version ${fields.get("cairn-writer-key")}; this cairn knows v1`);
  if (recipients.length === 0) throw new CairnError("key", `writer key ${path} has no recipient`);
  const idKey = fromHex(need("id-key"), 32, `writer key ${path}: the id key`);
  const chunkerSecret = fromHex(need("chunker-secret"), 32, `writer key ${path}: the chunker secret`);
  const signingKey = signingKeyFromSeed(fromHex(need("signing-key"), 32, `writer key ${path}: the signing key`));
  const publicKey = publicKeyHex(signingKey);
  if (need("public-key").toLowerCase() !== publicKey) throw new CairnError("key", `writer key ${path}: its public key does not match its signing key`);
  const keyset = keysetOf(recipients, idKeyFingerprint(idKey));
  if (need("keyset").toLowerCase() !== keyset) throw new CairnError("key", `writer key ${path}: its keyset does not match its recipients and id key`);
  return { recipients, idKey, chunkerSecret, signingKey, publicKey, keyset };
}
