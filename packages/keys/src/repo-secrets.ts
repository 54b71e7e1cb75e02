// The repository secrets as `cairn init` stores them in `keys/<id>` (docs/repository.md, "Key
// objects"): an age file sealed to the owner's recipients whose plaintext uses the owner key's
// comment format. An owner who kept only an age identity recovers the id key and chunker secret
// from it, but a reader never trusts its id key alone (DESIGN.md, "Security model"): anyone who
// can write to the bucket can plant a key object sealed to the public recipients. trustedIdKey
// is the one place that decides.
import { readFileSync } from "node:fs";
import { openFile } from "@cairn/age";
import { CairnError, toCairnError } from "@cairn/errors";
import { idKeyFingerprint } from "./fingerprint.js";
import { fromHex, toHex } from "./hex.js";

export interface RepoSecrets {
  idKey: Uint8Array;
  /** Absent in a hand-made key file that carries only the id key. */
  chunkerSecret?: Uint8Array;
  /** The key set the secrets were made for (config's `keyset`), when recorded. */
  keyset?: string;
}

export function formatRepoSecrets(s: Required<RepoSecrets>): string {
  return [
    "# cairn repository secrets v1",
    `# cairn-id-key: ${toHex(s.idKey)}`,
    `# cairn-chunker-secret: ${toHex(s.chunkerSecret)}`,
    `# keyset: ${s.keyset}`,
    "",
  ].join("\n");
}

/** Parses the plaintext of a key object (`what` names it in errors). */
export function parseRepoSecrets(text: string, what: string): RepoSecrets {
  // A hand-made file may leave out the version line; one that names another version is a newer cairn's.
  const version = /^#\s*cairn repository secrets v(\S*)\s*$/m.exec(text)?.[1];
  if (version !== undefined && version !== "1") {
    throw new CairnError("version", `${what} holds repository secrets v${version.slice(0, 16)} (this build reads v1: a newer cairn wrote it)`);
  }
  const field = (name: string) => new RegExp(`^#?\\s*${name}:\\s*([0-9a-fA-F]{64})\\s*$`, "m").exec(text)?.[1];
  const idKey = field("cairn-id-key");
  if (!idKey) throw new CairnError("key", `${what} holds no cairn-id-key line`);
  const chunker = field("cairn-chunker-secret");
  const keyset = field("keyset");
  return {
    idKey: fromHex(idKey, 32, `${what}: the id key`),
    chunkerSecret: chunker ? fromHex(chunker, 32, `${what}: the chunker secret`) : undefined,
    keyset: keyset?.toLowerCase(),
  };
}

/** Decrypts a key object with the owner's identities and parses it. */
export async function openRepoSecrets(bytes: Uint8Array, identities: string[], what: string): Promise<RepoSecrets> {
  let plain: Uint8Array;
  try {
    plain = await openFile(bytes, identities);
  } catch (err) {
    if (err instanceof CairnError) throw new CairnError(err.kind, `${what}: ${err.message}`);
    throw err;
  }
  return parseRepoSecrets(Buffer.from(plain).toString("utf8"), what);
}

/** A repository key file (a copy of `keys/<id>`, for --repo-key), read and opened with the owner's identities. */
export async function openRepoKeyFile(path: string, identities: string[]): Promise<RepoSecrets> {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    const e = toCairnError(err);
    throw new CairnError(e.kind, `cannot read the repository key file ${path}: ${e.message}`);
  }
  return openRepoSecrets(bytes, identities, `repository key file ${path}`);
}

/**
 * The id key read from `what` (a key object or file), if the reader may trust it: its
 * fingerprint equals the one the owner pinned (`pin`), or no fingerprint is pinned and the user
 * said so (`trust`: --trust-repo-key). Otherwise a `key` error that says which, with the
 * fingerprint to compare against a copy kept elsewhere (`hint`: what the user can do instead).
 */
export function trustedIdKey(idKey: Uint8Array, what: string, opts: { pin?: string; trust?: boolean; hint?: string }): Uint8Array {
  const fingerprint = idKeyFingerprint(idKey);
  if (opts.pin !== undefined) {
    if (opts.pin.toLowerCase() !== fingerprint) {
      throw new CairnError("key", `the id key in ${what} does not match the pinned id-key fingerprint ${opts.pin.toLowerCase()}: refusing it (a planted key?)`);
    }
    return idKey;
  }
  if (!opts.trust) {
    throw new CairnError("key", `no id-key fingerprint is pinned, so the id key in ${what} cannot be checked: ${opts.hint ?? "add --trust-repo-key to accept it"} (fingerprint ${fingerprint})`);
  }
  return idKey;
}
