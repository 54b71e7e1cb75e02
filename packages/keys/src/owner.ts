// The owner key file (docs/keys.md, "Owner key"): an age identity file that the `age` CLI
// reads as is, whose comment lines also carry the repository secrets:
//
//   # cairn owner key v1: decrypts every snapshot of the repository. Keep it secret.
//   # created: 2026-11-27T11:00:00Z
//   # public key: age1…
//   # cairn-id-key: 64 hex
//   # cairn-chunker-secret: 64 hex
//   AGE-SECRET-KEY-1…
//
// The file may instead be the whole of that text age-encrypted to a passphrase (scrypt,
// armored), exactly like age's own encrypted identity files.
import { randomBytes } from "node:crypto";
import {
  decryptWithPassphrase, encryptWithPassphrase, generateHybridIdentity, generateIdentity, identityToRecipient, isAgeFile, DEFAULT_WORK_FACTOR,
} from "@cairn/age";
import { CairnError } from "@cairn/errors";
import { idKeyFingerprint } from "./fingerprint.js";
import { fromHex, toHex } from "./hex.js";
import { readKeyFile, warnIfExposed } from "./keyfile.js";
import { obtainPassphrase } from "./passphrase.js";

export interface OwnerKey {
  /** AGE-SECRET-KEY-1… / AGE-SECRET-KEY-PQ-1… lines. */
  identities: string[];
  /** The recipients of those identities, in the same order. */
  recipients: string[];
  /** Absent when the file is a plain age identity file (callers then need --trust-repo-key). */
  idKey?: Uint8Array;
  chunkerSecret?: Uint8Array;
  /** From idKey, or pinned alone by a `# cairn-id-key-fingerprint:` line. */
  idKeyFingerprint?: string;
}

export interface NewOwnerKey {
  identity: string;
  recipient: string;
  idKey: Uint8Array;
  chunkerSecret: Uint8Array;
  /** The file's content: the identity file text, or its armored passphrase encryption. */
  text: string;
}

/** A new owner identity (X25519, or the ML-KEM-768 + X25519 hybrid with pq) and fresh repository secrets. */
export async function createOwnerKey(opts: { pq?: boolean; passphrase?: string; workFactor?: number; now?: Date } = {}): Promise<NewOwnerKey> {
  const identity = opts.pq ? await generateHybridIdentity() : await generateIdentity();
  const recipient = await identityToRecipient(identity);
  const idKey = new Uint8Array(randomBytes(32));
  const chunkerSecret = new Uint8Array(randomBytes(32));
  const plain = formatOwnerKey({ identities: [identity], recipients: [recipient], idKey, chunkerSecret, created: opts.now ?? new Date() });
  const text = opts.passphrase === undefined
    ? plain
    : await encryptWithPassphrase(Buffer.from(plain), opts.passphrase, { workFactor: opts.workFactor ?? DEFAULT_WORK_FACTOR });
  return { identity, recipient, idKey, chunkerSecret, text };
}

/** The owner key file's text: one or more identities (with their recipients, in order) and the repository secrets. */
export function formatOwnerKey(k: { identities: string[]; recipients: string[]; idKey: Uint8Array; chunkerSecret: Uint8Array; created: Date; note?: string }): string {
  return [
    "# cairn owner key v1: decrypts every snapshot of the repository. Keep it secret.",
    `# created: ${k.created.toISOString().replace(/\.\d{3}Z$/, "Z")}`,
    ...(k.note ? [`# ${k.note}`] : []),
    ...k.recipients.map((r) => `# public key: ${r}`),
    `# cairn-id-key: ${toHex(k.idKey)}`,
    `# cairn-chunker-secret: ${toHex(k.chunkerSecret)}`,
    ...k.identities,
    "",
  ].join("\n");
}

/**
 * Reads an owner key file: plain, or passphrase-protected (the passphrase comes from
 * `opts.passphrase`, then CAIRN_PASSPHRASE, then the terminal). A plain age identity file
 * (e.g. from age-keygen) is accepted too; its idKey is then undefined.
 */
export async function readOwnerKey(path: string, opts: { passphrase?: string } = {}): Promise<OwnerKey> {
  let bytes = readKeyFile(path, "owner key");
  if (isAgeFile(bytes)) {
    const passphrase = opts.passphrase ?? (await obtainPassphrase(`Enter passphrase for owner key ${path}: `));
    try {
      bytes = await decryptWithPassphrase(bytes, passphrase);
    } catch (err) {
      if (err instanceof CairnError) throw new CairnError(err.kind, `owner key ${path}: ${err.message}`);
      throw err;
    }
  }
  const key = await parseOwnerKey(Buffer.from(bytes).toString("utf8"), path);
  // Warned about only once it has parsed: a file that is not a key gets one line, its error.
  warnIfExposed(path, "owner key");
  return key;
}

/** Parses the plaintext of an owner key file (or any age identity file). */
export async function parseOwnerKey(text: string, path: string): Promise<OwnerKey> {
  const identities: string[] = [];
  let idKey: Uint8Array | undefined;
  let chunkerSecret: Uint8Array | undefined;
  let pinned: string | undefined;
  const lines = text.split("\n");
  for (const [i, raw] of lines.entries()) {
    const line = raw.replace(/\r$/, "").trim();
    const where = `owner key ${path} line ${i + 1}`;
    if (line === "") continue;
    if (line.startsWith("#")) {
      const m = /^#\s*cairn-([a-z-]+):\s*(\S*)$/.exec(line);
      if (!m) continue; // an ordinary comment
      if (m[1] === "id-key") idKey = fromHex(m[2], 32, `${where}: the id key`);
      else if (m[1] === "chunker-secret") chunkerSecret = fromHex(m[2], 32, `${where}: the chunker secret`);
      else if (m[1] === "id-key-fingerprint") pinned = toHex(fromHex(m[2], 32, `${where}: the id-key fingerprint`));
      continue;
    }
    if (line.startsWith("cairn-writer-key:")) {
      throw new CairnError("key", `${path} is a writer key: it can seal but not decrypt; use the owner key`);
    }
    if (!line.startsWith("AGE-SECRET-KEY-")) throw new CairnError("key", `${where}: not an age identity`);
    identities.push(line);
  }
  if (identities.length === 0) throw new CairnError("key", `owner key ${path} holds no age identity`);
  const recipients = await Promise.all(identities.map(async (id, n) => {
    try {
      return await identityToRecipient(id);
    } catch {
      throw new CairnError("key", `owner key ${path}: identity ${n + 1} is not a valid age identity`);
    }
  }));
  const fingerprint = idKey ? idKeyFingerprint(idKey) : pinned;
  if (idKey && pinned && pinned !== fingerprint) {
    throw new CairnError("key", `owner key ${path}: its id key does not match its pinned id-key fingerprint`);
  }
  return { identities, recipients, idKey, chunkerSecret, idKeyFingerprint: fingerprint };
}
