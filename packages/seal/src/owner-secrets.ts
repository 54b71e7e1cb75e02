// What `seal -d` needs from the owner: identities to decrypt, and an id key it can trust
// (docs/sealing.md, "Which id key seal -d trusts"). The id key is never taken from storage on
// trust: it comes from the owner key file, or from the repository's key file only when it
// matches the owner key's pinned fingerprint, or when the user says --trust-repo-key.
import { CairnError } from "@cairn/errors";
import { openRepoKeyFile, readOwnerKey, trustedIdKey, type OwnerKey } from "@cairn/keys";

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
  if (paths.length === 0) throw new CairnError("usage", "seal -d needs the owner key: -i OWNER_KEY or $CAIRN_OWNER_KEY");
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
  const { idKey } = await openRepoKeyFile(opts.repoKey, identities);
  return { identities, idKey: trustedIdKey(idKey, `repository key file ${opts.repoKey}`, { pin: [...pins][0], trust: opts.trustRepoKey }) };
}
