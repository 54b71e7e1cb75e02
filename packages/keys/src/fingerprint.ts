// Public fingerprints of key material (docs/keys.md, "Fingerprints").
import { createHash } from "node:crypto";

/** hex SHA-256("cairn id key v1" || idKey): what an owner pins, and what a keyset binds. */
export function idKeyFingerprint(idKey: Uint8Array): string {
  return createHash("sha256").update("cairn id key v1").update(idKey).digest("hex");
}

/**
 * hex SHA-256 of "cairn keyset v1\n", each recipient (sorted by code unit) + "\n", then
 * "id-key " + the id-key fingerprint + "\n". The sealed stream carries it so `push` can
 * refuse a stream sealed for another repository.
 */
export function keysetOf(recipients: string[], idKeyFp: string): string {
  const h = createHash("sha256").update("cairn keyset v1\n");
  for (const r of [...recipients].sort()) h.update(`${r}\n`);
  return h.update(`id-key ${idKeyFp}\n`).digest("hex");
}
