// Key wrapping: the recipient stanzas (X25519, the ML-KEM-768 + X25519 hybrid, scrypt) are
// age-encryption's job. Its public API cannot wrap a file key the caller chose (the
// recipient classes are not exported), but Encrypter hands its fresh file key to every
// Recipient object it was given: a recipient that only records the key and adds no stanza
// lets us learn the file key of a header that age-encryption itself wrote. Unwrapping goes
// through Decrypter.decryptHeader, its documented hook for "delegated decryption".
// docs/age.md explains the choice.
import type { Recipient } from "age-encryption";
import { ageEncryption } from "./lazy.js";
import { CairnError } from "@cairn/errors";
import { headerError, parseHeader, type Stanza } from "./format.js";

export interface Wrapped {
  stanzas: Stanza[];
  fileKey: Uint8Array;
}

/** Wraps a fresh 16-byte file key to every recipient (age1… or age1pq1…). */
export async function wrapToRecipients(recipients: string[]): Promise<Wrapped> {
  if (recipients.length === 0) throw new CairnError("key", "no recipients to seal to");
  const { Encrypter } = await ageEncryption();
  const encrypter = new Encrypter();
  let fileKey: Uint8Array | undefined;
  const keyRecorder: Recipient = {
    wrapFileKey(key: Uint8Array) {
      fileKey = Uint8Array.from(key);
      return [];
    },
  };
  encrypter.addRecipient(keyRecorder);
  for (const r of recipients) {
    try {
      encrypter.addRecipient(r);
    } catch {
      throw new CairnError("key", `not an age recipient: ${abbreviate(r)}`);
    }
  }
  let file: Uint8Array;
  try {
    file = await encrypter.encrypt(new Uint8Array(0));
  } catch (err) {
    throw new CairnError("key", `cannot wrap the file key: ${(err as Error).message}`);
  }
  if (!fileKey) throw new CairnError("failed", "age-encryption did not reveal the file key");
  return { stanzas: parseHeader(file).stanzas, fileKey };
}

/**
 * Unwraps the file key of a complete header (through its MAC line) with identities
 * (AGE-SECRET-KEY-1… / AGE-SECRET-KEY-PQ-1…) and passphrases. age-encryption also checks
 * the header MAC here; open.ts checks it again with its own reading of the spec.
 */
export async function unwrapHeader(header: Uint8Array, identities: string[], passphrases: string[] = []): Promise<Uint8Array> {
  const { Decrypter } = await ageEncryption();
  const decrypter = new Decrypter();
  for (const id of identities) {
    try {
      decrypter.addIdentity(id);
    } catch {
      throw new CairnError("key", "not an age identity (expected AGE-SECRET-KEY-1… or AGE-SECRET-KEY-PQ-1…)");
    }
  }
  for (const p of passphrases) decrypter.addPassphrase(p);
  try {
    return await decrypter.decryptHeader(header);
  } catch (err) {
    const message = (err as Error).message ?? String(err);
    if (/no identity matched/.test(message)) {
      throw new CairnError("key", passphrases.length > 0 && identities.length === 0
        ? "wrong passphrase (or the file is not passphrase-encrypted)"
        : "no identity matches any of the file's recipients (wrong key, or a damaged stanza)");
    }
    if (/invalid header HMAC/.test(message)) throw new CairnError("integrity", "age header MAC: does not match (tampered header)");
    throw headerError(message.replace(/\.$/, ""));
  }
}

function abbreviate(s: string): string {
  return s.length > 24 ? `${s.slice(0, 20)}…` : s;
}
