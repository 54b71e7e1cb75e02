// Native age identities and their recipients, from age-encryption.
import { ageEncryption } from "./lazy.js";
import { CairnError } from "@cairn/errors";

/** A new X25519 identity, AGE-SECRET-KEY-1… */
export async function generateIdentity(): Promise<string> {
  return (await ageEncryption()).generateX25519Identity();
}

/** A new ML-KEM-768 + X25519 hybrid identity, AGE-SECRET-KEY-PQ-1… */
export async function generateHybridIdentity(): Promise<string> {
  return (await ageEncryption()).generateHybridIdentity();
}

/** The recipient (age1… or age1pq1…) of an identity. */
export async function identityToRecipient(identity: string): Promise<string> {
  const age = await ageEncryption();
  try {
    return await age.identityToRecipient(identity);
  } catch {
    throw new CairnError("key", "not an age identity (expected AGE-SECRET-KEY-1… or AGE-SECRET-KEY-PQ-1…)");
  }
}
