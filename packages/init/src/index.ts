// @cairn/init: creates a repository (docs/repository.md, "init"): the key object (the repository
// secrets sealed to the owner's recipients, an age file), then config with If-None-Match, and
// pins the writer. Keys come from files, or are made here with @cairn/keys.
import { existsSync } from "node:fs";
import { CairnError } from "@cairn/errors";
import { newSession, sealWithSession } from "@cairn/age";
import { createOwnerKey, createWriterKey, formatRepoSecrets, idKeyFingerprint, keysetOf, parseOwnerKey, parseWriterKey, pinWriter, readOwnerKey, readWriterKey, writeKeyFile, type OwnerKey } from "@cairn/keys";
import type { Storage } from "@cairn/storage";
import { CONFIG_KEY, createConfig, keyObjectKey, newConfig, snapshotIdOf, type RepoConfig } from "@cairn/repository";

export interface InitOptions {
  /** Owner key file: read if it exists, else created there. Absent: a new owner key is returned for printing. */
  ownerKey?: string;
  /** Writer key file: read if it exists, else derived from the owner key and created there. */
  writerKey?: string;
  /** Trust file the writer is pinned in (default: keys' trust file). */
  writers?: string;
  packSize?: number;
  pq?: boolean;
  /**
   * Called once everything is decided and before anything is written to the store: the CLI
   * prints the key texts made here (no file given) and the result, so that a failed print
   * (disk full, closed pipe) leaves no repository whose keys nobody has.
   */
  beforeCreate?: (r: InitResult) => Promise<void>;
}

export interface InitResult {
  config: RepoConfig;
  keyObject: string;
  writerPublicKey: string;
  /** Key texts that were made but not written to a file (the caller prints them). */
  ownerKeyText?: string;
  writerKeyText?: string;
}

export async function init(storage: Storage, opts: InitOptions = {}): Promise<InitResult> {
  if (await storage.head(CONFIG_KEY)) throw new CairnError("refused", `${storage.url} already holds a repository (its config exists); not overwriting it`);

  let owner: OwnerKey | undefined;
  let ownerKeyText: string | undefined;
  const haveOwner = opts.ownerKey !== undefined && existsSync(opts.ownerKey);
  const haveWriter = opts.writerKey !== undefined && existsSync(opts.writerKey);
  if (haveOwner) owner = await readOwnerKey(opts.ownerKey!);
  else if (!haveWriter) {
    const made = await createOwnerKey({ pq: opts.pq });
    if (opts.ownerKey) writeKeyFile(opts.ownerKey, made.text, "owner key");
    else ownerKeyText = made.text;
    owner = await parseOwnerKey(made.text, opts.ownerKey ?? "(new owner key)");
  }

  let writerKeyText: string | undefined;
  let writer;
  if (haveWriter) writer = await readWriterKey(opts.writerKey!);
  else {
    const made = createWriterKey(owner!);
    if (opts.writerKey) writeKeyFile(opts.writerKey, made.text, "writer key");
    else writerKeyText = made.text;
    writer = parseWriterKey(made.text, opts.writerKey ?? "(new writer key)");
  }
  if (owner?.idKey && keysetOf(owner.recipients, idKeyFingerprint(owner.idKey)) !== writer.keyset) {
    throw new CairnError("key", "the writer key was not derived from this owner key (their key sets differ)");
  }

  // The repository secrets, readable only with an owner identity: lets an owner who kept only
  // an age identity recover the id key and chunker secret (their fingerprint is in config's keyset).
  const secrets = new TextEncoder().encode(formatRepoSecrets({ idKey: writer.idKey, chunkerSecret: writer.chunkerSecret, keyset: writer.keyset }));
  const session = await newSession(writer.recipients);
  const sealed = sealWithSession(session, secrets);
  const keyId = snapshotIdOf(sealed);
  const config = newConfig({ keyset: writer.keyset, packSize: opts.packSize });
  const result = { config, keyObject: keyId, writerPublicKey: writer.publicKey, ownerKeyText, writerKeyText };
  await opts.beforeCreate?.(result);

  // A folder's root is made here and only here: any other write into a missing root fails.
  await storage.create?.();
  await storage.put(keyObjectKey(keyId), sealed, { ifNoneMatch: true });
  await createConfig(storage, config);
  pinWriter(writer.publicKey, { path: opts.writers, note: `writer of ${storage.url}` });
  return result;
}
export { recoverOwnerKey, type RecoverOptions, type RecoverResult } from "./recover.js";
