// What `seal -d` needs from the owner: identities to decrypt, and an id key it can trust
// (docs/sealing.md, "Which id key seal -d trusts"). The id key is never taken from storage on
// trust: it comes from the owner key file, or from the repository's key file only when it
// matches the owner key's pinned fingerprint, or when the user says --trust-repo-key.
import { readFileSync } from "node:fs";
import { CairnError, toCairnError } from "@cairn/errors";
import { openFile } from "@cairn/age";
import { idKeyFingerprint, readOwnerKey, type OwnerKey } from "@cairn/keys";

export interface OwnerSecrets {
  identities: string[];
  idKey: Uint8Array;
}

export interface OwnerSecretOptions {
  passphrase?: string;
  /** An age file holding a `cairn-id-key: <hex>` line, encrypted to the owner (the repository's key file). */
  repoKey?: string;
  /** Accept the repo key's id key although no owner key pins its fingerprint. */
  trustRepoKey?: boolean;
}

export async function readOwnerSecrets(paths: string[], opts: OwnerSecretOptions = {}): Promise<OwnerSecrets> {
  if (paths.length === 0) throw new CairnError("usage", "seal -d needs the owner key: -i OWNER_KEY");
  const owners: OwnerKey[] = [];
  for (const path of paths) owners.push(await readOwnerKey(path, { passphrase: opts.passphrase }));
  const identities = owners.flatMap((o) => o.identities);

  const carried = owners.filter((o) => o.idKey);
  const pins = new Set(owners.map((o) => o.idKeyFingerprint).filter((f): f is string => f !== undefined));
  if (pins.size > 1) throw new CairnError("key", "the owner keys given pin different id keys: they belong to different repositories");
  if (carried.length) return { identities, idKey: carried[0].idKey! };

  if (!opts.repoKey) {
    throw new CairnError("key", `the owner key ${paths.join(", ")} carries no id key: give the repository's key file with --repo-key FILE${pins.size ? "" : " and --trust-repo-key"}`);
  }
  const idKey = await idKeyFromRepoKey(opts.repoKey, identities);
  const fingerprint = idKeyFingerprint(idKey);
  if (pins.size) {
    if (!pins.has(fingerprint)) throw new CairnError("key", `the id key in ${opts.repoKey} does not match the fingerprint the owner key pins: refusing it (a planted key?)`);
  } else if (!opts.trustRepoKey) {
    throw new CairnError("key", `no owner key pins an id-key fingerprint, so the id key in ${opts.repoKey} cannot be checked: add --trust-repo-key to accept it (fingerprint ${fingerprint})`);
  }
  return { identities, idKey };
}

async function idKeyFromRepoKey(path: string, identities: string[]): Promise<Uint8Array> {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    const e = toCairnError(err);
    throw new CairnError(e.kind, `cannot read the repository key file ${path}: ${e.message}`);
  }
  let plain: Uint8Array;
  try {
    plain = await openFile(bytes, identities);
  } catch (err) {
    if (err instanceof CairnError) throw new CairnError(err.kind, `repository key file ${path}: ${err.message}`);
    throw err;
  }
  const m = /^#?\s*cairn-id-key:\s*([0-9a-fA-F]{64})\s*$/m.exec(Buffer.from(plain).toString("utf8"));
  if (!m) throw new CairnError("key", `repository key file ${path} holds no cairn-id-key line`);
  return new Uint8Array(Buffer.from(m[1], "hex"));
}
